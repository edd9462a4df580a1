import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/ml/random.js';
import {
  confidenceLevel,
  moverWeightedSum,
  newcombeDifference,
  normalCdf,
  numberNeededToTreat,
  numberNeededToTreatInterval,
  savedMrrInterval,
  wilsonInterval,
  type MrrStratum,
} from '../../src/services/uplift/stats.js';

describe('Wilson score interval', () => {
  // Newcombe (1998b) "Two-sided confidence intervals for the single proportion", Table I, method 3
  it.each([
    [81, 263, 0.2553, 0.3662],
    [15, 148, 0.0624, 0.1605],
    [0, 20, 0.0, 0.1611],
    [1, 29, 0.0061, 0.1718],
    [29, 29, 0.883, 1.0],
  ])('%i/%i -> [%f, %f] as published', (x, n, lower, upper) => {
    const w = wilsonInterval(x, n);
    expect(w.estimate).toBeCloseTo(x / n, 12);
    expect(w.lower).toBeCloseTo(lower, 4);
    expect(w.upper).toBeCloseTo(upper, 4);
  });

  it('is exactly 0 or 1 at the edges and [0, 1] with no trials', () => {
    expect(wilsonInterval(0, 5).lower).toBe(0);
    expect(wilsonInterval(5, 5).upper).toBe(1);
    expect(wilsonInterval(0, 0)).toMatchObject({ lower: 0, upper: 1 });
    expect(() => wilsonInterval(6, 5)).toThrow(RangeError);
  });

  it('narrows with a smaller z', () => {
    const w95 = wilsonInterval(20, 100);
    const w90 = wilsonInterval(20, 100, 1.6448536269514722);
    expect(w90.upper - w90.lower).toBeLessThan(w95.upper - w95.lower);
    expect(confidenceLevel(1.6448536269514722)).toBeCloseTo(0.9, 6);
    expect(normalCdf(1.959963984540054)).toBeCloseTo(0.975, 6);
    expect(normalCdf(-1)).toBeCloseTo(0.158655254, 6);
  });
});

describe("Newcombe's hybrid score interval for a difference of proportions", () => {
  // Newcombe (1998) Stat Med 17:873-890, Table II, method 10
  it.each([
    ['a', 56, 70, 48, 80, 0.2, 0.0524, 0.3339],
    ['b', 9, 10, 3, 10, 0.6, 0.1705, 0.809],
    ['d', 5, 56, 0, 29, 0.0893, -0.0381, 0.1926],
    ['e', 0, 10, 0, 20, 0, -0.1611, 0.2775],
    ['f', 0, 10, 0, 10, 0, -0.2775, 0.2775],
    ['g', 10, 10, 0, 20, 1, 0.6791, 1.0],
    ['h', 10, 10, 0, 10, 1, 0.6075, 1.0],
  ])('example (%s) %i/%i - %i/%i as published', (_, x1, n1, x2, n2, d, lower, upper) => {
    const r = newcombeDifference(x1, n1, x2, n2);
    expect(r.estimate).toBeCloseTo(d, 4);
    expect(r.lower).toBeCloseTo(lower, 4);
    expect(r.upper).toBeCloseTo(upper, 4);
  });

  it('mirrors when the groups swap', () => {
    const ab = newcombeDifference(7, 40, 15, 35);
    const ba = newcombeDifference(15, 35, 7, 40);
    expect(ba.estimate).toBeCloseTo(-ab.estimate, 12);
    expect(ba.lower).toBeCloseTo(-ab.upper, 12);
    expect(ba.upper).toBeCloseTo(-ab.lower, 12);
  });

  it('covers the true difference about 95 % of the time at small counts (20 holdout, 80 treated)', () => {
    const rng = createRng(11);
    const pH = 0.25;
    const pT = 0.12;
    let covered = 0;
    const runs = 4000;
    for (let r = 0; r < runs; r++) {
      let xH = 0;
      let xT = 0;
      for (let i = 0; i < 20; i++) if (rng() < pH) xH++;
      for (let i = 0; i < 80; i++) if (rng() < pT) xT++;
      const ci = newcombeDifference(xH, 20, xT, 80);
      if (ci.lower <= pH - pT && pH - pT <= ci.upper) covered++;
    }
    expect(covered / runs).toBeGreaterThan(0.93);
    expect(covered / runs).toBeLessThan(0.985);
  });

  it('needs a trial in each group', () => {
    expect(() => newcombeDifference(0, 0, 1, 10)).toThrow(RangeError);
  });
});

describe('MOVER weighted sum', () => {
  it('returns a single unit-weight term unchanged and scales with the weight', () => {
    const d = newcombeDifference(56, 70, 48, 80);
    expect(moverWeightedSum([{ weight: 1, value: d }])).toEqual({ estimate: d.estimate, lower: d.lower, upper: d.upper });
    const scaled = moverWeightedSum([{ weight: 150, value: d }]);
    expect(scaled.estimate).toBeCloseTo(30, 10);
    expect(scaled.lower).toBeCloseTo(150 * d.lower, 8);
  });

  it('is narrower than adding the bounds (variances add, not widths)', () => {
    const a = newcombeDifference(10, 50, 5, 50);
    const b = newcombeDifference(12, 50, 6, 50);
    const sum = moverWeightedSum([
      { weight: 1, value: a },
      { weight: 1, value: b },
    ]);
    expect(sum.estimate).toBeCloseTo(a.estimate + b.estimate, 12);
    expect(sum.upper - sum.lower).toBeLessThan(a.upper - a.lower + (b.upper - b.lower));
  });
});

