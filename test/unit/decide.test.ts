import { describe, expect, it } from 'vitest';
import { DAY } from '../../src/lib/clock.js';
import { parsePolicyDefinition, type PolicyDefinition, type PolicyInput } from '../../src/services/policies/definition.js';
import { couponMonthsCovered, offerCost } from '../../src/services/retention/costs.js';
import { customerKey, decide, type PolicyForDecision, type PriorOffers } from '../../src/services/retention/decide.js';
import { holdoutDraw, inHoldout } from '../../src/services/retention/holdout.js';
import type { DecisionCandidate } from '../../src/services/retention/types.js';

const T = 1_790_000_000;

function policy(id: string, input: Partial<PolicyInput> = {}): PolicyForDecision {
  const parsed = parsePolicyDefinition({
    name: id,
    mode: 'live',
    targeting: { kind: 'threshold', minProbability: 0.2 },
    action: { kind: 'coupon', percentOff: 20, duration: 'repeating', durationInMonths: 3 },
    budget: { monthlyAmount: 1_000_000, currency: 'usd' },
    holdoutPercent: 0,
    ...input,
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return { id, version: 1, definition: parsed.policy };
}

function candidate(i: number, over: Partial<DecisionCandidate> = {}): DecisionCandidate {
  return {
    account: 'platform',
    customerId: `cus_${i}`,
    subscriptionId: `sub_${i}`,
    subscriptionStatus: 'active',
    probability: 0.5,
    band: 'critical',
    modelVersion: 'v1',
    mrr: 10_000,
    currency: 'usd',
    intervalMonths: 1,
    productIds: ['prod_team'],
    priceIds: ['price_team_m'],
    tenureDays: 200,
    cancelAtPeriodEnd: false,
    discounted: false,
    involuntaryRisk: false,
    ...over,
  };
}

const run = (policies: PolicyForDecision[], candidates: DecisionCandidate[], extra: { history?: Map<string, PriorOffers>; budgetLeft?: Map<string, number>; effects?: Map<string, Map<string, number>> } = {}) =>
  decide({ asOf: T, policies, candidates, history: extra.history ?? new Map(), budgetLeft: extra.budgetLeft ?? new Map(), effects: extra.effects });

const codes = (reasons: { code: string }[]) => reasons.map((r) => r.code);

describe('policy definition', () => {
  it('names the failing field of an invalid policy', () => {
    const bad = parsePolicyDefinition({
      name: 'x',
      targeting: { kind: 'threshold', minProbability: 1.5 },
      action: { kind: 'coupon', percentOff: 20, duration: 'repeating' },
      budget: { monthlyAmount: -5 },
      holdoutPercent: 120,
    });
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    const paths = bad.issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['targeting.minProbability', 'action.durationInMonths', 'budget.monthlyAmount', 'holdoutPercent']));
  });

  it('refuses unknown fields and fractional money', () => {
    const bad = parsePolicyDefinition({ name: 'x', targeting: { kind: 'threshold', minProbability: 0.2 }, action: { kind: 'pause', days: 30 }, budget: { monthlyAmount: 10.5 }, colour: 'red' });
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.issues.map((i) => i.path)).toEqual(expect.arrayContaining(['budget.monthlyAmount', '(policy)']));
  });
});

describe('offer cost', () => {
  it('counts a coupon over the invoices it covers, and pauses and trial extensions as MRR not billed', () => {
    const coupon = (p: Partial<PolicyDefinition['action']>) => ({ kind: 'coupon', percentOff: 25, duration: 'once', ...p }) as Extract<PolicyDefinition['action'], { kind: 'coupon' }>;
    expect(offerCost(coupon({}), { mrr: 10_000, currency: 'usd', intervalMonths: 1 })).toBe(2_500);
    expect(offerCost(coupon({ duration: 'repeating', durationInMonths: 3 }), { mrr: 10_000, currency: 'usd', intervalMonths: 1 })).toBe(7_500);
    // annual plan: one invoice covers 12 months, so even a 3-month coupon discounts a whole year
    expect(couponMonthsCovered(coupon({ duration: 'repeating', durationInMonths: 3 }), 12)).toBe(12);
    expect(offerCost(coupon({ duration: 'forever' }), { mrr: 1_000, currency: 'usd', intervalMonths: 1 })).toBe(3_000);
    expect(offerCost({ kind: 'pause', days: 30 }, { mrr: 60_875, currency: 'usd', intervalMonths: 1 })).toBe(60_000);
    expect(offerCost({ kind: 'trial_extension', days: 14 }, { mrr: 0, currency: 'usd', intervalMonths: 1 })).toBe(0);
    expect(offerCost({ kind: 'notify', url: 'https://example.com/hook' }, { mrr: 10_000, currency: 'usd', intervalMonths: 1 })).toBe(0);
    // amount off never exceeds the invoice
    expect(offerCost(coupon({ percentOff: undefined, amountOff: 50_000, currency: 'usd' }), { mrr: 10_000, currency: 'usd', intervalMonths: 1 })).toBe(10_000);
  });
});

