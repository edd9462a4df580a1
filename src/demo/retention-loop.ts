import type Stripe from 'stripe';
import { sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import type { ChurnModel } from '../ml/model.js';
import { ingestEvents } from '../services/events/ingest.js';
import type { StripeEventEnvelope } from '../services/events/parse.js';
import type { PolicyDefinition } from '../services/policies/definition.js';
import { applyIntervention } from '../services/retention/apply-intervention.js';
import { loadCandidates, loadPriorOffers } from '../services/retention/candidates.js';
import { convertMinor, offerCost } from '../services/retention/costs.js';
import { customerKey, decide, type PolicyForDecision } from '../services/retention/decide.js';
import { decideRetention, type EffectEstimator } from '../services/retention/decide-retention.js';
import { settleOutcomes } from '../services/retention/outcomes.js';
import { createAccountThrottle } from '../services/retention/throttle.js';
import { scoreAllCustomers } from '../services/scoring/score-all-customers.js';
import { reconcileStripeEvents } from '../services/sync/reconcile.js';
import { storeActionLookup, storeEventSink, type StripeSandbox } from '../simulator/sandbox/index.js';
import type { EventSink, TruthRecord, World } from '../simulator/world/index.js';

/**
 * The retention loop run against the simulator, shared by the demo and training/uplift-eval.ts:
 * at each month end score everyone, decide with the stored policies (treated and held out), apply
 * the offers through the local Stripe API with the real SDK, let the world live a month (it reacts
 * to what is on each subscription), bring its events in, settle the outcomes that are due.
 *
 * The world's truth at each decision time is kept beside the product's own records, only to
 * judge them: the product never reads it.
 */

export interface LoopContext {
  database: Database;
  world: World;
  sandbox: StripeSandbox;
  stripe: Stripe;
  model: ChurnModel;
  estimateEffects?: EffectEstimator;
  /** requests per second per account for the batch apply path */
  stripeRatePerSecond?: number;
  say?: (line: string) => void;
}

/** What the simulator says about one decided customer at decision time (for judging only). */
export interface TruthAtDecision {
  interventionId: string;
  arm: 'treatment' | 'holdout';
  policyId: string;
  action: string;
  /** p30 without any treatment minus p30 with this policy's action, at decision time */
  trueEffect: number;
}

export interface RoundSummary {
  asOf: number;
  treated: number;
  held: number;
  applied: number;
  failed: number;
  settled: number;
}

const truthKey = (t: TruthRecord) => customerKey(t.account ?? 'platform', t.customer);

/** The counterfactual p30 for an action kind. */
export function p30IfAction(t: TruthRecord, action: string): number {
  if (action === 'coupon') return t.p30IfCoupon;
  if (action === 'trial_extension') return t.p30IfTrialExtension;
  if (action === 'pause') return t.p30IfPause;
  return t.p30NoTreatment;
}

function collector(): EventSink & { events: StripeEventEnvelope[] } {
  const events: StripeEventEnvelope[] = [];
  return {
    events,
    write(event) {
      events.push(event as unknown as StripeEventEnvelope);
    },
  };
}

/** One month of the world into the sandbox and the database; the product's own mutations come back through reconcile. */
export async function liveOneMonth(ctx: LoopContext): Promise<void> {
  const actions = storeActionLookup(ctx.sandbox.store);
  const collected = collector();
  const storeSink = storeEventSink(ctx.sandbox.store);
  await ctx.world.advanceMonth(
    {
      write(event) {
        storeSink.write(event);
        collected.write(event);
      },
    },
    actions,
  );
  await ingestEvents(ctx.database, collected.events, { source: 'ingest', batchSize: 2000 });
  ctx.sandbox.store.setNow(ctx.world.now());
  // The subscription updates the product made (coupons, trial ends, pauses) are Stripe events too.
  await reconcileStripeEvents({ database: ctx.database, stripe: ctx.stripe, now: ctx.world.now(), overlapSeconds: 32 * 86_400 });
}

/** Decide and apply at the world's current month end; returns the judged truth for every decided customer. */
export async function actAtMonthEnd(ctx: LoopContext): Promise<{ round: RoundSummary; truth: TruthAtDecision[] }> {
  const asOf = ctx.world.now();
  ctx.sandbox.store.setNow(asOf);
  const truthByKey = new Map(ctx.world.truthAt().map((t) => [truthKey(t), t]));
  const result = await decideRetention(ctx.database, { asOf, model: ctx.model, actor: 'demo', estimateEffects: ctx.estimateEffects });
  const recorded = result.recorded!.recorded;
  const throttle = createAccountThrottle({ perSecond: ctx.stripeRatePerSecond ?? 25 });
  const knownCoupons = new Set<string>();
  let applied = 0;
  let failed = 0;
  for (const r of recorded) {
    if (r.status !== 'decided') continue;
    try {
      await applyIntervention({ database: ctx.database, stripe: ctx.stripe, now: asOf, interventionId: r.id, throttle, knownCoupons });
      applied++;
    } catch (err) {
      failed++;
      ctx.say?.(`   could not apply ${r.id}: ${(err as Error).message}`);
    }
  }
  const actions = new Map(result.decided.policies.map((p) => [p.policyId, p]));
  const rows = await ctx.database.query<{ id: string; action: string }>(sql`select id, action from interventions where decided_at = ${asOf}`);
  const actionOf = new Map(rows.map((r) => [r.id, r.action]));
  const truth: TruthAtDecision[] = [];
  for (const r of recorded) {
    const t = truthByKey.get(customerKey(r.account, r.customerId));
    if (!t || !actions.has(r.policyId)) continue;
    const action = actionOf.get(r.id) ?? 'coupon';
    truth.push({ interventionId: r.id, arm: r.arm, policyId: r.policyId, action, trueEffect: t.p30NoTreatment - p30IfAction(t, action) });
  }
  const treated = recorded.filter((r) => r.arm === 'treatment').length;
  return { round: { asOf, treated, held: recorded.length - treated, applied, failed, settled: 0 }, truth };
}

export interface TargetingComparison {
  budget: number;
  currency: string;
  risk: { chosen: number; trueNetValue: number; cost: number };
  uplift: { chosen: number; trueNetValue: number; cost: number } | null;
}

/**
 * UPLIFT.md "Judging against the simulator": at equal budget, rank the same eligible customers by
 * risk and by estimated net value, take them in order until the expected cost reaches the budget,
 * and value each choice on the world's true counterfactuals.
 */
export async function compareTargeting(
  ctx: LoopContext,
  policy: { id: string; version: number; definition: PolicyDefinition },
  budget: number,
): Promise<TargetingComparison> {
  const asOf = ctx.world.now();
  const truthByKey = new Map(ctx.world.truthAt().map((t) => [truthKey(t), t]));
  const scored = await scoreAllCustomers(ctx.database, { asOf, model: ctx.model, store: false });
  const candidates = await loadCandidates(ctx.database, { asOf, scored: scored.customers, modelVersion: scored.modelVersion });
  const history = await loadPriorOffers(ctx.database, asOf);
  const d = policy.definition;
  const base = { ...d, mode: 'live' as const, holdoutPercent: 0, budget: { ...d.budget, monthlyAmount: budget } };
  const asRisk: PolicyForDecision = { id: policy.id, version: policy.version, definition: { ...base, targeting: { kind: 'threshold', minProbability: 1e-6 } } };
  const asUplift: PolicyForDecision = { id: policy.id, version: policy.version, definition: { ...base, targeting: { kind: 'uplift', fallbackMinProbability: 1e-6, minOutcomesPerArm: 20 } } };
  const value = (policyForDecision: PolicyForDecision, effects?: Map<string, Map<string, number>>) => {
    const decided = decide({ asOf, policies: [policyForDecision], candidates: candidates.candidates, history, budgetLeft: new Map([[policy.id, budget]]), effects });
    let trueNetValue = 0;
    let cost = 0;
    let chosen = 0;
    for (const x of decided.decisions) {
      if (x.arm !== 'treatment') continue;
      const t = truthByKey.get(customerKey(x.account, x.customerId));
      if (!t) continue;
      const c = x.candidate;
      const offer = convertMinor(offerCost(d.action, c), c.currency, d.budget.currency);
      const mrr = convertMinor(c.mrr, c.currency, d.budget.currency);
      trueNetValue += (t.p30NoTreatment - p30IfAction(t, d.action.kind)) * mrr * d.monthsKept - offer;
      cost += offer;
      chosen++;
    }
    return { chosen, trueNetValue: Math.round(trueNetValue), cost };
  };
  const risk = value(asRisk);
  const effects = ctx.estimateEffects ? await ctx.estimateEffects({ database: ctx.database, asOf, policies: [{ ...asUplift, definition: { ...asUplift.definition, targeting: d.targeting.kind === 'uplift' ? d.targeting : asUplift.definition.targeting } }], candidates }) : undefined;
  const uplift = effects?.get(policy.id) ? value(asUplift, effects) : null;
  return { budget, currency: d.budget.currency, risk, uplift };
}

/** Settles whatever is due at the world's clock. */
export async function settleDue(ctx: LoopContext): Promise<number> {
  return (await settleOutcomes(ctx.database, { now: ctx.world.now() })).settled;
}
