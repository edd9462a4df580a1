import type { FeatureSet, FeatureSpec, Matrix } from './types.js';

/**
 * Model inputs: the one place where raw feature values are scaled. Heavy-tailed kinds (money and
 * counts) get sign(v)*log1p(|v|), unless the feature is already on a log scale (its spec says
 * `logScaled`), then every column is standardised with the training split's mean and std.
 */

export interface Normalisation {
  transform: Array<'signed_log1p' | 'none'>;
  mean: number[];
  std: number[];
}

/** The transform a column gets before standardising. */
export function columnTransform(feature: Pick<FeatureSpec, 'kind' | 'logScaled'>, logKinds: readonly string[]): 'signed_log1p' | 'none' {
  return logKinds.includes(feature.kind) && !feature.logScaled ? 'signed_log1p' : 'none';
}

function transformValue(v: number, transform: 'signed_log1p' | 'none'): number {
  if (transform === 'none') return v;
  return v < 0 ? -Math.log1p(-v) : Math.log1p(v);
}

/** Mean/std per column on the training split, after the heavy-tail transform. */
export function fitNormalisation(x: Matrix, featureSet: FeatureSet, logKinds: readonly string[]): Normalisation {
  const { rows, cols, data } = x;
  const transform = featureSet.features.map((f) => columnTransform(f, logKinds));
  const sum = new Float64Array(cols);
  const sumSq = new Float64Array(cols);
  const count = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = transformValue(data[r * cols + c]!, transform[c]!);
      if (!Number.isFinite(v)) continue;
      sum[c]! += v;
      sumSq[c]! += v * v;
      count[c]!++;
    }
  }
  const mean: number[] = [];
  const std: number[] = [];
  for (let c = 0; c < cols; c++) {
    const m = count[c] ? sum[c]! / count[c]! : 0;
    const variance = count[c] ? Math.max(0, sumSq[c]! / count[c]! - m * m) : 0;
    mean.push(m);
    // A constant column carries no signal; std 1 keeps it at 0 instead of dividing by zero.
    std.push(Math.sqrt(variance) > 1e-8 ? Math.sqrt(variance) : 1);
  }
  return { transform, mean, std };
}

/** Applies the stored normalisation; missing or non-finite values become the training mean (0). */
export function normaliseMatrix(x: Matrix, normalisation: Normalisation): Float32Array {
  const { rows, cols, data } = x;
  if (cols !== normalisation.mean.length) throw new Error(`expected ${normalisation.mean.length} feature columns, got ${cols}`);
  const out = new Float32Array(rows * cols);
  const { transform, mean, std } = normalisation;
  for (let c = 0; c < cols; c++) {
    const t = transform[c]!;
    const m = mean[c]!;
    const inv = 1 / std[c]!;
    for (let i = c; i < out.length; i += cols) {
      const v = (transformValue(data[i]!, t) - m) * inv;
      out[i] = Number.isFinite(v) ? v : 0;
    }
  }
  return out;
}

/** Per-column median of up to `sample` evenly spaced training rows: the reference customer. */
export function medianRow(x: Matrix, sample = 20_000): number[] {
  const step = Math.max(1, Math.floor(x.rows / sample));
  const out: number[] = [];
  for (let c = 0; c < x.cols; c++) {
    const values: number[] = [];
    for (let r = 0; r < x.rows; r += step) {
      const v = x.data[r * x.cols + c]!;
      if (Number.isFinite(v)) values.push(v);
    }
    values.sort((a, b) => a - b);
    out.push(values.length ? values[Math.floor(values.length / 2)]! : 0);
  }
  return out;
}

