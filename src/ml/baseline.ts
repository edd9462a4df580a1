import type { ModelOptions } from './model.js';

/**
 * The simple model every candidate must beat: logistic regression (no hidden layer) on the same
 * standardised inputs, class weights and calibration as the MLP, trained on the same splits, its
 * L2 penalty tuned on the validation months (candidate.ts). If an MLP cannot beat this, its extra
 * capacity is fitting noise.
 */
export const BASELINE_OPTIONS: Partial<ModelOptions> = {
  hidden: [],
  dropout: 0,
  l2: 1e-4,
  learningRate: 1e-2,
  // one layer: per-batch overhead dominates, so fewer, larger batches
  batchSize: 2048,
  maxEpochs: 30,
  patience: 3,
};
