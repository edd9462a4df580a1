import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/ml/random.js';
import { convertMinor, DAYS_PER_MONTH } from '../../src/services/retention/costs.js';
import { buildUpliftReport, formatMoney, renderUpliftReportText, type UpliftRow } from '../../src/services/uplift/report.js';
import { newcombeDifference } from '../../src/services/uplift/stats.js';

const T0 = 1_767_225_600; // 2026-01-01T00:00:00Z

let nextId = 0;
function row(overrides: Partial<UpliftRow> & Pick<UpliftRow, 'arm'>): UpliftRow {
  return {
    id: `int_${++nextId}`,
    policyId: 'pol_save',
    policyVersion: 1,
    policyName: 'Save high risk',
    action: 'coupon',
    mrr: 10_000,
    currency: 'usd',
    cost: overrides.arm === 'treatment' ? 2_000 : 0,
    outcome: 'stayed',
    churnType: null,
    decidedAt: T0,
    horizonDays: 30,
    ...overrides,
  };
}

/** `churned` of `n` rows in one arm churn (voluntarily unless said otherwise). */
function arm(arm: UpliftRow['arm'], n: number, churned: number, extra: Partial<UpliftRow> = {}, churnType: 'voluntary' | 'involuntary' = 'voluntary'): UpliftRow[] {
  return Array.from({ length: n }, (_, i) => row({ arm, outcome: i < churned ? 'churned' : 'stayed', churnType: i < churned ? churnType : null, ...extra }));
}

describe('buildUpliftReport on one policy', () => {
  const rows = [...arm('treatment', 80, 48), ...arm('holdout', 70, 56)];

  it('is the Newcombe interval of holdout churn minus treated churn, with saved customers = effect × |T|', () => {
    const report = buildUpliftReport(rows);
    const p = report.policies[0]!;
    const expected = newcombeDifference(56, 70, 48, 80);
    expect(p.treated).toMatchObject({ settled: 80, churned: 48, churnRate: 0.6 });
    expect(p.holdout).toMatchObject({ settled: 70, churned: 56, churnRate: 0.8 });
    expect(p.effect!.estimate).toBeCloseTo(0.2, 6);
    expect(p.effect!.lower).toBeCloseTo(0.0524, 4);
    expect(p.effect!.upper).toBeCloseTo(0.3339, 4);
    expect(p.savedCustomers!.estimate).toBeCloseTo(0.2 * 80, 4);
    expect(p.savedCustomers!.lower).toBeCloseTo(expected.lower * 80, 4);
    expect(p.verdict.status).toBe('reduces_churn');
    expect(p.numberNeededToTreat.estimate).toBeCloseTo(5, 6);
    expect(p.numberNeededToTreat.lower).toBeCloseTo(1 / 0.3339, 1);
    expect(p.numberNeededToTreat.upper).toBeCloseTo(1 / 0.0524, 1);
    // one policy: the overall section is the same estimate
    expect(report.overall.effect).toEqual(p.effect);
    expect(report.confidenceLevel).toBe(0.95);
  });

  it('prices the saving: equal MRR gives effect × treated MRR, net value = saved MRR × months − cost', () => {
    const p = buildUpliftReport(rows).policies[0]!;
    expect(p.savedMrr!.estimate).toBe(Math.round(0.2 * 80 * 10_000));
    expect(p.offerCost).toBe(80 * 2_000);
    const months = 30 / DAYS_PER_MONTH;
    expect(p.monthsKept).toMatchObject({ source: 'one_horizon' });
    expect(p.monthsKept!.value).toBeCloseTo(months, 4);
    expect(p.monthsKept!.statement).toMatch(/one horizon/);
    expect(p.netValue!.estimate).toBe(Math.round(0.2 * 80 * 10_000 * months - 160_000));
    expect(p.netValue!.lower).toBeLessThan(p.netValue!.estimate);
    for (const v of [p.savedMrr!.estimate, p.savedMrr!.lower, p.savedMrr!.upper, p.netValue!.lower, p.netValue!.upper]) expect(Number.isInteger(v)).toBe(true);
  });

  it("uses the policy's monthsKept, and an explicit option over it", () => {
    const withPolicy = rows.map((r) => ({ ...r, monthsKept: 6 }));
    const p = buildUpliftReport(withPolicy).policies[0]!;
    expect(p.monthsKept).toMatchObject({ value: 6, source: 'policy' });
    expect(p.netValue!.estimate).toBe(Math.round(p.savedMrr!.estimate * 6 - p.offerCost));
    const o = buildUpliftReport(withPolicy, { monthsKept: 2 }).policies[0]!;
    expect(o.monthsKept).toMatchObject({ value: 2, source: 'option' });
  });

  it('splits churn into voluntary and involuntary, each with its own effect', () => {
    const mixed = [
      ...arm('treatment', 60, 6, {}, 'voluntary'),
      ...arm('treatment', 40, 8, {}, 'involuntary'),
      ...arm('holdout', 30, 9, {}, 'voluntary'),
      ...arm('holdout', 20, 4, {}, 'involuntary'),
    ];
    const p = buildUpliftReport(mixed).policies[0]!;
    expect(p.treated).toMatchObject({ settled: 100, voluntary: 6, involuntary: 8, voluntaryRate: 0.06, involuntaryRate: 0.08 });
    expect(p.holdout).toMatchObject({ settled: 50, voluntary: 9, involuntary: 4, voluntaryRate: 0.18 });
    const vol = newcombeDifference(9, 50, 6, 100);
    expect(p.effectByType.voluntary!.estimate).toBeCloseTo(0.12, 6);
    expect(p.effectByType.voluntary!.lower).toBeCloseTo(vol.lower, 6);
    expect(p.effectByType.involuntary!.estimate).toBeCloseTo(0, 6);
  });
});

