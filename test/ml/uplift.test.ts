import { describe, expect, it } from 'vitest';
import { sigmoid } from '../../src/ml/calibration.js';
import { createRng, normal } from '../../src/ml/random.js';
import {
  fitUpliftModel,
  loadUpliftModel,
  predictArmProbabilities,
  predictEffects,
  qiniCoefficient,
  qiniCurve,
  serialiseUpliftModel,
  upliftAtK,
  validateUpliftModel,
  type UpliftTrainingInput,
} from '../../src/ml/uplift.js';

const FEATURES = ['segment_a', 'segment_b', 'segment_c', 'failed_payments_z', 'tenure_z', 'seats_z', 'annual'];

interface World {
  input: UpliftTrainingInput;
  /** true P(churn | holdout) − P(churn | treated) per row */
  truth: number[];
  /** 0 helped, 1 unaffected, 2 harmed */
  group: number[];
}

/**
 * Customers in three segments the offer helps (log-odds −1.5), leaves alone, or harms (+1.0, the
 * "sleeping dogs"); baseline risk from two other features, known to the learner through the
 * churn model's probability (optionally miscalibrated by `baselineBias` on the log-odds).
 */
function world(n: number, seed: number, effects: [number, number, number], options: { treatedShare?: number; baselineBias?: number } = {}): World {
  const rng = createRng(seed);
  const d = FEATURES.length;
  const data = new Float32Array(n * d);
  const arm: number[] = [];
  const churned: number[] = [];
  const baselineProbability: number[] = [];
  const truth: number[] = [];
  const group: number[] = [];
  for (let i = 0; i < n; i++) {
    const u = rng();
    const g = u < 0.4 ? 0 : u < 0.75 ? 1 : 2;
    const z1 = normal(rng);
    const z2 = normal(rng);
    const z3 = normal(rng);
    data.set([g === 0 ? 1 : 0, g === 1 ? 1 : 0, g === 2 ? 1 : 0, z1, z2, z3, rng() < 0.3 ? 1 : 0], i * d);
    const eta = -1.1 + 0.8 * z1 + 0.4 * z2;
    const untreated = sigmoid(eta);
    const treated = sigmoid(eta + effects[g]!);
    const a = rng() < (options.treatedShare ?? 0.7) ? 1 : 0;
    arm.push(a);
    churned.push(rng() < (a ? treated : untreated) ? 1 : 0);
    baselineProbability.push(sigmoid(eta + (options.baselineBias ?? 0)));
    truth.push(untreated - treated);
    group.push(g);
  }
  return { input: { x: { data, rows: n, cols: d }, featureNames: FEATURES, arm, churned, baselineProbability }, truth, group };
}

const mean = (xs: ArrayLike<number>) => Array.from(xs).reduce((s, v) => s + v, 0) / xs.length;

