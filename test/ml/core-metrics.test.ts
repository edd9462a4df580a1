import { describe, expect, it } from 'vitest';
import { calibrateAll, fitIsotonic, fitPlatt, logit } from '../../src/ml/calibration.js';
import {
  averagePrecision,
  brierScore,
  calibrationCurve,
  evaluationMetrics,
  expectedCalibrationError,
  logLoss,
  rocAuc,
  rocCurve,
  topSlices,
} from '../../src/ml/metrics.js';
import { decidePromotion } from '../../src/ml/promotion.js';
import { BAND_CUTOFFS, riskBand } from '../../src/ml/predict.js';
import { createRng } from '../../src/ml/random.js';

describe('ranking metrics on hand-computed cases', () => {
  const y = [0, 0, 1, 1];
  const p = [0.1, 0.4, 0.35, 0.8];

  it('ROC-AUC counts correctly ordered (churner, non-churner) pairs', () => {
    // pairs: (0.35 vs 0.1) ok, (0.35 vs 0.4) wrong, (0.8 vs both) ok -> 3/4
    expect(rocAuc(y, p)).toBeCloseTo(0.75, 12);
    expect(rocAuc([0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8])).toBe(1);
    expect(rocAuc([1, 0], [0.1, 0.9])).toBe(0);
  });

  it('ROC-AUC counts tied scores as one half', () => {
    expect(rocAuc([0, 1], [0.5, 0.5])).toBe(0.5);
    expect(rocAuc([0, 1, 1], [0.3, 0.3, 0.9])).toBeCloseTo(0.75, 12);
  });

  it('ROC-AUC is undefined without both classes', () => {
    expect(rocAuc([1, 1], [0.2, 0.3])).toBeNaN();
  });

  it('ROC curve runs from (0,0) to (1,1)', () => {
    const curve = rocCurve(y, p);
    expect(curve[0]).toMatchObject({ fpr: 0, tpr: 0 });
    expect(curve.at(-1)).toMatchObject({ fpr: 1, tpr: 1 });
  });

  it('average precision sums precision at each recall step', () => {
    // ranked: 0.8 (churn) P=1 R=.5, 0.4 (no), 0.35 (churn) P=2/3 R=1 -> .5*1 + .5*2/3
    expect(averagePrecision(y, p)).toBeCloseTo(0.5 + 0.5 * (2 / 3), 12);
  });
});

describe('probability metrics on hand-computed cases', () => {
  it('Brier score and log loss', () => {
    expect(brierScore([1, 0], [0.8, 0.3])).toBeCloseTo((0.04 + 0.09) / 2, 12);
    expect(logLoss([1, 0], [0.8, 0.3])).toBeCloseTo(-(Math.log(0.8) + Math.log(0.7)) / 2, 12);
    expect(Number.isFinite(logLoss([1], [0]))).toBe(true);
  });

  it('calibration curve and expected calibration error over 10 bins', () => {
    const p = [0.05, 0.15, 0.15, 0.95];
    const y = [0, 1, 0, 1];
    const bins = calibrationCurve(y, p);
    expect(bins).toHaveLength(10);
    expect(bins[1]).toMatchObject({ count: 2, fractionPositive: 0.5 });
    expect(bins[1]!.meanPredicted).toBeCloseTo(0.15, 12);
    // |0.05-0|*1/4 + |0.15-0.5|*2/4 + |0.95-1|*1/4
    expect(expectedCalibrationError(y, p)).toBeCloseTo(0.0125 + 0.175 + 0.0125, 12);
    expect(calibrationCurve([1], [1])[9]!.count).toBe(1);
  });

  it('capture and lift at the top of the list', () => {
    const y = [1, 0, 1, 0, 0, 0, 0, 0, 0, 1];
    const p = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05];
    const [top10, top20] = topSlices(y, p, [0.1, 0.2]);
    expect(top10).toMatchObject({ rows: 1, capture: 1 / 3, precision: 1 });
    expect(top10!.lift).toBeCloseTo(1 / 0.3, 12);
    expect(top20).toMatchObject({ rows: 2, capture: 1 / 3, precision: 0.5 });
    expect(top20!.lift).toBeCloseTo(0.5 / 0.3, 12);
  });

  it('splits metrics by churn type, each against the non-churners', () => {
    const y = [1, 1, 0, 0];
    const churnType = [1, 2, 0, 0];
    const p = [0.9, 0.1, 0.5, 0.4];
    const m = evaluationMetrics(y, p, churnType);
    expect(m.overall.rows).toBe(4);
    expect(m.byChurnType!.voluntary).toMatchObject({ rows: 3, positives: 1, rocAuc: 1 });
    expect(m.byChurnType!.involuntary).toMatchObject({ rows: 3, positives: 1, rocAuc: 0 });
  });
});

