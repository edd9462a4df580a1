import { tf } from './backend.js';
import { createRng, nextSeed, permutation } from './random.js';

/**
 * The network and how it is fitted: a seeded MLP (or, with no hidden layer, logistic regression)
 * that outputs one churn logit, trained by mini-batch Adam with early stopping.
 */

/** What fitting needs to know; a subset of ModelOptions (model.ts). */
export interface FitOptions {
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
}

export interface EpochInfo {
  epoch: number;
  validLoss: number;
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
export function buildModel(inputDim: number, options: Pick<FitOptions, 'hidden' | 'dropout'> & { seed: number }): tf.Sequential {
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

export interface FitResult {
  epochs: number;
  bestEpoch: number;
  bestValidLoss: number;
}

/**
 * Mini-batch Adam on weighted sigmoid cross-entropy + L2, with our own seeded shuffle each epoch
 * and early stopping on the validation loss (best weights restored).
 */
export async function fitNetwork(
  network: tf.Sequential,
  train: { x: Float32Array; y: Uint8Array; cols: number },
  valid: { x: Float32Array; y: Uint8Array },
  options: FitOptions,
  seed: number,
  onEpoch?: (info: EpochInfo) => void,
  /** the network already holds trained weights (a refit): they are epoch 0, kept unless an epoch beats them */
  warmStart = false,
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
  const validLossNow = () =>
    tf.tidy(() => {
      const logits = network.predict(xValid, { batchSize: 16_384 }) as tf.Tensor;
      return tf.losses.sigmoidCrossEntropy(yValid, logits, wValid).dataSync()[0]!;
    });
  let best = { loss: warmStart ? validLossNow() : Infinity, epoch: 0, weights: network.getWeights().map((w) => w.clone()) };
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
      const validLoss = validLossNow();
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

/**
 * One network computing `weight * networkLogit + (1 - weight) * logisticLogit` on the same
 * standardised input: the blend is saved, loaded and served like any other model (one format
 * for all backends). Dropout is left out (it is the identity at inference); the trained weights
 * are copied, and the mixing layer is fixed, not trainable.
 */
export function blendNetworks(network: tf.LayersModel, logistic: tf.LayersModel, weight: number): tf.LayersModel {
  const inputDim = (network.inputs[0]!.shape[1] ?? 0) as number;
  const input = tf.input({ shape: [inputDim], name: 'features' });
  let h: tf.SymbolicTensor = input;
  const copies: [tf.layers.Layer, tf.Tensor[]][] = [];
  for (const layer of network.layers) {
    if (layer.getClassName() !== 'Dense') continue;
    const config = layer.getConfig() as { units: number; activation: string };
    const copy = tf.layers.dense({ units: config.units, activation: config.activation as 'relu' | 'linear', name: `mlp_${layer.name}` });
    h = copy.apply(h) as tf.SymbolicTensor;
    copies.push([copy, layer.getWeights()]);
  }
  const linear = logistic.layers.filter((l) => l.getClassName() === 'Dense');
  if (linear.length !== 1) throw new Error('the logistic model must be one dense layer');
  const lin = tf.layers.dense({ units: 1, activation: 'linear', name: 'logistic_logit' });
  const z = lin.apply(input) as tf.SymbolicTensor;
  copies.push([lin, linear[0]!.getWeights()]);
  const both = tf.layers.concatenate({ name: 'logits' }).apply([h, z]) as tf.SymbolicTensor;
  const mix = tf.layers.dense({ units: 1, useBias: false, trainable: false, name: 'blend_logit' });
  const out = mix.apply(both) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out, name: 'blend' });
  for (const [layer, weights] of copies) layer.setWeights(weights);
  const mixWeights = tf.tensor2d([[weight], [1 - weight]]);
  mix.setWeights([mixWeights]);
  mixWeights.dispose();
  return model;
}
