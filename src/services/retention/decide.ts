import { DAY } from '../../lib/clock.js';
import type { PolicyDefinition } from '../policies/definition.js';
import { convertMinor, offerCost } from './costs.js';
import { inHoldout } from './holdout.js';
import type { Decision, DecisionCandidate, DecisionReason, DecisionReasonCode } from './types.js';

/**
 * The decision function: for every scored customer, which policy applies and why, or why not.
 * Pure: everything it needs (scores and facts, prior offers, budget left, effect estimates) is
 * passed in, so it can be replayed, simulated and tested without a database or Stripe.
 *
 * Rules, in order:
 * 1. Policies are tried by priority (highest first, ties by id); a customer goes to the first
 *    policy that targets them and for which they are eligible.
 * 2. A policy's segment filters customers; its targeting then picks among them: a probability
 *    threshold, the riskiest k % of the segment, or (uplift) those whose expected incremental
 *    saved value (effect × MRR × months kept) exceeds the offer's cost, never those predicted to
 *    be harmed; an uplift policy without a trusted effect model falls back to a threshold.
 * 3. Eligibility: not cancelling (unless the policy says so), not already discounted (unless
 *    allowed), no offer from any policy inside the cooldown, no decision by this policy inside
 *    the cooldown (so a held-out customer stays held out), fewer than N offers in 365 days, and
 *    an offer that costs no more than the whole monthly budget (in neither arm otherwise).
 * 4. Targeted, eligible customers are taken in ranking order (risk, or net value for uplift);
 *    each is held out or treated by a deterministic hash. Only the treated consume budget; once
 *    the next treated customer's expected cost does not fit what is left, everyone ranked below
 *    is skipped in both arms, so the two arms come from the same ranked prefix.
 */

export interface PolicyForDecision {
  id: string;
  version: number;
  definition: PolicyDefinition;
}

export interface PriorOffers {
  /** treated offers (any policy) at these times, unix seconds */
  offeredAt: number[];
  /** decisions (either arm) by policy id: latest decision time */
  decidedByPolicy: Map<string, number>;
}

export interface DecideInput {
  asOf: number;
  policies: PolicyForDecision[];
  candidates: DecisionCandidate[];
  /** by customer key (`account \u0001 customerId`) */
  history: Map<string, PriorOffers>;
  /** budget left this month by policy id, minor units of the policy's budget currency */
  budgetLeft: Map<string, number>;
  /**
   * predicted incremental effect (holdout churn − treated churn) by policy id, then customer key;
   * present only for uplift policies whose effect model is trusted
   */
  effects?: Map<string, Map<string, number>>;
  /** force dry-run for every policy */
  dryRun?: boolean;
}

export interface PolicyDecisionSummary {
  policyId: string;
  policyVersion: number;
  name: string;
  mode: 'dry_run' | 'live';
  targeting: string;
  treated: number;
  holdout: number;
  expectedCost: number;
  currency: string;
  budgetLeftBefore: number;
  /** how many customers were stopped by each reason (a customer counts once per policy) */
  reasons: Partial<Record<DecisionReasonCode, number>>;
  /** the uplift policy is still on risk targeting (not enough outcomes yet) */
  upliftFallback: boolean;
}

export interface DecideResult {
  asOf: number;
  decisions: Decision[];
  policies: PolicyDecisionSummary[];
  /** customers no policy took */
  unmatched: number;
}

export const customerKey = (account: string, customerId: string) => `${account}\u0001${customerId}`;

const pct = (p: number) => `${(p * 100).toFixed(1)}%`;

function inSegment(c: DecisionCandidate, d: PolicyDefinition, budgetCurrency: string): string | null {
  const s = d.segment;
  if (s.accounts.length && !s.accounts.includes(c.account)) return `account ${c.account} not in the segment`;
  if (s.products.length && !c.productIds.some((p) => s.products.includes(p))) return 'product not in the segment';
  if (s.prices.length && !c.priceIds.some((p) => s.prices.includes(p))) return 'price not in the segment';
  if (s.bands.length && !s.bands.includes(c.band)) return `risk band ${c.band} not in the segment`;
  if (s.mrrMin !== undefined || s.mrrMax !== undefined) {
    const mrr = convertMinor(c.mrr, c.currency, budgetCurrency);
    if (s.mrrMin !== undefined && mrr < s.mrrMin) return `MRR ${mrr} below ${s.mrrMin}`;
    if (s.mrrMax !== undefined && mrr > s.mrrMax) return `MRR ${mrr} above ${s.mrrMax}`;
  }
  if (s.tenureDaysMin !== undefined && c.tenureDays < s.tenureDaysMin) return `tenure ${Math.round(c.tenureDays)} days below ${s.tenureDaysMin}`;
  if (s.tenureDaysMax !== undefined && c.tenureDays > s.tenureDaysMax) return `tenure ${Math.round(c.tenureDays)} days above ${s.tenureDaysMax}`;
  if (s.churnType === 'involuntary' && !c.involuntaryRisk) return 'no sign of involuntary churn';
  if (s.churnType === 'voluntary' && c.involuntaryRisk) return 'heading for involuntary churn (payment trouble)';
  return null;
}