describe('calibration', () => {
  // true probabilities q; an over-confident, over-shifted model reports sigmoid(3*logit(q) + 1)
  const rng = createRng(42);
  const n = 20_000;
  const logits = new Float32Array(n);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const z = (rng() - 0.5) * 4 - 1;
    const q = 1 / (1 + Math.exp(-z));
    y[i] = rng() < q ? 1 : 0;
    logits[i] = 3 * logit(q) + 1;
  }
  const raw = calibrateAll({ method: 'none' }, logits);

  it('Platt scaling recovers the true mapping and cuts ECE', () => {
    const cal = fitPlatt(logits, y);
    expect(cal.method).toBe('platt');
    if (cal.method !== 'platt') return;
    expect(cal.a).toBeCloseTo(1 / 3, 1);
    const fixed = calibrateAll(cal, logits);
    const before = expectedCalibrationError(y, raw);
    const after = expectedCalibrationError(y, fixed);
    expect(before).toBeGreaterThan(0.08);
    expect(after).toBeLessThan(0.02);
    expect(rocAuc(y, fixed)).toBeCloseTo(rocAuc(y, raw), 9);
  });

  it('isotonic regression also cuts ECE and stays monotone', () => {
    const cal = fitIsotonic(raw, y);
    expect(cal.method).toBe('isotonic');
    if (cal.method !== 'isotonic') return;
    for (let i = 1; i < cal.y.length; i++) expect(cal.y[i]!).toBeGreaterThanOrEqual(cal.y[i - 1]!);
    expect(expectedCalibrationError(y, calibrateAll(cal, logits))).toBeLessThan(0.02);
  });

  it('is skipped when the calibration rows have one class only', () => {
    expect(fitPlatt([0.1, 0.2], [0, 0])).toEqual({ method: 'none' });
  });
});

describe('promotion and bands', () => {
  const m = (rocAuc: number, logLoss: number) => ({ rocAuc, logLoss });

  it('needs to beat the baseline and the champion on AUC', () => {
    expect(decidePromotion(m(0.8, 0.4), m(0.7, 0.5)).promoted).toBe('candidate');
    expect(decidePromotion(m(0.8, 0.4), m(0.7, 0.5), m(0.85, 0.3))).toMatchObject({ promote: false, promoted: null });
    expect(decidePromotion(m(0.8, 0.4), m(0.7, 0.5), m(0.85, 0.3)).reason).toMatch(/champion stays/);
    expect(decidePromotion(m(0.9, 0.4), m(0.7, 0.5), m(0.85, 0.3)).promoted).toBe('candidate');
  });

  it('breaks AUC ties with log loss', () => {
    expect(decidePromotion(m(0.8, 0.40), m(0.8, 0.41)).promoted).toBe('candidate');
    expect(decidePromotion(m(0.8, 0.42), m(0.8, 0.41)).promoted).toBe('baseline');
    expect(decidePromotion(m(0.8004, 0.40), m(0.7, 0.5), m(0.8, 0.39)).promoted).toBeNull();
  });

  it('falls back to the logistic baseline in the same decision when the candidate loses to it', () => {
    // no champion: the baseline serves, and the decision says so (promote is true)
    expect(decidePromotion(m(0.69, 0.4), m(0.7, 0.5))).toMatchObject({ promote: true, promoted: 'baseline' });
    expect(decidePromotion(m(0.69, 0.4), m(0.7, 0.5)).reason).toMatch(/does not beat the logistic baseline.*baseline serves/);
    // a champion the baseline beats is replaced by the baseline; one it does not beat stays
    expect(decidePromotion(m(0.69, 0.4), m(0.75, 0.3), m(0.7, 0.3)).promoted).toBe('baseline');
    expect(decidePromotion(m(0.6, 0.4), m(0.65, 0.3), m(0.7, 0.3))).toMatchObject({ promote: false, promoted: null });
    // model selection already chose the logistic regression: it is judged against the champion only
    expect(decidePromotion(m(0.7, 0.5), m(0.7, 0.5), undefined, { candidateIsBaseline: true }).promoted).toBe('candidate');
  });

  it('bands follow the documented cut-offs', () => {
    expect(riskBand(0.05)).toBe('low');
    expect(riskBand(BAND_CUTOFFS.medium)).toBe('medium');
    expect(riskBand(0.3)).toBe('high');
    expect(riskBand(0.5)).toBe('critical');
  });
});