describe('holdout assignment', () => {
  it('is deterministic per customer and policy and close to the asked share', () => {
    expect(holdoutDraw('platform', 'cus_1', 'pol_a')).toBe(holdoutDraw('platform', 'cus_1', 'pol_a'));
    expect(holdoutDraw('platform', 'cus_1', 'pol_a')).not.toBe(holdoutDraw('platform', 'cus_1', 'pol_b'));
    let held = 0;
    for (let i = 0; i < 20_000; i++) if (inHoldout('platform', `cus_${i}`, 'pol_a', 20)) held++;
    expect(held / 20_000).toBeGreaterThan(0.19);
    expect(held / 20_000).toBeLessThan(0.21);
  });
});

describe('decide', () => {
  it('says why each customer is or is not targeted', () => {
    const history = new Map<string, PriorOffers>([
      [customerKey('platform', 'cus_3'), { offeredAt: [T - 10 * DAY], decidedByPolicy: new Map() }],
      [customerKey('platform', 'cus_4'), { offeredAt: [T - 300 * DAY, T - 200 * DAY], decidedByPolicy: new Map() }],
    ]);
    const p = policy('pol_a', { eligibility: { cooldownDays: 90, maxOffersPerYear: 2 } });
    const result = run(
      [p],
      [
        candidate(0),
        candidate(1, { probability: 0.1, band: 'medium' }),
        candidate(2, { discounted: true }),
        candidate(3),
        candidate(4),
        candidate(5, { cancelAtPeriodEnd: true }),
        candidate(6, { subscriptionId: null }),
      ],
      { history },
    );
    const byCustomer = new Map(result.decisions.map((d) => [d.customerId, d]));
    expect(byCustomer.get('cus_0')!.arm).toBe('treatment');
    expect(codes(byCustomer.get('cus_1')!.reasons)).toContain('below_threshold');
    expect(codes(byCustomer.get('cus_2')!.reasons)).toContain('already_discounted');
    expect(codes(byCustomer.get('cus_3')!.reasons)).toContain('cooldown');
    expect(codes(byCustomer.get('cus_4')!.reasons)).toContain('yearly_cap');
    expect(codes(byCustomer.get('cus_5')!.reasons)).toContain('cancelling');
    expect(codes(byCustomer.get('cus_6')!.reasons)).toContain('no_subscription');
    expect(result.policies[0]!.treated).toBe(1);
    expect(result.policies[0]!.expectedCost).toBe(6_000);
  });

  it('stops both arms at the same point in the ranking when the budget runs out, and never exceeds it', () => {
    const p = policy('pol_b', { holdoutPercent: 30, budget: { monthlyAmount: 60_000, currency: 'usd' } });
    const cands = Array.from({ length: 200 }, (_, i) => candidate(i, { probability: 0.9 - i * 0.003 }));
    const result = run([p], cands);
    const treated = result.decisions.filter((d) => d.arm === 'treatment');
    const held = result.decisions.filter((d) => d.arm === 'holdout');
    const spent = treated.reduce((s, d) => s + d.expectedCost, 0);
    expect(spent).toBeLessThanOrEqual(60_000);
    expect(treated).toHaveLength(10); // 6,000 each
    const lowestTreated = Math.min(...treated.map((d) => d.candidate.probability));
    // no held-out customer below the last treated one (bar those held out right after it, before the stop)
    const firstSkipped = Math.max(...result.decisions.filter((d) => codes(d.reasons).includes('budget_exhausted')).map((d) => d.candidate.probability));
    expect(firstSkipped).toBeLessThan(lowestTreated);
    expect(held.every((d) => d.candidate.probability > firstSkipped)).toBe(true);
    expect(held.length).toBeGreaterThan(0);
  });

  it('leaves out of both arms an offer that alone costs more than the whole monthly budget, and goes on down the ranking', () => {
    // 20 % for 3 months: 6,000 on a monthly invoice; on an annual one (12 months billed at once) 24,000
    const p = policy('pol_annual', { holdoutPercent: 30, budget: { monthlyAmount: 20_000, currency: 'usd' } });
    const annual = candidate(0, { probability: 0.95, intervalMonths: 12 });
    const monthly = Array.from({ length: 20 }, (_, i) => candidate(i + 1, { probability: 0.9 - i * 0.01 }));
    const result = run([p], [annual, ...monthly]);
    const byCustomer = new Map(result.decisions.map((d) => [d.customerId, d]));
    const top = byCustomer.get('cus_0')!;
    expect(top.arm).toBeNull();
    expect(codes(top.reasons)).toContain('offer_over_budget');
    expect(codes(top.reasons)).not.toContain('budget_exhausted');
    const treated = result.decisions.filter((d) => d.arm === 'treatment');
    expect(treated.length).toBe(3); // 3 x 6,000 fit in 20,000
    expect(treated.reduce((s, d) => s + d.expectedCost, 0)).toBeLessThanOrEqual(20_000);
    expect(result.policies[0]!.reasons.offer_over_budget).toBe(1);
  });

  it('gives a customer to the highest-priority policy and tells the others', () => {
    const high = policy('pol_high', { priority: 500, action: { kind: 'pause', days: 30 } });
    const low = policy('pol_low', { priority: 10 });
    const result = run([low, high], [candidate(0)]);
    expect(result.decisions[0]!.policyId).toBe('pol_high');
    expect(result.policies.find((s) => s.policyId === 'pol_low')!.treated).toBe(0);
  });

  it('top k % takes the riskiest share of the segment', () => {
    const p = policy('pol_top', { targeting: { kind: 'top_percent', percent: 10 } });
    const cands = Array.from({ length: 100 }, (_, i) => candidate(i, { probability: i / 100 }));
    const result = run([p], cands);
    const chosen = result.decisions.filter((d) => d.arm).map((d) => d.candidate.probability);
    expect(chosen).toHaveLength(10);
    expect(Math.min(...chosen)).toBeCloseTo(0.9);
  });

  it('segments on product, MRR, tenure, account, band and churn type', () => {
    const p = policy('pol_seg', {
      segment: { products: ['prod_team'], mrrMin: 5_000, mrrMax: 50_000, tenureDaysMin: 30, accounts: ['platform'], churnType: 'voluntary', bands: ['high', 'critical'] },
    });
    const result = run(
      [p],
      [
        candidate(0),
        candidate(1, { productIds: ['prod_starter'] }),
        candidate(2, { mrr: 1_000 }),
        candidate(3, { tenureDays: 5 }),
        candidate(4, { account: 'acct_other' }),
        candidate(5, { involuntaryRisk: true }),
        candidate(6, { band: 'medium', probability: 0.21 }),
      ],
    );
    expect(result.decisions.filter((d) => d.arm).map((d) => d.customerId)).toEqual(['cus_0']);
    expect(result.decisions.slice(1).every((d) => codes(d.reasons).includes('outside_segment'))).toBe(true);
  });

  it('uplift targeting takes customers whose saved value beats the cost, never the harmed, and falls back to risk without a model', () => {
    const p = policy('pol_up', { targeting: { kind: 'uplift', fallbackMinProbability: 0.3 }, monthsKept: 6 });
    const cands = [candidate(0, { probability: 0.9 }), candidate(1, { probability: 0.2 }), candidate(2, { probability: 0.6 }), candidate(3, { probability: 0.4 })];
    const effects = new Map([
      [
        'pol_up',
        new Map([
          [customerKey('platform', 'cus_0'), 0.01], // risky but barely moved: 0.01 × 10,000 × 6 = 600 < 6,000
          [customerKey('platform', 'cus_1'), 0.3], // low risk, very persuadable: 18,000 > 6,000
          [customerKey('platform', 'cus_2'), -0.05], // harmed
          [customerKey('platform', 'cus_3'), 0.2],
        ]),
      ],
    ]);
    const withModel = run([p], cands, { effects });
    expect(withModel.decisions.filter((d) => d.arm).map((d) => d.customerId)).toEqual(['cus_1', 'cus_3']);
    expect(codes(withModel.decisions[2]!.reasons)).toContain('uplift_harmful');
    expect(codes(withModel.decisions[0]!.reasons)).toContain('uplift_not_worth_cost');
    const fallback = run([p], cands);
    expect(fallback.policies[0]!.upliftFallback).toBe(true);
    expect(fallback.decisions.filter((d) => d.arm).map((d) => d.customerId).sort()).toEqual(['cus_0', 'cus_2', 'cus_3']);
  });

  it('gives every one of 20,000 customers exactly one decision across overlapping policies', () => {
    const cands = Array.from({ length: 20_000 }, (_, i) => candidate(i, { probability: (i % 100) / 100 }));
    const result = run([policy('pol_a', { holdoutPercent: 20 }), policy('pol_b', { priority: 50, action: { kind: 'pause', days: 30 } })], cands);
    expect(result.decisions).toHaveLength(20_000);
    const byPolicy = (id: string) => result.decisions.filter((d) => d.policyId === id).length;
    const summary = (id: string) => result.policies.find((s) => s.policyId === id)!;
    expect(byPolicy('pol_a')).toBe(summary('pol_a').treated + summary('pol_a').holdout);
    expect(byPolicy('pol_b')).toBe(summary('pol_b').treated + summary('pol_b').holdout);
    expect(byPolicy('pol_a') + byPolicy('pol_b') + result.unmatched).toBe(20_000);
  });
});
