import { createHash } from 'node:crypto';
import { tf, activeBackend } from './backend.js';
import { fitIsotonic, fitPlatt, type Calibration } from './calibration.js';
import type { EvaluationMetrics } from './metrics.js';
import { buildModel, fitNetwork, type EpochInfo, type FitOptions } from './network.js';
import { fitNormalisation, medianRow, normaliseMatrix, type Normalisation } from './normalisation.js';
import { networkLogits } from './predict.js';
import type { FeatureSet, FeatureSpec, LabelledData } from './types.js';
import type { ModelSelection } from './candidate.js';
import { featureSetWithVocabulary, type CatalogueVocabulary } from './catalogue.js';

/**
 * A trained churn model: the network, its input normalisation, its calibration and the metadata
 * stored beside it. trainModel fits one; candidate.ts chooses among several.
 */

export type { EpochInfo } from './network.js';

export interface ModelOptions extends FitOptions {
  calibration: 'platt' | 'isotonic';
  /** feature kinds whose values get sign(v)*log1p(|v|) before standardising (heavy tails), unless already log-scaled */
  logKinds: FeatureSpec['kind'][];
}

export const MLP_DEFAULTS: ModelOptions = {
  hidden: [64, 32],
  dropout: 0.2,
  l2: 1e-3,
  learningRate: 3e-3,
  batchSize: 1024,
  maxEpochs: 40,
  patience: 4,
  classWeighting: true,
  calibration: 'platt',
  logKinds: ['money', 'count'],
};

export interface TrainingSummary {
  rows: number;
  positives: number;
  epochs: number;
  bestEpoch: number;
  bestValidLoss: number;
  seconds: number;
  backend: string;
}

/** What metadata.json holds beside model.json: everything needed to score and to audit. */
export interface ModelMetadata {
  format: 'churn-model/1';
  /** mlp, logistic regression, or a fixed blend of the two logits (one network file either way) */
  architecture: 'mlp' | 'logistic' | 'blend';
  options: Omit<ModelOptions, 'logKinds'> & { logKinds: string[] };
  featureSet: { version: string; features: Array<{ name: string; kind: FeatureSpec['kind']; description: string }> };
  normalisation: Normalisation;
  /** median training customer in raw units: the "ordinary customer" explanations compare against */
  reference: number[];
  calibration: Calibration;
  seed: number;
  createdAt: string;
  horizonDays?: number;
  trainingWindow?: { from: string; to: string };
  dataHash: string;
  training: TrainingSummary;
  /** the catalogue vocabulary (products, prices, countries, list prices) learned on the training months */
  vocabulary?: CatalogueVocabulary;
  /** which model family the run chose and why (candidate.ts), with the hyperparameters it tried */
  selection?: ModelSelection;
  /** held-out metrics of this model, and of the baseline trained in the same run */
  metrics?: EvaluationMetrics;
  baselineMetrics?: EvaluationMetrics;
  /** set when the model is saved to the registry */
  name?: string;
  version?: string;
}

/** A trained network with everything needed to turn a raw feature matrix into calibrated scores. */
export interface ChurnModel {
  network: tf.LayersModel;
  metadata: ModelMetadata;
  /** the live feature set, whose sentence functions explanations use */
  featureSet: FeatureSet;
}

function checkMatrix(data: LabelledData, featureSet: FeatureSet, label: string): void {
  const { x, y } = data;
  if (x.cols !== featureSet.features.length) {
    throw new Error(`${label}: matrix has ${x.cols} columns but feature set ${featureSet.version} has ${featureSet.features.length}`);
  }
  if (x.data.length !== x.rows * x.cols) throw new Error(`${label}: data length ${x.data.length} != rows x cols`);
  if (y.length !== x.rows) throw new Error(`${label}: ${y.length} labels for ${x.rows} rows`);
}

/** sha256 over the matrices and labels, so metadata can say exactly which data trained a model. */
export function hashLabelledData(...datasets: LabelledData[]): string {
  const hash = createHash('sha256');
  for (const d of datasets) {
    hash.update(`${d.x.rows}x${d.x.cols};`);
    hash.update(new Uint8Array(d.x.data.buffer, d.x.data.byteOffset, d.x.data.byteLength));
    hash.update(new Uint8Array(d.y.buffer, d.y.byteOffset, d.y.byteLength));
  }
  return hash.digest('hex');
}

