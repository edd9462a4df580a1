import { createHash } from 'node:crypto';
import { tf, activeBackend } from './backend.js';
import { fitIsotonic, fitPlatt, type Calibration } from './calibration.js';
import { trainBaseline } from './baseline.js';
import { evaluationMetrics, type ClassificationMetrics, type EvaluationMetrics } from './metrics.js';
import { networkLogits, scoreMatrix } from './predict.js';
import { createRng, nextSeed, permutation } from './random.js';
import type { FeatureSet, FeatureSpec, LabelledData, Matrix } from './types.js';

export interface ModelOptions {
  /** hidden layer widths; [] is logistic regression */
  hidden: number[];
  dropout: number;
  /** L2 penalty on kernels, added to the mean loss */
  l2: number;
  learningRate: number;
  batchSize: number;
  maxEpochs: number;
  /** epochs without validation improvement before stopping (best weights are restored) */
  patience: number;
  /** weight classes inversely to their frequency so rare churners are not ignored */
  classWeighting: boolean;
  calibration: 'platt' | 'isotonic';
  /** feature kinds whose values get sign(v)*log1p(|v|) before standardising (heavy tails) */
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

export interface Normalisation {
  transform: Array<'signed_log1p' | 'none'>;
  mean: number[];
  std: number[];
}

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
  architecture: 'mlp' | 'logistic';
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

/**
 * Dropout whose mask changes every step but is seeded: tf.layers.dropout with a seed reuses the
 * same mask on every batch, and without one it reads Math.random, breaking reproducibility.
 * Identity at inference, so saved models behave the same on every backend.
 */
export class SeededDropout extends tf.layers.Layer {
  static className = 'SeededDropout';
  readonly rate: number;
  readonly seed: number;
  private step = 0;

  constructor(config: { rate: number; seed: number; name?: string }) {
    super({ name: config.name });
    this.rate = config.rate;
    this.seed = config.seed;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    if (kwargs['training'] !== true || this.rate <= 0) return x;
    return tf.dropout(x, this.rate, undefined, this.seed + this.step++);
  }

  override computeOutputShape(shape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return shape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed };
  }
}
tf.serialization.registerClass(SeededDropout);

/**
 * The network: inputDim -> hidden (ReLU, seeded He init, seeded dropout) -> 1 logit. The output
 * is a logit, not a probability, so the loss is numerically stable and Platt scaling works on it.
 */
export function buildModel(inputDim: number, options: Pick<ModelOptions, 'hidden' | 'dropout'> & { seed: number }): tf.Sequential {
  const rng = createRng(options.seed);
  const model = tf.sequential();
  options.hidden.forEach((units, i) => {
    model.add(
      tf.layers.dense({
        units,
        activation: 'relu',
        inputShape: i === 0 ? [inputDim] : undefined,
        kernelInitializer: tf.initializers.heNormal({ seed: nextSeed(rng) }),
        biasInitializer: 'zeros',
        name: `hidden_${i + 1}`,
      }),
    );
    if (options.dropout > 0) model.add(new SeededDropout({ rate: options.dropout, seed: nextSeed(rng), name: `dropout_${i + 1}` }));
  });
  model.add(
    tf.layers.dense({
      units: 1,
      activation: 'linear',
      inputShape: options.hidden.length === 0 ? [inputDim] : undefined,
      kernelInitializer: tf.initializers.glorotUniform({ seed: nextSeed(rng) }),
      biasInitializer: 'zeros',
      name: 'churn_logit',
    }),
  );
  return model;
}

function checkMatrix(data: LabelledData, featureSet: FeatureSet, label: string): void {
  const { x, y } = data;
  if (x.cols !== featureSet.features.length) {
    throw new Error(`${label}: matrix has ${x.cols} columns but feature set ${featureSet.version} has ${featureSet.features.length}`);
  }
  if (x.data.length !== x.rows * x.cols) throw new Error(`${label}: data length ${x.data.length} != rows x cols`);
  if (y.length !== x.rows) throw new Error(`${label}: ${y.length} labels for ${x.rows} rows`);
}