function ineligible(c: DecisionCandidate, p: PolicyForDecision, prior: PriorOffers | undefined, asOf: number): DecisionReason | null {
  const e = p.definition.eligibility;
  if (!c.subscriptionId) return { code: 'no_subscription', detail: 'no live subscription to act on' };
  if (c.subscriptionStatus === 'canceled' || c.subscriptionStatus === 'incomplete_expired') return { code: 'canceled', detail: 'subscription already ended' };
  if (c.cancelAtPeriodEnd && !e.includeCancelling) return { code: 'cancelling', detail: 'already set to cancel; the policy does not include cancelling customers' };
  if (c.discounted && e.skipIfDiscounted) return { code: 'already_discounted', detail: 'already has an active discount' };
  if (prior) {
    const cooldown = e.cooldownDays * DAY;
    const last = prior.offeredAt.reduce((m, t) => (t <= asOf && t > m ? t : m), 0);
    if (last > 0 && asOf - last < cooldown) return { code: 'cooldown', detail: `offered ${Math.floor((asOf - last) / DAY)} days ago; cooldown ${e.cooldownDays} days` };
    const decided = prior.decidedByPolicy.get(p.id);
    if (decided !== undefined && decided <= asOf && asOf - decided < cooldown) {
      return { code: 'cooldown', detail: `decided by this policy ${Math.floor((asOf - decided) / DAY)} days ago; cooldown ${e.cooldownDays} days` };
    }
    const year = prior.offeredAt.filter((t) => t <= asOf && asOf - t < 365 * DAY).length;
    if (year >= e.maxOffersPerYear) return { code: 'yearly_cap', detail: `${year} offers in the last 365 days; cap ${e.maxOffersPerYear}` };
  }
  return null;
}

interface Ranked {
  index: number;
  score: number;
  cost: number;
  effect?: number;
  why: DecisionReason;
}

/** Net value of treating: effect × MRR × months kept − cost, in the budget currency. */
export function upliftNetValue(effect: number, mrrInBudgetCurrency: number, monthsKept: number, cost: number): number {
  return effect * mrrInBudgetCurrency * monthsKept - cost;
}

