import { tf } from './backend.js';
import { calibrateAll } from './calibration.js';
import { explainMatrix } from './explain.js';
import type { ChurnModel } from './model.js';
import { normaliseMatrix } from './normalisation.js';
import type { FeatureSet, Matrix, RiskBand, Score } from './types.js';

/**
 * Rows per predict() batch. TF.js defaults to 32, which on wasm is hundreds of times slower than
 * one large batch; this caps memory at about batch x widest layer floats.
 */
export const PREDICT_BATCH = 32_768;

/**
 * Band cut-offs on the calibrated probability of churning within the horizon:
 * low < 0.10 <= medium < 0.25 <= high < 0.50 <= critical.
 */
export const BAND_CUTOFFS = { medium: 0.1, high: 0.25, critical: 0.5 } as const;

export function riskBand(probability: number): RiskBand {
  if (probability >= BAND_CUTOFFS.critical) return 'critical';
  if (probability >= BAND_CUTOFFS.high) return 'high';
  if (probability >= BAND_CUTOFFS.medium) return 'medium';
  return 'low';
}

/** The network's raw logits for a raw (un-normalised) feature matrix. */
export function networkLogits(model: ChurnModel, x: Matrix): Float32Array {
  if (x.rows === 0) return new Float32Array(0);
  const input = normaliseMatrix(x, model.metadata.normalisation);
  return tf.tidy(() => {
    const tensor = tf.tensor2d(input, [x.rows, x.cols]);
    const out = model.network.predict(tensor, { batchSize: Math.min(x.rows, PREDICT_BATCH) }) as tf.Tensor;
    // Copy: on wasm dataSync can be a view of memory the next kernel reuses.
    return new Float32Array(out.dataSync());
  });
}

/** Calibrated churn probabilities, one per row. */
export function scoreMatrix(model: ChurnModel, x: Matrix): Float32Array {
  return calibrateAll(model.metadata.calibration, networkLogits(model, x));
}

/** Probability, band and top drivers for every row (drivers are computed in large batches). */
export function scoreWithDrivers(
  model: ChurnModel,
  x: Matrix,
  options: { top?: number; featureSet?: FeatureSet } = {},
): Score[] {
  const probabilities = scoreMatrix(model, x);
  const drivers = explainMatrix(model, x, options.featureSet ?? model.featureSet, { top: options.top ?? 3, probabilities });
  return Array.from(probabilities, (probability, i) => ({ probability, band: riskBand(probability), drivers: drivers[i]! }));
}
