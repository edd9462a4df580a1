/**
 * Evaluation metrics as pure functions of labels (1 = churned) and predicted probabilities.
 * Undefined cases (no positives, no negatives) give NaN, which JSON output turns into null.
 */

export type Labels = ArrayLike<number>;
export type Probabilities = ArrayLike<number>;

export interface CalibrationBin {
  lower: number;
  upper: number;
  count: number;
  meanPredicted: number;
  fractionPositive: number;
}

export interface TopSlice {
  /** share of customers contacted, e.g. 0.1 = the top 10% by score */
  fraction: number;
  rows: number;
  /** share of all churners inside the slice (recall at that depth) */
  capture: number;
  /** churn rate in the slice divided by the overall churn rate */
  lift: number;
  precision: number;
}

export interface ClassificationMetrics {
  rows: number;
  positives: number;
  baseRate: number;
  rocAuc: number;
  prAuc: number;
  brier: number;
  logLoss: number;
  ece: number;
  calibration: CalibrationBin[];
  top: TopSlice[];
}

export const TOP_FRACTIONS = [0.05, 0.1, 0.2] as const;

function checkLengths(y: Labels, p: Probabilities): void {
  if (y.length !== p.length) throw new Error(`labels (${y.length}) and scores (${p.length}) differ in length`);
}

/** Indices sorted by score, highest first (stable, so ties keep input order). */
function orderByScoreDesc(p: Probabilities): Uint32Array {
  const idx = new Uint32Array(p.length);
  for (let i = 0; i < p.length; i++) idx[i] = i;
  return idx.sort((a, b) => p[b]! - p[a]! || a - b);
}

/** ROC-AUC as the Mann-Whitney statistic with average ranks, so tied scores count one half. */
export function rocAuc(y: Labels, p: Probabilities): number {
  checkLengths(y, p);
  const n = y.length;
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  idx.sort((a, b) => p[a]! - p[b]!);
  let positives = 0;
  let rankSumPositives = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && p[idx[j + 1]!] === p[idx[i]!]) j++;
    const averageRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (y[idx[k]!]) {
        positives++;
        rankSumPositives += averageRank;
      }
    }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return NaN;
  return (rankSumPositives - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Points of the ROC curve (false positive rate, true positive rate), one per distinct score. */
export function rocCurve(y: Labels, p: Probabilities): Array<{ fpr: number; tpr: number; threshold: number }> {
  checkLengths(y, p);
  const idx = orderByScoreDesc(p);
  let positives = 0;
  for (let i = 0; i < y.length; i++) if (y[i]) positives++;
  const negatives = y.length - positives;
  const points = [{ fpr: 0, tpr: 0, threshold: Infinity }];
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < idx.length; i++) {
    if (y[idx[i]!]) tp++;
    else fp++;
    const last = i === idx.length - 1 || p[idx[i + 1]!] !== p[idx[i]!];
    if (last) points.push({ fpr: negatives ? fp / negatives : 0, tpr: positives ? tp / positives : 0, threshold: p[idx[i]!]! });
  }
  return points;
}

/** Precision-recall points, one per distinct score threshold. */
export function precisionRecallCurve(y: Labels, p: Probabilities): Array<{ recall: number; precision: number; threshold: number }> {
  checkLengths(y, p);
  const idx = orderByScoreDesc(p);
  let positives = 0;
  for (let i = 0; i < y.length; i++) if (y[i]) positives++;
  const points: Array<{ recall: number; precision: number; threshold: number }> = [];
  let tp = 0;
  for (let i = 0; i < idx.length; i++) {
    if (y[idx[i]!]) tp++;
    const last = i === idx.length - 1 || p[idx[i + 1]!] !== p[idx[i]!];
    if (last) points.push({ recall: positives ? tp / positives : 0, precision: tp / (i + 1), threshold: p[idx[i]!]! });
  }
  return points;
}

/** Average precision: sum over thresholds of (recall gained) x (precision there), as scikit-learn defines it. */
export function averagePrecision(y: Labels, p: Probabilities): number {
  const points = precisionRecallCurve(y, p);
  let positives = 0;
  for (let i = 0; i < y.length; i++) if (y[i]) positives++;
  if (positives === 0) return NaN;
  let ap = 0;
  let previousRecall = 0;
  for (const point of points) {
    ap += (point.recall - previousRecall) * point.precision;
    previousRecall = point.recall;
  }
  return ap;
}

export function brierScore(y: Labels, p: Probabilities): number {
  checkLengths(y, p);
  if (y.length === 0) return NaN;
  let sum = 0;
  for (let i = 0; i < y.length; i++) sum += (p[i]! - (y[i] ? 1 : 0)) ** 2;
  return sum / y.length;
}

/** Mean negative log-likelihood; probabilities are clipped to [1e-15, 1 - 1e-15] like scikit-learn. */
export function logLoss(y: Labels, p: Probabilities): number {
  checkLengths(y, p);
  if (y.length === 0) return NaN;
  const eps = 1e-15;
  let sum = 0;
  for (let i = 0; i < y.length; i++) {
    const q = Math.min(1 - eps, Math.max(eps, p[i]!));
    sum -= y[i] ? Math.log(q) : Math.log(1 - q);
  }
  return sum / y.length;
}