export function decide(input: DecideInput): DecideResult {
  const { asOf, candidates } = input;
  const policies = [...input.policies].filter((p) => p.definition.enabled).sort((a, b) => b.definition.priority - a.definition.priority || a.id.localeCompare(b.id));
  const taken = new Uint8Array(candidates.length);
  const decisions: (Decision | undefined)[] = new Array(candidates.length);
  const notes: DecisionReason[][] = candidates.map(() => []);
  const summaries: PolicyDecisionSummary[] = [];

  for (const policy of policies) {
    const d = policy.definition;
    const currency = d.budget.currency;
    const effects = d.targeting.kind === 'uplift' ? input.effects?.get(policy.id) : undefined;
    const fallback = d.targeting.kind === 'uplift' && !effects;
    const reasons: Partial<Record<DecisionReasonCode, number>> = {};
    const stop = (i: number, reason: DecisionReason) => {
      reasons[reason.code] = (reasons[reason.code] ?? 0) + 1;
      notes[i]!.push({ code: reason.code, detail: `${d.name}: ${reason.detail}` });
    };

    // Segment first: top-k % is a share of the segment, before eligibility.
    const segment: number[] = [];
    for (let i = 0; i < candidates.length; i++) {
      if (taken[i]) continue;
      const why = inSegment(candidates[i]!, d, currency);
      if (why) stop(i, { code: 'outside_segment', detail: why });
      else segment.push(i);
    }

    let targeted: Ranked[] = [];
    const costOf = (c: DecisionCandidate) => convertMinor(offerCost(d.action, c), c.currency, currency);
    if (d.targeting.kind === 'top_percent') {
      const bySegmentRisk = [...segment].sort((a, b) => candidates[b]!.probability - candidates[a]!.probability || a - b);
      const percent = d.targeting.percent;
      const keep = Math.ceil((bySegmentRisk.length * percent) / 100);
      bySegmentRisk.forEach((i, rank) => {
        const c = candidates[i]!;
        if (rank < keep) targeted.push({ index: i, score: c.probability, cost: costOf(c), why: { code: 'matched', detail: `${d.name}: among the riskiest ${percent}% (rank ${rank + 1} of ${bySegmentRisk.length})` } });
        else stop(i, { code: 'not_in_top_percent', detail: `rank ${rank + 1} of ${bySegmentRisk.length} by risk` });
      });
    } else if (d.targeting.kind === 'threshold' || fallback) {
      const min = d.targeting.kind === 'threshold' ? d.targeting.minProbability : (d.targeting as { fallbackMinProbability: number }).fallbackMinProbability;
      for (const i of segment) {
        const c = candidates[i]!;
        const cost = costOf(c);
        if (c.probability >= min) {
          const detail = `${d.name}: probability ${pct(c.probability)} >= ${pct(min)}${fallback ? ' (uplift policy on risk targeting until enough outcomes are settled)' : ''}`;
          targeted.push({ index: i, score: c.probability, cost, why: { code: fallback ? 'uplift_fallback_risk' : 'matched', detail } });
        } else stop(i, { code: 'below_threshold', detail: `probability ${pct(c.probability)} < ${pct(min)}` });
      }
    } else {
      for (const i of segment) {
        const c = candidates[i]!;
        const effect = effects!.get(customerKey(c.account, c.customerId));
        if (effect === undefined) {
          stop(i, { code: 'uplift_not_worth_cost', detail: 'no effect estimate for this customer' });
          continue;
        }
        const cost = costOf(c);
        if (effect <= 0) {
          stop(i, { code: 'uplift_harmful', detail: `predicted effect ${(effect * 100).toFixed(1)} points: an offer would not help or would hurt` });
          continue;
        }
        const net = upliftNetValue(effect, convertMinor(c.mrr, c.currency, currency), d.monthsKept, cost);
        if (net <= 0) {
          stop(i, { code: 'uplift_not_worth_cost', detail: `expected saved value does not cover the cost (net ${Math.round(net)})` });
          continue;
        }
        targeted.push({ index: i, score: net, cost, effect, why: { code: 'matched', detail: `${d.name}: offer expected to cut churn by ${(effect * 100).toFixed(1)} points, net value ${Math.round(net)} ${currency} minor units` } });
      }
    }

    // Eligibility, then rank, then arms and budget.
    targeted = targeted.filter((t) => {
      const c = candidates[t.index]!;
      const why =
        ineligible(c, policy, input.history.get(customerKey(c.account, c.customerId)), asOf) ??
        // an offer no month's budget could pay (a percentage coupon on a large annual invoice)
        // is left out of both arms here, before the arms are drawn, instead of stopping the
        // ranking for everyone below it
        (t.cost > d.budget.monthlyAmount
          ? { code: 'offer_over_budget' as const, detail: `this offer alone costs ${t.cost}, more than the whole monthly budget of ${d.budget.monthlyAmount} ${currency} minor units` }
          : null);
      if (why) stop(t.index, why);
      return !why;
    });
    targeted.sort((a, b) => b.score - a.score || a.index - b.index);

    const live = d.mode === 'live' && !input.dryRun;
    const budgetBefore = input.budgetLeft.get(policy.id) ?? d.budget.monthlyAmount;
    let left = budgetBefore;
    let exhausted = false;
    let treated = 0;
    let holdout = 0;
    let spent = 0;
    for (const t of targeted) {
      const c = candidates[t.index]!;
      if (exhausted) {
        stop(t.index, { code: 'budget_exhausted', detail: 'the monthly budget ran out above this customer in the ranking' });
        continue;
      }
      const held = inHoldout(c.account, c.customerId, policy.id, d.holdoutPercent);
      if (!held && t.cost > left) {
        exhausted = true;
        stop(t.index, { code: 'budget_exhausted', detail: `expected cost ${t.cost} exceeds the ${left} left this month` });
        continue;
      }
      taken[t.index] = 1;
      const reasons: DecisionReason[] = [t.why];
      if (held) {
        holdout++;
        reasons.push({ code: 'in_holdout', detail: `${d.name}: held out (${d.holdoutPercent}% holdout) to measure the offer's effect` });
      } else {
        treated++;
        left -= t.cost;
        spent += t.cost;
        reasons.push({ code: 'treated', detail: `${d.name}: ${d.action.kind.replace('_', ' ')}, expected cost ${t.cost} ${currency} minor units${live ? '' : ' (dry run)'}` });
      }
      decisions[t.index] = {
        account: c.account,
        customerId: c.customerId,
        subscriptionId: c.subscriptionId,
        policyId: policy.id,
        policyVersion: policy.version,
        arm: held ? 'holdout' : 'treatment',
        expectedCost: held ? 0 : t.cost,
        reasons,
        candidate: t.effect === undefined ? c : { ...c, upliftEffect: t.effect },
      };
    }
    summaries.push({
      policyId: policy.id,
      policyVersion: policy.version,
      name: d.name,
      mode: live ? 'live' : 'dry_run',
      targeting: fallback ? 'uplift (risk fallback)' : d.targeting.kind,
      treated,
      holdout,
      expectedCost: spent,
      currency,
      budgetLeftBefore: budgetBefore,
      reasons,
      upliftFallback: fallback,
    });
  }

  let unmatched = 0;
  const out: Decision[] = candidates.map((c, i) => {
    const decided = decisions[i];
    if (decided) return { ...decided, reasons: [...notes[i]!, ...decided.reasons] };
    unmatched++;
    const reasons = notes[i]!.length ? notes[i]! : [{ code: 'no_policy_matched' as const, detail: policies.length ? 'no policy matched' : 'no enabled policy' }];
    return { account: c.account, customerId: c.customerId, subscriptionId: c.subscriptionId, policyId: null, policyVersion: null, arm: null, expectedCost: 0, reasons, candidate: c };
  });
  return { asOf, decisions: out, policies: summaries, unmatched };
}