export interface TrainModelInput {
  train: LabelledData;
  /** early stopping only */
  valid: LabelledData;
  /** calibration only: never seen by the optimiser or early stopping */
  calib: LabelledData;
  featureSet: FeatureSet;
  seed: number;
  /** written to metadata.createdAt; time is an argument, never read from the clock here */
  now: Date;
  options?: Partial<ModelOptions>;
  horizonDays?: number;
  trainingWindow?: { from: string; to: string };
  dataHash?: string;
  /** the training set's catalogue vocabulary, stored in metadata so scoring fills the same slots */
  vocabulary?: CatalogueVocabulary;
  onEpoch?: (info: EpochInfo) => void;
}

function describeFeatures(featureSet: FeatureSet): ModelMetadata['featureSet'] {
  return {
    version: featureSet.version,
    features: featureSet.features.map((f) => ({ name: f.name, kind: f.kind, description: f.description })),
  };
}

/** Standardised train/valid inputs, computed once and shared by every network of a selection run. */
export interface PreparedInputs {
  normalisation: Normalisation;
  train: Float32Array;
  valid: Float32Array;
  logKinds: string[];
}

export function prepareInputs(train: LabelledData, valid: LabelledData, featureSet: FeatureSet, logKinds: readonly string[]): PreparedInputs {
  const normalisation = fitNormalisation(train.x, featureSet, logKinds);
  return { normalisation, train: normaliseMatrix(train.x, normalisation), valid: normaliseMatrix(valid.x, normalisation), logKinds: [...logKinds] };
}

function checkSplits(input: Pick<TrainModelInput, 'train' | 'valid' | 'calib' | 'featureSet'>): void {
  const { train, valid, calib, featureSet } = input;
  checkMatrix(train, featureSet, 'train');
  checkMatrix(valid, featureSet, 'valid');
  checkMatrix(calib, featureSet, 'calib');
  if (train.x.rows === 0 || valid.x.rows === 0 || calib.x.rows === 0) throw new Error('train, valid and calib splits must all have rows');
}

/** Fits a (re)calibration of the model's logits on the calibration rows, in place. */
export function calibrate(model: ChurnModel, calib: LabelledData): void {
  const calibLogits = networkLogits(model, calib.x);
  model.metadata.calibration =
    model.metadata.options.calibration === 'isotonic'
      ? fitIsotonic(Float32Array.from(calibLogits, (z) => 1 / (1 + Math.exp(-z))), calib.y)
      : fitPlatt(calibLogits, calib.y);
}

/**
 * Trains one network (MLP, or logistic regression when hidden is []) and calibrates it.
 * `prepared`: inputs already standardised with the same logKinds (a selection run shares them).
 */
export async function trainModel(
  input: TrainModelInput & {
    prepared?: PreparedInputs;
    /** start from these weights (same architecture) instead of a fresh initialisation: a refit; they stand as epoch 0 */
    initialWeights?: tf.Tensor[];
  },
): Promise<ChurnModel> {
  const { train, valid, calib, featureSet, seed } = input;
  checkSplits(input);
  const options: ModelOptions = { ...MLP_DEFAULTS, ...input.options };
  const backend = activeBackend() ?? tf.getBackend();
  const started = performance.now();

  const prepared =
    input.prepared && input.prepared.logKinds.join() === options.logKinds.join() ? input.prepared : prepareInputs(train, valid, featureSet, options.logKinds);
  const network = buildModel(train.x.cols, { hidden: options.hidden, dropout: options.dropout, seed });
  if (input.initialWeights) network.setWeights(input.initialWeights);
  const fit = await fitNetwork(network, { x: prepared.train, y: train.y, cols: train.x.cols }, { x: prepared.valid, y: valid.y }, options, seed, input.onEpoch, input.initialWeights !== undefined);

  let positives = 0;
  for (let i = 0; i < train.y.length; i++) positives += train.y[i]!;
  const metadata: ModelMetadata = {
    format: 'churn-model/1',
    architecture: options.hidden.length ? 'mlp' : 'logistic',
    options: { ...options, logKinds: [...options.logKinds] },
    featureSet: describeFeatures(featureSet),
    normalisation: prepared.normalisation,
    reference: medianRow(train.x),
    calibration: { method: 'none' },
    seed,
    createdAt: input.now.toISOString(),
    horizonDays: input.horizonDays,
    trainingWindow: input.trainingWindow,
    dataHash: input.dataHash ?? hashLabelledData(train, valid, calib),
    ...(input.vocabulary ? { vocabulary: input.vocabulary } : {}),
    training: {
      rows: train.x.rows,
      positives,
      epochs: fit.epochs,
      bestEpoch: fit.bestEpoch,
      bestValidLoss: fit.bestValidLoss,
      seconds: 0,
      backend,
    },
  };
  const model: ChurnModel = { network, metadata, featureSet: featureSetWithVocabulary(featureSet, input.vocabulary) };
  calibrate(model, calib);
  metadata.training.seconds = (performance.now() - started) / 1000;
  return model;
}
