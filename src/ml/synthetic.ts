import { createRng, normal } from './random.js';
import type { FeatureSet, FeatureSpec, LabelledData } from './types.js';

/**
 * Synthetic snapshots with a known logistic churn rule, for tests and benchmarks of the model
 * code (the real feature pipeline lives in features.ts). Column kinds cycle through count,
 * money, days, ratio, bool so normalisation paths are exercised; `weights[c]` is the true
 * effect of standardised column c on the churn log-odds.
 */
export interface SyntheticSpec {
  rows: number;
  cols: number;
  seed: number;
  /** true log-odds coefficients per column (missing = 0) */
  weights?: number[];
  intercept?: number;
  /** also add this x (col0 * col1) interaction to the log-odds: a signal only non-linear models catch */
  interaction?: number;
}

const KINDS: FeatureSpec['kind'][] = ['count', 'money', 'days', 'ratio', 'bool', 'number'];

export function syntheticFeatureSet(cols: number, version = 'synthetic-1'): FeatureSet {
  return {
    version,
    features: Array.from({ length: cols }, (_, c) => ({
      name: `f${c}`,
      description: `synthetic feature ${c}`,
      kind: KINDS[c % KINDS.length]!,
      sentence: (v: number) => `f${c} is ${Number.isInteger(v) ? v : v.toFixed(2)}`,
    })),
  };
}

/** Raw value for a column of the given kind from a standard normal draw z (monotone in z). */
function rawValue(kind: FeatureSpec['kind'], z: number): number {
  switch (kind) {
    case 'count':
      return Math.round(Math.exp(0.8 * z + 1));
    case 'money':
      return Math.round(Math.exp(z + 8));
    case 'days':
      return Math.round(200 + 80 * z);
    case 'ratio':
      return 1 / (1 + Math.exp(-z));
    case 'bool':
      return z > 0 ? 1 : 0;
    default:
      return z;
  }
}

export function syntheticChurnData(spec: SyntheticSpec, featureSet = syntheticFeatureSet(spec.cols)): LabelledData & { trueProbability: Float32Array } {
  const { rows, cols } = spec;
  const rng = createRng(spec.seed);
  const data = new Float32Array(rows * cols);
  const y = new Uint8Array(rows);
  const churnType = new Uint8Array(rows);
  const trueProbability = new Float32Array(rows);
  const z = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    let logOdds = spec.intercept ?? -2;
    for (let c = 0; c < cols; c++) {
      z[c] = normal(rng);
      data[r * cols + c] = rawValue(featureSet.features[c]!.kind, z[c]!);
      const w = spec.weights?.[c] ?? 0;
      // bool columns carry their effect through the thresholded value, like a real flag would
      const signal = featureSet.features[c]!.kind === 'bool' ? (z[c]! > 0 ? 1 : -1) : z[c]!;
      logOdds += w * signal;
    }
    if (spec.interaction) logOdds += spec.interaction * z[0]! * z[1]!;
    const p = 1 / (1 + Math.exp(-logOdds));
    trueProbability[r] = p;
    y[r] = rng() < p ? 1 : 0;
    churnType[r] = y[r] ? (rng() < 0.6 ? 1 : 2) : 0;
  }
  return { x: { data, rows, cols }, y, churnType, trueProbability };
}

/** Rows [from, to) of a labelled data set (copies), for splitting synthetic data. */
export function sliceRows(d: LabelledData, from: number, to: number): LabelledData {
  const cols = d.x.cols;
  return {
    x: { data: d.x.data.slice(from * cols, to * cols), rows: to - from, cols },
    y: d.y.slice(from, to),
    churnType: d.churnType?.slice(from, to),
    asOf: d.asOf?.slice(from, to),
  };
}