describe('number needed to treat', () => {
  it('is 1 / effect, and infinite without a benefit', () => {
    expect(numberNeededToTreat(0.2)).toBeCloseTo(5, 12);
    expect(numberNeededToTreat(0)).toBe(Number.POSITIVE_INFINITY);
    expect(numberNeededToTreat(-0.05)).toBe(Number.POSITIVE_INFINITY);
  });

  it('has an interval only when the effect interval is above 0 (Altman 1998)', () => {
    expect(numberNeededToTreatInterval({ lower: 0.05, upper: 0.25 })).toEqual({ lower: 4, upper: 20 });
    expect(numberNeededToTreatInterval({ lower: -0.01, upper: 0.25 })).toBeNull();
  });
});

/** Builds one stratum from per-customer MRR and churn probabilities (the truth is known). */
function simulateStratum(rng: () => number, n: { treated: number; holdout: number }) {
  const arm = (count: number, treated: boolean) => {
    const mrr: number[] = [];
    const churned: number[] = [];
    let trueSaved = 0;
    for (let i = 0; i < count; i++) {
      // skewed MRR (a few large accounts), and the offer works better on small ones
      const m = Math.round(2000 * Math.exp(1.2 * (rng() + rng() + rng() - 1.5)));
      const pNo = 0.2;
      const pYes = m < 2000 ? 0.08 : 0.16;
      mrr.push(m);
      churned.push(rng() < (treated ? pYes : pNo) ? 1 : 0);
      if (treated) trueSaved += m * (pNo - pYes);
    }
    return { sample: { mrr, churned }, trueSaved };
  };
  const t = arm(n.treated, true);
  const h = arm(n.holdout, false);
  return { stratum: { treated: t.sample, holdout: h.sample } as MrrStratum, trueSaved: t.trueSaved };
}

describe('saved MRR interval', () => {
  it('estimates the MRR-weighted churn difference times treated MRR', () => {
    const stratum: MrrStratum = {
      treated: { mrr: [1000, 3000, 2000, 4000], churned: [1, 0, 0, 0] },
      holdout: { mrr: [1000, 1000, 2000], churned: [1, 0, 1] },
    };
    const r = savedMrrInterval([stratum], { seed: 5, resamples: 500 });
    // holdout lost 3000/4000 of its MRR, treated 1000/10000; × 10000 treated MRR
    expect(r.estimate).toBeCloseTo((0.75 - 0.1) * 10_000, 8);
    expect(r.lower).toBeLessThan(r.estimate);
    expect(r.upper).toBeGreaterThan(r.estimate);
  });

  it('is deterministic given the seed', () => {
    const { stratum } = simulateStratum(createRng(2), { treated: 120, holdout: 30 });
    const a = savedMrrInterval([stratum], { seed: 9 });
    const b = savedMrrInterval([stratum], { seed: 9 });
    const c = savedMrrInterval([stratum], { seed: 10 });
    expect(a).toEqual(b);
    expect(c.bootstrap).not.toEqual(a.bootstrap);
    expect(c.estimate).toBe(a.estimate);
  });

  it('keeps a width when no one churned, where the bootstrap alone collapses to a point', () => {
    const stratum: MrrStratum = {
      treated: { mrr: Array(40).fill(5000), churned: Array(40).fill(0) },
      holdout: { mrr: Array(10).fill(5000), churned: Array(10).fill(0) },
    };
    const r = savedMrrInterval([stratum], { seed: 1, resamples: 200 });
    expect(r.bootstrap).toEqual({ lower: 0, upper: 0 });
    expect(r.estimate).toBe(0);
    // a holdout of 10 with no churn is consistent with up to ~28 % churn, i.e. up to ~$560 saved
    expect(r.upper).toBeGreaterThan(0.2 * 40 * 5000);
    expect(r.lower).toBeLessThan(0);
  });

  it('with equal MRR reduces to effect × treated MRR', () => {
    const stratum: MrrStratum = {
      treated: { mrr: Array(50).fill(1000), churned: [...Array(5).fill(1), ...Array(45).fill(0)] },
      holdout: { mrr: Array(20).fill(1000), churned: [...Array(6).fill(1), ...Array(14).fill(0)] },
    };
    const r = savedMrrInterval([stratum], { resamples: 300 });
    expect(r.estimate).toBeCloseTo((6 / 20 - 5 / 50) * 50_000, 8);
    // and the effective-sample-size part is exactly Newcombe on the counts, scaled
    const d = newcombeDifference(6, 20, 5, 50);
    expect(r.effectiveSampleSize.lower).toBeCloseTo(d.lower * 50_000, 6);
    expect(r.effectiveSampleSize.upper).toBeCloseTo(d.upper * 50_000, 6);
  });

  it('sums strata and covers the true saved MRR in most simulated experiments', () => {
    const rng = createRng(77);
    let covered = 0;
    const runs = 150;
    for (let r = 0; r < runs; r++) {
      const a = simulateStratum(rng, { treated: 160, holdout: 40 });
      const b = simulateStratum(rng, { treated: 60, holdout: 60 });
      const ci = savedMrrInterval([a.stratum, b.stratum], { seed: r, resamples: 400 });
      const truth = a.trueSaved + b.trueSaved;
      if (ci.lower <= truth && truth <= ci.upper) covered++;
    }
    expect(covered / runs).toBeGreaterThan(0.9);
  });

  it('refuses an arm without customers or with negative MRR', () => {
    expect(() => savedMrrInterval([{ treated: { mrr: [1], churned: [0] }, holdout: { mrr: [], churned: [] } }])).toThrow(RangeError);
    expect(() => savedMrrInterval([{ treated: { mrr: [-1], churned: [0] }, holdout: { mrr: [1], churned: [0] } }])).toThrow(RangeError);
  });
});