function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const ma = mean(a);
  const mb = mean(b);
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < a.length; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb);
    saa += (a[i]! - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

/** Observed holdout − treated churn and its standard error. */
function observedDifference(input: UpliftTrainingInput): { effect: number; se: number } {
  let nT = 0;
  let nH = 0;
  let cT = 0;
  let cH = 0;
  for (let i = 0; i < input.x.rows; i++) {
    if (input.arm[i]) {
      nT++;
      cT += input.churned[i]!;
    } else {
      nH++;
      cH += input.churned[i]!;
    }
  }
  const pT = cT / nT;
  const pH = cH / nH;
  return { effect: pH - pT, se: Math.sqrt((pT * (1 - pT)) / nT + (pH * (1 - pH)) / nH) };
}

describe('uplift learner on heterogeneous effects (helped, unaffected, harmed)', () => {
  const train = world(4000, 7, [-1.5, 0, 1.0]);
  const fresh = world(3000, 8, [-1.5, 0, 1.0]);
  const model = fitUpliftModel(train.input, { seed: 1 });
  const predicted = predictEffects(model, fresh.input);

  it('ranks the customers the offer helps first, on customers it never saw', () => {
    const order = Array.from(predicted.keys()).sort((a, b) => predicted[b]! - predicted[a]!);
    const top = order.slice(0, Math.round(0.3 * order.length));
    const topTrue = mean(top.map((i) => fresh.truth[i]!));
    const overallTrue = mean(fresh.truth);
    expect(topTrue).toBeGreaterThan(overallTrue + 0.1);
    expect(correlation(predicted, fresh.truth)).toBeGreaterThan(0.8);
  });

  it('predicts harm where the truth is harm, and about nothing where there is no effect', () => {
    const byGroup = [0, 1, 2].map((g) => fresh.group.flatMap((gg, i) => (gg === g ? [predicted[i]!] : [])));
    expect(mean(byGroup[0]!)).toBeGreaterThan(0.1);
    expect(Math.abs(mean(byGroup[1]!))).toBeLessThan(0.04);
    expect(mean(byGroup[2]!)).toBeLessThan(-0.1);
    expect(byGroup[2]!.filter((e) => e < 0).length / byGroup[2]!.length).toBeGreaterThan(0.95);
    expect(byGroup[0]!.filter((e) => e > 0).length / byGroup[0]!.length).toBeGreaterThan(0.95);
  });

  it('gives each arm a probability whose difference is the effect', () => {
    const { untreated, treated } = predictArmProbabilities(model, fresh.input);
    for (let i = 0; i < 20; i++) expect(untreated[i]! - treated[i]!).toBeCloseTo(predicted[i]!, 12);
    expect(model.training).toMatchObject({ rows: 4000, converged: true, seed: 1 });
    expect(model.training.treated + model.training.holdout).toBe(4000);
    expect(model.training.crossValidation.length).toBeGreaterThan(1);
  });

  it('beats random targeting on held-out rows (Qini and uplift at 30 %)', () => {
    const v = validateUpliftModel(train.input, { seed: 3 });
    expect(v.testRows + v.trainRows).toBe(4000);
    expect(v.testRows).toBeGreaterThan(1000);
    expect(v.qiniCoefficient).toBeGreaterThan(0.03);
    expect(v.beatsRandom).toBe(true);
    expect(Math.abs(v.randomQini.mean)).toBeLessThan(0.005);
    const at30 = v.upliftAtK.find((u) => u.fraction === 0.3)!;
    expect(at30.effect!).toBeGreaterThan(v.observedEffect! + 0.1);
  });
});

describe('uplift learner with no real effect', () => {
  it('does not claim one: mean predicted effect near 0, little spread, no better than random', () => {
    const means: number[] = [];
    for (const seed of [21, 22, 23]) {
      const w = world(3000, seed, [0, 0, 0]);
      const model = fitUpliftModel(w.input, { seed: 1 });
      const e = predictEffects(model, w.input);
      const observed = observedDifference(w.input);
      const m = mean(e);
      means.push(m);
      // it reports what the data says on average, nothing more
      expect(Math.abs(m - observed.effect)).toBeLessThan(0.01);
      expect(Math.abs(m)).toBeLessThan(3 * observed.se);
      const sd = Math.sqrt(mean(Array.from(e, (v) => (v - m) ** 2)));
      expect(sd).toBeLessThan(0.02);
    }
    expect(Math.abs(mean(means))).toBeLessThan(0.02);
    const v = validateUpliftModel(world(3000, 24, [0, 0, 0]).input, { seed: 5 });
    expect(v.beatsRandom).toBe(false);
  });

  it('is not fooled by a miscalibrated churn model (the baseline shift is absorbed, not called an effect)', () => {
    const w = world(3000, 31, [0, 0, 0], { baselineBias: 0.8 });
    const model = fitUpliftModel(w.input, { seed: 1 });
    expect(model.coefficients.baselineIntercept).toBeLessThan(-0.5);
    const observed = observedDifference(w.input);
    expect(Math.abs(mean(predictEffects(model, w.input)) - observed.effect)).toBeLessThan(0.01);
    expect(Math.abs(mean(predictEffects(model, w.input)))).toBeLessThan(3 * observed.se);
  });
});

describe('uplift model lifecycle', () => {
  const w = world(1500, 41, [-1.2, 0, 0.8]);

  it('is deterministic given the seed, and round-trips through JSON', () => {
    const a = fitUpliftModel(w.input, { seed: 9 });
    const b = fitUpliftModel(w.input, { seed: 9 });
    expect(serialiseUpliftModel(a)).toBe(serialiseUpliftModel(b));
    const loaded = loadUpliftModel(serialiseUpliftModel(a));
    expect(loaded).toEqual(a);
    expect(Array.from(predictEffects(loaded, w.input))).toEqual(Array.from(predictEffects(a, w.input)));
  });

  it('finds features by name, whatever the column order', () => {
    const model = fitUpliftModel(w.input, { lambda: 10 });
    const d = FEATURES.length;
    const reversed = new Float32Array(w.input.x.data.length);
    for (let i = 0; i < w.input.x.rows; i++) for (let j = 0; j < d; j++) reversed[i * d + j] = w.input.x.data[i * d + (d - 1 - j)]!;
    const a = predictEffects(model, w.input);
    const b = predictEffects(model, { x: { data: reversed, rows: w.input.x.rows, cols: d }, featureNames: [...FEATURES].reverse(), baselineProbability: w.input.baselineProbability });
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(() => predictEffects(model, { ...w.input, featureNames: FEATURES.map((f) => (f === 'tenure_z' ? 'other' : f)) })).toThrow(/tenure_z/);
  });

  it('uses a fixed penalty without cross-validation, a feature subset, and baseline features when asked', () => {
    const fixed = fitUpliftModel(w.input, { lambda: 5, features: ['segment_a', 'segment_c'], baseline: 'features' });
    expect(fixed.lambda).toBe(5);
    expect(fixed.training.crossValidation).toEqual([]);
    expect(fixed.featureNames).toEqual(['segment_a', 'segment_c']);
    expect(fixed.coefficients.baseline).toHaveLength(2);
    expect(fixed.coefficients.treatment[0]).toBeLessThan(0); // segment a: the offer lowers the log-odds of churn
    expect(fixed.coefficients.treatment[1]).toBeGreaterThan(0);
  });

  it('refuses input it cannot learn from, and JSON that is not a model', () => {
    const onlyTreated = { ...w.input, arm: Array(w.input.x.rows).fill(1) };
    expect(() => fitUpliftModel(onlyTreated)).toThrow(/both the treated arm and the holdout/);
    expect(() => fitUpliftModel({ ...w.input, baselineProbability: Array(w.input.x.rows).fill(1.5) })).toThrow(/not a probability/);
    expect(() => loadUpliftModel('{"kind":"uplift-offset-s-learner","version":1}')).toThrow(/not an uplift model/);
  });
});

describe('Qini curve and uplift at k', () => {
  // 8 rows: score, arm, churned. Top 4: two treated (0 churned), two holdout (both churned).
  const rows = {
    score: [0.9, 0.8, 0.7, 0.6, 0.4, 0.3, 0.2, 0.1],
    arm: [1, 0, 1, 0, 1, 0, 1, 0],
    churned: [0, 1, 0, 1, 1, 0, 0, 0],
  };

  it('estimates the saved customers among the targeted from the two arms inside them', () => {
    const curve = qiniCurve(rows);
    expect(curve).toHaveLength(9);
    expect(curve[0]).toEqual({ fraction: 0, targeted: 0, treated: 0, holdout: 0, saved: 0 });
    expect(curve[4]).toMatchObject({ targeted: 4, treated: 2, holdout: 2, saved: (1 - 0) * 4 });
    // all 8: holdout churn 2/4, treated 1/4 -> 0.25 × 8
    expect(curve[8]!.saved).toBeCloseTo(2, 12);
    expect(upliftAtK(rows, 0.5)).toEqual({ fraction: 0.5, targeted: 4, treated: 2, holdout: 2, effect: 1 });
    expect(upliftAtK(rows, 0.1).effect).toBeNull();
  });

  it('is positive for a good ranking, negative for the reverse and 0 for no ranking at all', () => {
    const good = qiniCoefficient(qiniCurve(rows));
    const reversed = qiniCoefficient(qiniCurve({ ...rows, score: rows.score.map((s) => -s) }));
    const flat = qiniCoefficient(qiniCurve({ ...rows, score: rows.score.map(() => 0.5) }));
    expect(good).toBeGreaterThan(0);
    expect(reversed).toBeLessThan(0);
    expect(flat).toBeCloseTo(0, 12);
    expect(qiniCurve({ ...rows, score: rows.score.map(() => 0.5) })).toHaveLength(2);
  });

  it('ranks the true effect above random on a simulated world', () => {
    const w = world(3000, 51, [-1.5, 0, 1.0]);
    const byTruth = qiniCoefficient(qiniCurve({ score: w.truth, arm: w.input.arm, churned: w.input.churned }));
    const againstTruth = qiniCoefficient(qiniCurve({ score: w.truth.map((t) => -t), arm: w.input.arm, churned: w.input.churned }));
    expect(byTruth).toBeGreaterThan(0.03);
    expect(againstTruth).toBeLessThan(-0.03);
  });
});
