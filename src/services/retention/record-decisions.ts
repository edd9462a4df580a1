import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { DAY } from '../../lib/clock.js';
import { newId } from '../../lib/ids.js';
import type { PolicyDefinition } from '../policies/definition.js';
import { budgetMonthOf, reserveBudget } from './budget.js';
import type { Decision, DecisionReason } from './types.js';

/**
 * Turns decisions into intervention rows, one transaction per decision:
 * - the customer is locked (a transaction-scoped advisory lock on account + customer), then the
 *   cooldown is checked again against what is stored now, so two deciders working from older
 *   snapshots cannot both offer the same customer inside the cooldown;
 * - the row is inserted once per (policy, customer, decision time): re-running a decision finds
 *   the first row and changes nothing (a dry-run row may be replaced by the live decision);
 * - a live treatment reserves its expected cost with one conditional UPDATE; if the budget is
 *   gone by then, the insert is rolled back and the customer counted as skipped.
 * Holdout customers get a row too (status 'holdout'), so their outcomes are tracked the same way.
 */

export interface RecordedIntervention {
  id: string;
  account: string;
  customerId: string;
  policyId: string;
  arm: 'treatment' | 'holdout';
  status: 'decided' | 'holdout' | 'dry_run';
}

export interface RecordResult {
  recorded: RecordedIntervention[];
  /** already decided at this time (a re-run) */
  existing: number;
  /** refused at write time: budget gone, or another decision got there first inside the cooldown */
  skipped: { budget: number; cooldown: number };
}

export interface PolicyRef {
  id: string;
  version: number;
  definition: PolicyDefinition;
}

class Skip extends Error {
  constructor(readonly reason: 'budget' | 'cooldown') {
    super(reason);
  }
}

export async function recordDecisions(
  database: Database,
  input: { asOf: number; decisions: Decision[]; policies: Map<string, PolicyRef>; dryRun?: boolean },
): Promise<RecordResult> {
  const result: RecordResult = { recorded: [], existing: 0, skipped: { budget: 0, cooldown: 0 } };
  const month = budgetMonthOf(input.asOf);
  for (const d of input.decisions) {
    if (!d.arm || !d.policyId) continue;
    const policy = input.policies.get(d.policyId);
    if (!policy) throw new Error(`decision names unknown policy ${d.policyId}`);
    const def = policy.definition;
    const live = def.mode === 'live' && !input.dryRun;
    const status = !live ? 'dry_run' : d.arm === 'holdout' ? 'holdout' : 'decided';
    const id = newId('int');
    const c = d.candidate;
    try {
      const inserted = await database.db.transaction(async (tx) => {
        await database.query(sql`select pg_advisory_xact_lock(hashtext(${`${d.account}\u0001${d.customerId}`}))`, tx);
        if (live) {
          const cooldownFrom = input.asOf - def.eligibility.cooldownDays * DAY;
          const [clash] = await database.query<{ n: number }>(
            sql`select count(*)::int as n from interventions
                where account = ${d.account} and customer_id = ${d.customerId} and decided_at > ${cooldownFrom}
                  and not (policy_id = ${policy.id} and decided_at = ${input.asOf})
                  and ((arm = 'treatment' and status in ('decided', 'applying', 'applied'))
                    or (policy_id = ${policy.id} and status in ('decided', 'applying', 'applied', 'holdout')))`,
            tx,
          );
          if (clash!.n > 0) throw new Skip('cooldown');
        }
        const reasons: DecisionReason[] = d.reasons;
        const rows = await database.query<{ id: string; status: string }>(
          sql`insert into interventions (id, account, customer_id, subscription_id, policy_id, policy_version, decided_at, arm, action, params, status,
                probability, band, model_version, uplift_effect, reasons, mrr, currency, expected_cost, budget_month, horizon_days)
              values (${id}, ${d.account}, ${d.customerId}, ${d.subscriptionId}, ${policy.id}, ${policy.version}, ${input.asOf}, ${d.arm}, ${def.action.kind},
                ${JSON.stringify({ cancelAtPeriodEnd: c.cancelAtPeriodEnd })}::jsonb, ${status}, ${c.probability}, ${c.band}, ${c.modelVersion}, ${c.upliftEffect ?? null},
                ${JSON.stringify(reasons)}::jsonb, ${c.mrr}, ${c.currency}, ${d.expectedCost}, ${month}, ${def.horizonDays})
              on conflict (policy_id, account, customer_id, decided_at) do update set
                id = excluded.id, policy_version = excluded.policy_version, arm = excluded.arm, status = excluded.status,
                reasons = excluded.reasons, expected_cost = excluded.expected_cost, probability = excluded.probability,
                band = excluded.band, model_version = excluded.model_version, uplift_effect = excluded.uplift_effect
                where interventions.status = 'dry_run' and excluded.status <> 'dry_run'
              returning id, status`,
          tx,
        );
        if (rows.length === 0) return false;
        if (status === 'decided') {
          const ok = await reserveBudget(database, { policyId: policy.id, month, currency: def.budget.currency, limitAmount: def.budget.monthlyAmount }, d.expectedCost, tx);
          if (!ok) throw new Skip('budget');
        }
        return true;
      });
      if (!inserted) {
        result.existing++;
        continue;
      }
      result.recorded.push({ id, account: d.account, customerId: d.customerId, policyId: policy.id, arm: d.arm, status });
    } catch (err) {
      if (err instanceof Skip) {
        result.skipped[err.reason]++;
        continue;
      }
      throw err;
    }
  }
  return result;
}
