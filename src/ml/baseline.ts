import { trainModel, type ChurnModel, type ModelOptions, type TrainModelInput } from './model.js';

/**
 * The simple model every candidate must beat: logistic regression (no hidden layer) on the same
 * standardised inputs, class weights and calibration as the MLP, trained on the same splits.
 * If an MLP cannot beat this, its extra capacity is fitting noise.
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

/** `input.options` are the MLP's (only its epoch cap carries over); `overrides` tune the baseline itself. */
export function trainBaseline(input: TrainModelInput, overrides: Partial<ModelOptions> = {}): Promise<ChurnModel> {
  const options = { ...input.options, ...BASELINE_OPTIONS, ...pickEpochCap(input.options), ...overrides };
  return trainModel({ ...input, options, onEpoch: undefined });
}

/** A caller's smaller epoch budget (fast tests, quick demos) also applies to the baseline. */
function pickEpochCap(options: Partial<ModelOptions> | undefined): Partial<ModelOptions> {
  const cap = options?.maxEpochs;
  return cap !== undefined && cap < BASELINE_OPTIONS.maxEpochs! ? { maxEpochs: cap } : {};
}