describe('buildUpliftReport verdicts', () => {
  it('says "not enough data" when an arm has fewer settled outcomes than the minimum', () => {
    const p = buildUpliftReport([...arm('treatment', 100, 5), ...arm('holdout', 12, 6)]).policies[0]!;
    expect(p.verdict).toMatchObject({ status: 'not_enough_data', reason: 'too_few_outcomes' });
    expect(p.verdict.message).toMatch(/holdout has 12 settled outcomes, fewer than the 30 needed/);
    // the numbers are still there for whoever wants them, the verdict says not to trust them
    expect(p.effect).not.toBeNull();
  });

  it('honours a different minimum', () => {
    const p = buildUpliftReport([...arm('treatment', 100, 5), ...arm('holdout', 12, 6)], { minOutcomesPerArm: 10 }).policies[0]!;
    expect(p.verdict.status).toBe('reduces_churn');
  });

  it('says "not enough data" when the interval contains 0', () => {
    const p = buildUpliftReport([...arm('treatment', 100, 15), ...arm('holdout', 40, 8)]).policies[0]!;
    expect(p.effect!.lower).toBeLessThan(0);
    expect(p.effect!.upper).toBeGreaterThan(0);
    expect(p.verdict).toMatchObject({ status: 'not_enough_data', reason: 'interval_contains_zero' });
    expect(p.verdict.message).toMatch(/contains 0/);
    expect(p.numberNeededToTreat.lower).toBeNull();
  });

  it('says so plainly when the offer made churn worse', () => {
    const p = buildUpliftReport([...arm('treatment', 200, 80), ...arm('holdout', 100, 15)]).policies[0]!;
    expect(p.verdict.status).toBe('increases_churn');
    expect(p.effect!.upper).toBeLessThan(0);
    expect(p.numberNeededToTreat.estimate).toBeNull();
    expect(p.savedMrr!.estimate).toBeLessThan(0);
    expect(p.warnings.join(' ')).toMatch(/does not cover what the offers cost/);
  });

  it('has no estimate when one arm has no settled outcome', () => {
    const p = buildUpliftReport(arm('treatment', 50, 5)).policies[0]!;
    expect(p.effect).toBeNull();
    expect(p.savedMrr).toBeNull();
    expect(p.netValue).toBeNull();
    expect(p.verdict).toMatchObject({ status: 'not_enough_data', reason: 'too_few_outcomes' });
  });
});