function transformValue(v: number, transform: 'signed_log1p' | 'none'): number {
  if (transform === 'none') return v;
  return v < 0 ? -Math.log1p(-v) : Math.log1p(v);
}

/** Mean/std per column on the training split, after the heavy-tail transform. */
export function fitNormalisation(x: Matrix, featureSet: FeatureSet, logKinds: readonly string[]): Normalisation {
  const { rows, cols, data } = x;
  const transform = featureSet.features.map((f) => (logKinds.includes(f.kind) ? 'signed_log1p' : 'none') as 'signed_log1p' | 'none');
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

interface FitResult {
  epochs: number;
  bestEpoch: number;
  bestValidLoss: number;
}

/**
 * Mini-batch Adam on weighted sigmoid cross-entropy + L2, with our own seeded shuffle each epoch
 * and early stopping on the validation loss (best weights restored).
 */
async function fitNetwork(
  network: tf.Sequential,
  train: { x: Float32Array; y: Uint8Array; cols: number },
  valid: { x: Float32Array; y: Uint8Array },
  options: ModelOptions,
  seed: number,
  onEpoch?: (info: EpochInfo) => void,
): Promise<FitResult> {
  const rows = train.y.length;
  const cols = train.cols;
  let positives = 0;
  for (let i = 0; i < rows; i++) positives += train.y[i]!;
  const negatives = rows - positives;
  const wPos = options.classWeighting && positives > 0 ? rows / (2 * positives) : 1;
  const wNeg = options.classWeighting && negatives > 0 ? rows / (2 * negatives) : 1;
  const weightsOf = (y: Uint8Array) => Float32Array.from(y, (v) => (v ? wPos : wNeg));

  const xTrain = tf.tensor2d(train.x, [rows, cols]);
  const yTrain = tf.tensor2d(Float32Array.from(train.y), [rows, 1]);
  const wTrain = tf.tensor2d(weightsOf(train.y), [rows, 1]);
  const validRows = valid.y.length;
  const xValid = tf.tensor2d(valid.x, [validRows, cols]);
  const yValid = tf.tensor2d(Float32Array.from(valid.y), [validRows, 1]);
  const wValid = tf.tensor2d(weightsOf(valid.y), [validRows, 1]);

  const optimizer = tf.train.adam(options.learningRate);
  const variables = network.trainableWeights.map((w) => w.read() as tf.Variable);
  const kernels = network.layers.filter((l) => l.getClassName() === 'Dense').map((l) => l.trainableWeights[0]!.read());
  const rng = createRng(seed ^ 0x5eed);
  let best = { loss: Infinity, epoch: 0, weights: network.getWeights().map((w) => w.clone()) };
  let epoch = 0;
  try {
    for (epoch = 1; epoch <= options.maxEpochs; epoch++) {
      const order = tf.tensor1d(Int32Array.from(permutation(rows, rng)), 'int32');
      const [xs, ys, ws] = tf.tidy(() => [tf.gather(xTrain, order), tf.gather(yTrain, order), tf.gather(wTrain, order)]);
      order.dispose();
      for (let start = 0; start < rows; start += options.batchSize) {
        const size = Math.min(options.batchSize, rows - start);
        tf.tidy(() => {
          const xb = xs!.slice([start, 0], [size, cols]);
          const yb = ys!.slice([start, 0], [size, 1]);
          const wb = ws!.slice([start, 0], [size, 1]);
          optimizer.minimize(
            () => {
              const logits = network.apply(xb, { training: true }) as tf.Tensor;
              const data = tf.losses.sigmoidCrossEntropy(yb, logits, wb);
              if (options.l2 <= 0) return data as tf.Scalar;
              const penalty = tf.addN(kernels.map((k) => tf.sum(tf.square(k))));
              return tf.add(data, tf.mul(options.l2, penalty)) as tf.Scalar;
            },
            false,
            variables,
          );
        });
      }
      xs!.dispose();
      ys!.dispose();
      ws!.dispose();
      const validLoss = tf.tidy(() => {
        const logits = network.predict(xValid, { batchSize: 16_384 }) as tf.Tensor;
        return tf.losses.sigmoidCrossEntropy(yValid, logits, wValid).dataSync()[0]!;
      });
      onEpoch?.({ epoch, validLoss });
      if (validLoss < best.loss - 1e-5) {
        best.weights.forEach((w) => w.dispose());
        best = { loss: validLoss, epoch, weights: network.getWeights().map((w) => w.clone()) };
      } else if (epoch - best.epoch >= options.patience) {
        break;
      }
      // Let the event loop breathe (progress bars, HTTP health checks) between epochs.
      await new Promise((resolve) => setImmediate(resolve));
    }
    network.setWeights(best.weights);
    return { epochs: Math.min(epoch, options.maxEpochs), bestEpoch: best.epoch, bestValidLoss: best.loss };
  } finally {
    best.weights.forEach((w) => w.dispose());
    optimizer.dispose();
    tf.dispose([xTrain, yTrain, wTrain, xValid, yValid, wValid]);
  }
}

export interface EpochInfo {
  epoch: number;
  validLoss: number;
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
  onEpoch?: (info: EpochInfo) => void;
}

function describeFeatures(featureSet: FeatureSet): ModelMetadata['featureSet'] {
  return {
    version: featureSet.version,
    features: featureSet.features.map((f) => ({ name: f.name, kind: f.kind, description: f.description })),
  };
}

/** Trains one network (MLP, or logistic regression when hidden is []) and calibrates it. */
export async function trainModel(input: TrainModelInput): Promise<ChurnModel> {
  const { train, valid, calib, featureSet, seed } = input;
  checkMatrix(train, featureSet, 'train');
  checkMatrix(valid, featureSet, 'valid');
  checkMatrix(calib, featureSet, 'calib');
  if (train.x.rows === 0 || valid.x.rows === 0 || calib.x.rows === 0) throw new Error('train, valid and calib splits must all have rows');
  const options: ModelOptions = { ...MLP_DEFAULTS, ...input.options };
  const backend = activeBackend() ?? tf.getBackend();
  const started = performance.now();

  const normalisation = fitNormalisation(train.x, featureSet, options.logKinds);
  const network = buildModel(train.x.cols, { hidden: options.hidden, dropout: options.dropout, seed });
  const fit = await fitNetwork(
    network,
    { x: normaliseMatrix(train.x, normalisation), y: train.y, cols: train.x.cols },
    { x: normaliseMatrix(valid.x, normalisation), y: valid.y },
    options,
    seed,
    input.onEpoch,
  );

  let positives = 0;
  for (let i = 0; i < train.y.length; i++) positives += train.y[i]!;
  const metadata: ModelMetadata = {
    format: 'churn-model/1',
    architecture: options.hidden.length ? 'mlp' : 'logistic',
    options: { ...options, logKinds: [...options.logKinds] },
    featureSet: describeFeatures(featureSet),
    normalisation,
    reference: medianRow(train.x),
    calibration: { method: 'none' },
    seed,
    createdAt: input.now.toISOString(),
    horizonDays: input.horizonDays,
    trainingWindow: input.trainingWindow,
    dataHash: input.dataHash ?? hashLabelledData(train, valid, calib),
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
  const model: ChurnModel = { network, metadata, featureSet };
  const calibLogits = networkLogits(model, calib.x);
  metadata.calibration =
    options.calibration === 'isotonic'
      ? fitIsotonic(Float32Array.from(calibLogits, (z) => 1 / (1 + Math.exp(-z))), calib.y)
      : fitPlatt(calibLogits, calib.y);
  metadata.training.seconds = (performance.now() - started) / 1000;
  return model;
}

export interface TrainCandidateInput extends TrainModelInput {
  /** held-out rows for the metrics that decide promotion; calib is used when absent */
  test?: LabelledData;
  baselineOptions?: Partial<ModelOptions>;
}

export interface CandidateResult {
  model: ChurnModel;
  baseline: ChurnModel;
  metrics: EvaluationMetrics;
  baselineMetrics: EvaluationMetrics;
  /** which split the metrics were computed on */
  evaluatedOn: 'test' | 'calib';
}

/** Trains the MLP and the logistic baseline on the same splits and scores both on held-out rows. */
export async function trainCandidate(input: TrainCandidateInput): Promise<CandidateResult> {
  const dataHash = input.dataHash ?? hashLabelledData(input.train, input.valid, input.calib, ...(input.test ? [input.test] : []));
  const model = await trainModel({ ...input, dataHash });
  const baseline = await trainBaseline({ ...input, dataHash }, input.baselineOptions);
  const held = input.test ?? input.calib;
  const metrics = evaluationMetrics(held.y, scoreMatrix(model, held.x), held.churnType);
  const baselineMetrics = evaluationMetrics(held.y, scoreMatrix(baseline, held.x), held.churnType);
  model.metadata.metrics = metrics;
  model.metadata.baselineMetrics = baselineMetrics;
  baseline.metadata.metrics = baselineMetrics;
  return { model, baseline, metrics, baselineMetrics, evaluatedOn: input.test ? 'test' : 'calib' };
}

export interface PromotionDecision {
  promote: boolean;
  reason: string;
}

/** AUC differences smaller than this are a tie, decided by log loss. */
export const AUC_TIE = 1e-3;

type Comparable = Pick<ClassificationMetrics, 'rocAuc' | 'logLoss'>;

function overallOf(m: EvaluationMetrics | Comparable): Comparable {
  return 'overall' in m ? m.overall : m;
}

function beats(a: Comparable, b: Comparable): { wins: boolean; why: string } {
  if (!Number.isFinite(a.rocAuc)) return { wins: false, why: 'candidate AUC is undefined' };
  if (!Number.isFinite(b.rocAuc)) return { wins: true, why: 'the other AUC is undefined' };
  const diff = a.rocAuc - b.rocAuc;
  if (diff >= AUC_TIE) return { wins: true, why: `AUC ${a.rocAuc.toFixed(4)} > ${b.rocAuc.toFixed(4)}` };
  if (diff <= -AUC_TIE) return { wins: false, why: `AUC ${a.rocAuc.toFixed(4)} < ${b.rocAuc.toFixed(4)}` };
  const wins = a.logLoss < b.logLoss;
  return { wins, why: `AUC tie (${a.rocAuc.toFixed(4)} vs ${b.rocAuc.toFixed(4)}), log loss ${a.logLoss.toFixed(4)} ${wins ? '<' : '>='} ${b.logLoss.toFixed(4)}` };
}

/**
 * A candidate becomes champion only if it beats the baseline AND the current champion on the
 * same held-out rows: higher ROC-AUC, or within AUC_TIE and lower log loss. Pass no champion
 * metrics when there is no champion (or it cannot score this feature version).
 */
export function decidePromotion(
  candidate: EvaluationMetrics | Comparable,
  baseline: EvaluationMetrics | Comparable,
  champion?: EvaluationMetrics | Comparable,
): PromotionDecision {
  const vsBaseline = beats(overallOf(candidate), overallOf(baseline));
  if (!vsBaseline.wins) return { promote: false, reason: `does not beat the logistic baseline: ${vsBaseline.why}` };
  if (!champion) return { promote: true, reason: `beats the baseline (${vsBaseline.why}); no current champion` };
  const vsChampion = beats(overallOf(candidate), overallOf(champion));
  if (!vsChampion.wins) return { promote: false, reason: `does not beat the current champion: ${vsChampion.why}` };
  return { promote: true, reason: `beats the baseline (${vsBaseline.why}) and the champion (${vsChampion.why})` };
}

/**
 * When the network does not beat its own baseline, the baseline (a calibrated logistic
 * regression trained on the same rows) is still a model: on a small account it is often the
 * best one the data supports. It serves when there is no champion yet, or when it beats the
 * champion on the same held-out rows; otherwise the champion stays.
 */
export function decideBaselineFallback(baseline: EvaluationMetrics | Comparable, champion?: EvaluationMetrics | Comparable): PromotionDecision {
  if (!champion) return { promote: true, reason: 'no current champion, so the logistic baseline serves until a network beats it' };
  const vs = beats(overallOf(baseline), overallOf(champion));
  return vs.wins
    ? { promote: true, reason: `the logistic baseline beats the current champion (${vs.why})` }
    : { promote: false, reason: `the logistic baseline does not beat the current champion either (${vs.why})` };
}
