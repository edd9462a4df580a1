import { sql } from 'drizzle-orm';
import { bigint, index, integer, jsonb, pgTable, primaryKey, real, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import type { PolicyDefinition } from '../../services/policies/definition.js';
import type { DecisionReason } from '../../services/retention/types.js';

/**
 * Retention records (names: ../shared/DESIGN.md "Retention records").
 *
 * A policy is versioned: every change inserts a new (id, version) row and never rewrites an old
 * one, so an intervention always points at the exact rules it was decided under.
 */
export const policies = pgTable(
  'policies',
  {
    id: text('id').notNull(),
    version: integer('version').notNull(),
    name: text('name').notNull(),
    /** the whole validated definition (segment, targeting, action, eligibility, budget, holdout, mode) */
    definition: jsonb('definition').$type<PolicyDefinition>().notNull(),
    /** who made this version: api key id, 'cli', 'demo', 'system' */
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.id, t.version] }), index('policies_name_idx').on(t.name)],
);

/**
 * One decision about one customer under one policy version: treated or held out (both are
 * tracked the same way), with the score and the reasons it was made on, what was done through
 * Stripe, what it cost and, once the horizon has passed, what happened.
 *
 * status: decided -> applying -> applied | failed; holdout; dry_run (recorded, nothing called).
 * A decision whose budget ran out between deciding and reserving is not recorded at all (the
 * transaction rolls back; recordDecisions counts it as skipped).
 */
export const interventions = pgTable(
  'interventions',
  {
    id: text('id').primaryKey(),
    account: text('account').notNull(),
    customerId: text('customer_id').notNull(),
    subscriptionId: text('subscription_id'),
    policyId: text('policy_id').notNull(),
    policyVersion: integer('policy_version').notNull(),
    /** decision time, unix seconds (the score's asOf) */
    decidedAt: bigint('decided_at', { mode: 'number' }).notNull(),
    /** 'treatment' | 'holdout' */
    arm: text('arm').notNull(),
    /** coupon | trial_extension | pause | notify */
    action: text('action').notNull(),
    /** action parameters as applied (coupon id, days, resumes_at …) */
    params: jsonb('params').$type<Record<string, unknown>>().notNull().default({}),
    status: text('status').notNull(),
    /** score the decision used */
    probability: real('probability').notNull(),
    band: text('band').notNull(),
    modelVersion: text('model_version'),
    /** estimated incremental effect on churn probability, when uplift targeting decided */
    upliftEffect: real('uplift_effect'),
    /** why (and, for skips, why not) */
    reasons: jsonb('reasons').$type<DecisionReason[]>().notNull().default([]),
    /** MRR at decision time, minor units of `currency` */
    mrr: bigint('mrr', { mode: 'number' }).notNull().default(0),
    currency: text('currency').notNull().default('usd'),
    /** expected cost reserved against the budget at decision time, minor units of the budget currency */
    expectedCost: bigint('expected_cost', { mode: 'number' }).notNull().default(0),
    /** cost of what was really applied, minor units of `currency` */
    cost: bigint('cost', { mode: 'number' }).notNull().default(0),
    /** budget month the cost counts in, 'YYYY-MM' */
    budgetMonth: text('budget_month').notNull(),
    stripeRequestIds: jsonb('stripe_request_ids').$type<string[]>().notNull().default([]),
    error: text('error'),
    appliedAt: bigint('applied_at', { mode: 'number' }),
    horizonDays: integer('horizon_days').notNull().default(30),
    /** 'stayed' | 'churned' once settled */
    outcome: text('outcome'),
    /** 'voluntary' | 'involuntary' when churned */
    churnType: text('churn_type'),
    churnedAt: bigint('churned_at', { mode: 'number' }),
    settledAt: bigint('settled_at', { mode: 'number' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // A re-run of the same decision (same policy, customer and decision time) finds the first row.
    uniqueIndex('interventions_decision_uq').on(t.policyId, t.account, t.customerId, t.decidedAt),
    index('interventions_customer_idx').on(t.account, t.customerId, t.decidedAt),
    index('interventions_policy_idx').on(t.policyId, t.decidedAt),
    index('interventions_unsettled_idx').on(t.decidedAt).where(sql`${t.outcome} is null`),
  ],
);

/**
 * Money reserved and spent per policy and month, in minor units of the policy's budget currency.
 * Reservations are one conditional UPDATE (`reserved + cost <= limit`), so concurrent deciders
 * racing for the last of a budget can never exceed it.
 */
export const policyBudgets = pgTable(
  'policy_budgets',
  {
    policyId: text('policy_id').notNull(),
    month: text('month').notNull(),
    currency: text('currency').notNull(),
    limitAmount: bigint('limit_amount', { mode: 'number' }).notNull(),
    reserved: bigint('reserved', { mode: 'number' }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.policyId, t.month] })],
);

/** One row per decision run (CLI, Inngest or demo): what was decided and why the rest was not. */
export const decisionRuns = pgTable('decision_runs', {
  id: text('id').primaryKey(),
  asOf: bigint('as_of', { mode: 'number' }).notNull(),
  dryRun: integer('dry_run').notNull().default(0),
  /** counts by decision reason code, per policy */
  summary: jsonb('summary').$type<Record<string, unknown>>().notNull(),
  createdBy: text('created_by').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Every change a person or job made, written in the same transaction as the change itself. */
export const auditLog = pgTable(
  'audit_log',
  {
    id: text('id').primaryKey(),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    /** e.g. 'policy', 'api_key', 'model' */
    entityType: text('entity_type').notNull(),
    entityId: text('entity_id').notNull(),
    before: jsonb('before'),
    after: jsonb('after'),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('audit_log_entity_idx').on(t.entityType, t.entityId, t.at)],
);