describe('buildUpliftReport bookkeeping', () => {
  it('counts unsettled rows as pending and leaves them, skips and dry runs out of every estimate', () => {
    const settled = [...arm('treatment', 80, 48), ...arm('holdout', 70, 56)];
    const extra = [
      ...arm('treatment', 7, 0, { outcome: null, cost: 99_999 }),
      ...arm('holdout', 3, 0, { outcome: null }),
      row({ arm: 'treatment', status: 'skipped', outcome: 'churned' }),
      row({ arm: 'treatment', status: 'dry_run', outcome: 'churned' }),
    ];
    const base = buildUpliftReport(settled).policies[0]!;
    const p = buildUpliftReport([...settled, ...extra]).policies[0]!;
    expect(p.treated.pending).toBe(7);
    expect(p.holdout.pending).toBe(3);
    expect(p.excluded).toEqual({ skipped: 1, dryRun: 1 });
    expect(p.effect).toEqual(base.effect);
    expect(p.savedMrr).toEqual(base.savedMrr);
    expect(p.offerCost).toBe(base.offerCost);
    expect(p.warnings.join(' ')).toMatch(/10 decisions are still inside their horizon/);
  });

  it('converts every amount to the reporting currency', () => {
    const rows = [...arm('treatment', 40, 4, { currency: 'eur', mrr: 9_000, cost: 1_000 }), ...arm('holdout', 40, 12, { currency: 'eur', mrr: 9_000 })];
    const usd = buildUpliftReport(rows).policies[0]!;
    expect(usd.offerCost).toBe(40 * convertMinor(1_000, 'eur', 'usd'));
    expect(usd.treated.mrr).toBe(40 * convertMinor(9_000, 'eur', 'usd'));
    expect(usd.warnings.join(' ')).toMatch(/converted to USD/);
    const eur = buildUpliftReport(rows, { currency: 'eur' });
    expect(eur.currency).toBe('eur');
    expect(eur.policies[0]!.offerCost).toBe(40_000);
    expect(eur.policies[0]!.savedMrr!.estimate).toBe(Math.round((12 / 40 - 4 / 40) * 40 * 9_000));
  });

  it('stratifies by policy version: different holdout shares over different populations do not fake an effect', () => {
    // version 1: low-risk customers, 50 % holdout; version 2: high-risk customers, 10 % holdout.
    // The offer does nothing. Pooling the rows would compare a mostly low-risk holdout with a
    // mostly high-risk treated arm and report that the offer *raised* churn by ~17 points.
    const rng = createRng(4);
    const rows: UpliftRow[] = [];
    for (let i = 0; i < 400; i++) {
      const arm = rng() < 0.5 ? 'holdout' : 'treatment';
      rows.push(row({ arm, policyVersion: 1, outcome: rng() < 0.05 ? 'churned' : 'stayed', churnType: 'voluntary' }));
    }
    for (let i = 0; i < 400; i++) {
      const arm = rng() < 0.1 ? 'holdout' : 'treatment';
      rows.push(row({ arm, policyVersion: 2, decidedAt: T0 + 40 * 86_400, outcome: rng() < 0.4 ? 'churned' : 'stayed', churnType: 'voluntary' }));
    }
    const settled = (a: string) => rows.filter((r) => r.arm === a);
    const churned = (a: string) => settled(a).filter((r) => r.outcome === 'churned').length;
    const pooled = newcombeDifference(churned('holdout'), settled('holdout').length, churned('treatment'), settled('treatment').length);
    expect(pooled.estimate).toBeLessThan(-0.12);
    expect(pooled.upper).toBeLessThan(-0.05);

    const p = buildUpliftReport(rows).policies[0]!;
    expect(p.strataUsed).toBe(2);
    expect(p.policyVersions).toEqual([1, 2]);
    expect(Math.abs(p.effect!.estimate)).toBeLessThan(0.05);
    expect(p.effect!.lower).toBeLessThan(0);
    expect(p.effect!.upper).toBeGreaterThan(0);
  });

  it('leaves out a version without a holdout and says so', () => {
    const rows = [...arm('treatment', 80, 48), ...arm('holdout', 70, 56), ...arm('treatment', 25, 25, { policyVersion: 2 })];
    const p = buildUpliftReport(rows).policies[0]!;
    expect(p.strataUsed).toBe(1);
    expect(p.treated.settled).toBe(105);
    expect(p.effect!.estimate).toBeCloseTo(0.2, 6);
    expect(p.savedCustomers!.estimate).toBeCloseTo(16, 4);
    expect(p.warnings.join(' ')).toMatch(/version 2 has no settled holdout outcomes, so its 25 treated/);
  });

  it('reports each policy and, over several, an overall section that sums saved customers and money', () => {
    const rows = [
      ...arm('treatment', 80, 48),
      ...arm('holdout', 70, 56),
      ...arm('treatment', 100, 10, { policyId: 'pol_pause', policyName: 'Pause instead', action: 'pause', cost: 500 }),
      ...arm('holdout', 50, 10, { policyId: 'pol_pause', policyName: 'Pause instead', action: 'pause', cost: 0 }),
    ];
    const report = buildUpliftReport(rows);
    expect(report.policies.map((p) => p.policyId)).toEqual(['pol_pause', 'pol_save']);
    const [pause, save] = report.policies as [typeof report.overall, typeof report.overall];
    expect(report.overall.scope).toBe('overall');
    expect(report.overall.actions).toEqual(['coupon', 'pause']);
    expect(report.overall.savedCustomers!.estimate).toBeCloseTo(pause.savedCustomers!.estimate + save.savedCustomers!.estimate, 4);
    expect(report.overall.offerCost).toBe(pause.offerCost + save.offerCost);
    expect(Math.abs(report.overall.savedMrr!.estimate - (pause.savedMrr!.estimate + save.savedMrr!.estimate))).toBeLessThanOrEqual(1);
    // overall effect: each policy's effect weighted by its share of decided customers (150 of 300 each)
    expect(report.overall.effect!.estimate).toBeCloseTo(0.5 * 0.2 + 0.5 * 0.1, 6);
  });

  it('is plain JSON (numbers, no NaN or Infinity) and the same on every run', () => {
    const rows = [...arm('treatment', 30, 0), ...arm('holdout', 5, 0, { outcome: null }), ...arm('holdout', 30, 3)];
    const a = buildUpliftReport(rows, { seed: 3 });
    const b = buildUpliftReport(rows, { seed: 3 });
    expect(a).toEqual(b);
    expect(JSON.parse(JSON.stringify(a))).toEqual(a);
  });

  it('covers the true effect in about 95 % of simulated experiments', () => {
    const rng = createRng(123);
    let covered = 0;
    const runs = 200;
    for (let r = 0; r < runs; r++) {
      const rows: UpliftRow[] = [];
      let trueEffect = 0;
      for (let i = 0; i < 300; i++) {
        const risk = 0.1 + 0.4 * rng();
        const treatedRisk = risk * 0.6;
        trueEffect += (risk - treatedRisk) / 300;
        const a = rng() < 0.2 ? 'holdout' : 'treatment';
        rows.push(row({ arm: a, outcome: rng() < (a === 'holdout' ? risk : treatedRisk) ? 'churned' : 'stayed' }));
      }
      const e = buildUpliftReport(rows, { resamples: 50 }).overall.effect!;
      if (e.lower <= trueEffect && trueEffect <= e.upper) covered++;
    }
    expect(covered / runs).toBeGreaterThan(0.9);
  });
});