/** Reliability diagram over equal-width probability bins; the last bin includes 1.0. */
export function calibrationCurve(y: Labels, p: Probabilities, bins = 10): CalibrationBin[] {
  checkLengths(y, p);
  const count = new Float64Array(bins);
  const sumP = new Float64Array(bins);
  const sumY = new Float64Array(bins);
  for (let i = 0; i < y.length; i++) {
    const b = Math.min(bins - 1, Math.max(0, Math.floor(p[i]! * bins)));
    count[b]!++;
    sumP[b]! += p[i]!;
    sumY[b]! += y[i] ? 1 : 0;
  }
  const out: CalibrationBin[] = [];
  for (let b = 0; b < bins; b++) {
    out.push({
      lower: b / bins,
      upper: (b + 1) / bins,
      count: count[b]!,
      meanPredicted: count[b] ? sumP[b]! / count[b]! : NaN,
      fractionPositive: count[b] ? sumY[b]! / count[b]! : NaN,
    });
  }
  return out;
}

/** Expected calibration error: bin-size-weighted mean |predicted - observed| over the bins. */
export function expectedCalibrationError(y: Labels, p: Probabilities, bins = 10): number {
  if (y.length === 0) return NaN;
  let ece = 0;
  for (const bin of calibrationCurve(y, p, bins)) {
    if (bin.count > 0) ece += (bin.count / y.length) * Math.abs(bin.meanPredicted - bin.fractionPositive);
  }
  return ece;
}

/**
 * Capture and lift when contacting the top `fraction` of customers by score (ceil(fraction x n)
 * rows, ties broken by input order): what a retention team gets for a given outreach budget.
 */
export function topSlices(y: Labels, p: Probabilities, fractions: readonly number[] = TOP_FRACTIONS): TopSlice[] {
  checkLengths(y, p);
  const idx = orderByScoreDesc(p);
  let positives = 0;
  for (let i = 0; i < y.length; i++) if (y[i]) positives++;
  const baseRate = y.length ? positives / y.length : NaN;
  return fractions.map((fraction) => {
    const rows = Math.min(y.length, Math.ceil(fraction * y.length));
    let caught = 0;
    for (let i = 0; i < rows; i++) if (y[idx[i]!]) caught++;
    const precision = rows ? caught / rows : NaN;
    return {
      fraction,
      rows,
      capture: positives ? caught / positives : NaN,
      lift: baseRate ? precision / baseRate : NaN,
      precision,
    };
  });
}

export function classificationMetrics(y: Labels, p: Probabilities): ClassificationMetrics {
  let positives = 0;
  for (let i = 0; i < y.length; i++) if (y[i]) positives++;
  return {
    rows: y.length,
    positives,
    baseRate: y.length ? positives / y.length : NaN,
    rocAuc: rocAuc(y, p),
    prAuc: averagePrecision(y, p),
    brier: brierScore(y, p),
    logLoss: logLoss(y, p),
    ece: expectedCalibrationError(y, p),
    calibration: calibrationCurve(y, p),
    top: topSlices(y, p),
  };
}

export interface EvaluationMetrics {
  overall: ClassificationMetrics;
  /** each churn type against the non-churners (the other churn type left out) */
  byChurnType?: { voluntary: ClassificationMetrics; involuntary: ClassificationMetrics };
}

/** Overall metrics, and per churn type when types are known (1 voluntary, 2 involuntary). */
export function evaluationMetrics(y: Labels, p: Probabilities, churnType?: ArrayLike<number>): EvaluationMetrics {
  const overall = classificationMetrics(y, p);
  if (!churnType) return { overall };
  const subset = (type: number) => {
    const ys: number[] = [];
    const ps: number[] = [];
    for (let i = 0; i < y.length; i++) {
      if (!y[i] || churnType[i] === type) {
        ys.push(y[i] ? 1 : 0);
        ps.push(p[i]!);
      }
    }
    return classificationMetrics(ys, ps);
  };
  return { overall, byChurnType: { voluntary: subset(1), involuntary: subset(2) } };
}

/** Histogram of scores in equal-width bins over [0, 1], split by label, for the report. */
export function scoreHistogram(y: Labels, p: Probabilities, bins = 20): Array<{ lower: number; upper: number; churned: number; retained: number }> {
  checkLengths(y, p);
  const out = Array.from({ length: bins }, (_, b) => ({ lower: b / bins, upper: (b + 1) / bins, churned: 0, retained: 0 }));
  for (let i = 0; i < y.length; i++) {
    const b = Math.min(bins - 1, Math.max(0, Math.floor(p[i]! * bins)));
    if (y[i]) out[b]!.churned++;
    else out[b]!.retained++;
  }
  return out;
}

/** JSON.stringify replacer: NaN/Infinity (undefined metrics) become null instead of invalid JSON. */
export function finiteOrNull(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}