describe('renderUpliftReportText', () => {
  it('formats money like "$4,120.00", including negative and zero-decimal currencies', () => {
    expect(formatMoney(412_000, 'usd')).toBe('$4,120.00');
    expect(formatMoney(-64_050, 'usd')).toBe('-$640.50');
    expect(formatMoney(1_200, 'jpy')).toBe('¥1,200');
    expect(formatMoney(1_250, 'eur')).toBe('€12.50');
  });

  it('shows arms, intervals, money, the assumption, the method and the verdict in aligned columns', () => {
    const rows = [...arm('treatment', 80, 48, { mrr: 5_150 }), ...arm('holdout', 70, 56, { mrr: 5_150 })];
    const report = buildUpliftReport(rows);
    const text = renderUpliftReportText(report);
    expect(text).toContain('Policy "Save high risk" (pol_save, version 1)');
    expect(text).toMatch(/Newcombe score interval/);
    expect(text).toMatch(/bootstrap \(2,000 resamples, seed 1\)/);
    expect(text).toMatch(/churn rate\s+60\.0 %\s+80\.0 %/);
    expect(text).toMatch(/effect on churn\s+\+20\.0 pts\s+\[\+5\.2, \+33\.4\]/);
    expect(text).toContain(`saved MRR`);
    expect(text).toContain(formatMoney(report.policies[0]!.savedMrr!.estimate, 'usd'));
    expect(text).toContain('$824.00'); // saved MRR = 0.2 × 80 × $51.50
    expect(text).toMatch(/offer cost\s+\$1,600\.00/);
    expect(text).toMatch(/A saved customer is assumed to stay 0\.99 months/);
    expect(text).toMatch(/Verdict: The offer reduced churn by 20\.0 percentage points/);
    // aligned: the interval column starts at the same place on every money/effect line
    const lines = text.split('\n').filter((l) => /^\s{2}(effect on churn|saved MRR|saved customers|net value)/.test(l));
    const starts = new Set(lines.map((l) => l.indexOf('[')));
    expect(lines.length).toBe(4);
    expect(starts.size).toBe(1);
  });

  it('puts "not enough data" in place of the numbers when an arm is too small', () => {
    const text = renderUpliftReportText(buildUpliftReport([...arm('treatment', 50, 5), ...arm('holdout', 10, 4)]));
    expect(text).toMatch(/effect on churn\s+not enough data\s+\(\+30\.0 pts/);
    expect(text).toMatch(/Verdict: Not enough data: the holdout has 10 settled outcomes/);
  });

  it('adds an overall section when there are several policies', () => {
    const rows = [...arm('treatment', 40, 4), ...arm('holdout', 40, 10), ...arm('treatment', 40, 4, { policyId: 'pol_b', policyName: null }), ...arm('holdout', 40, 8, { policyId: 'pol_b', policyName: null })];
    const text = renderUpliftReportText(buildUpliftReport(rows));
    expect(text).toContain('Policy (pol_b, version 1)');
    expect(text).toContain('All policies: coupon');
  });
});
