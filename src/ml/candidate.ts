import { BASELINE_OPTIONS } from './baseline.js';
import { evaluationMetrics, rocAuc, type EvaluationMetrics } from './metrics.js';
import { calibrate, hashLabelledData, MLP_DEFAULTS, prepareInputs, trainModel, type ChurnModel, type ModelOptions, type TrainModelInput } from './model.js';
import { blendNetworks } from './network.js';
import { networkLogits, scoreMatrix } from './predict.js';
import { AUC_TIE } from './promotion.js';
import { createRng, permutation, type Rng } from './random.js';
import type { LabelledData } from './types.js';

/**
 * Model selection. Every run trains, on the same standardised inputs:
 *
 * - the network: MLP_DEFAULTS first, then hyperparameters drawn (seeded) from NETWORK_SPACE;
 * - a tuned logistic regression: BASELINE_OPTIONS with each L2 penalty in LOGISTIC_L2;
 *
 * The search trials train on a seeded subsample of the training rows (whole customers, churners and
 * non-churners sampled at the same rate, at most `searchRows` rows; all rows when fewer), each
 * early-stopped on the full validation months; the best trial of each family (validation ROC-AUC)
 * is then refitted on all training rows: the logistic regression from scratch, the network from its
 * trial weights, early-stopped again on validation with patience REFIT_PATIENCE. The number of
 * trials is fixed, so the same seed and data run the same trials on any machine. Then the refitted
 * network, logistic regression and blends of their logits are compared on the calibration months
 * (newer than validation, older than the held-out months, a horizon apart, never used by the
 * optimiser or early stopping). The simplest model within AUC_TIE
 * of the best is chosen (logistic < network < blend), calibrated on those months, and served the
 * same way whatever it is. The tuned logistic regression is also the baseline the chosen model must
 * beat on the held-out months.
 */

export interface SearchOptions {
  /** network trials, the defaults included (default 3) */
  networkTrials: number;
  /** most training rows a search trial sees (default 20,000); the refits see all of them */
  searchRows: number;
  /**
   * safety guard, not a budget (default 900 s): no further search trial starts after this many
   * seconds. Set far above the normal run time (about a minute at 100,000 rows on 2 cores), so it
   * only stops a pathologically slow machine; when it does, selection.skippedForBudget says so and
   * the run is no longer the same as elsewhere. The refits always run.
   */
  budgetSeconds: number;
}

export const SEARCH_DEFAULTS: SearchOptions = { networkTrials: 3, searchRows: 20_000, budgetSeconds: 900 };

export const NETWORK_SPACE = {
  hidden: [[64, 32], [32], [128, 64], [32, 16]],
  dropout: [0.1, 0.2, 0.3],
  l2: [1e-4, 3e-4, 1e-3, 3e-3],
  learningRate: [1e-3, 3e-3, 5e-3],
} as const;

/** early-stopping patience of the network's refit: it starts from trained weights, so it needs fewer epochs to settle */
export const REFIT_PATIENCE = 2;

export const LOGISTIC_L2 = [1e-5, 1e-4, 1e-3] as const;
export const BLEND_WEIGHTS = [0.25, 0.5, 0.75] as const;
/**
 * A blend is considered only when the network alone is within this ROC-AUC of the logistic
 * regression on the calibration months: mixing in a network that learnt little only adds noise,
 * which on a small account can look like a win on a few hundred churners.
 */
export const BLEND_MAX_GAP = 0.01;

export interface TrialRecord {
  family: 'network' | 'logistic';
  options: Partial<ModelOptions>;
  validAuc: number;
  epochs: number;
  seconds: number;
}

export interface ModelSelection {
  chosen: 'network' | 'logistic' | 'blend';
  /** weight of the network's logit in the blend (when chosen is blend) */
  blendWeight?: number;
  reason: string;
  /** ROC-AUC of each family on the calibration months, where the choice was made */
  validationAuc: { network: number; logistic: number; blend: number; blendWeight: number };
  validationMonths: 'calib';
  trials: TrialRecord[];
  /** training rows the search trials saw (a customer-stratified subsample), of trainRows */
  searchRows: number;
  trainRows: number;
  /** the best trial of each family refitted on all training rows */
  refits: TrialRecord[];
  /** search trials not started because the safety guard (budgetSeconds) fired; 0 in a normal run */
  skippedForBudget: number;
  budgetSeconds: number;
  seconds: number;
}

export interface TrainCandidateInput extends TrainModelInput {
  /** held-out rows for the metrics that decide promotion; calib is used when absent */
  test?: LabelledData;
  /** pinned logistic-regression options (the search varies the L2 penalty unless pinned here) */
  baselineOptions?: Partial<ModelOptions>;
  search?: Partial<SearchOptions>;
  /** after each trial and refit: steps finished and steps planned (the total shrinks when the safety guard ends the search) */
  onTrial?: (done: number, total: number) => void;
}

export interface CandidateResult {
  /** the chosen model (network, logistic regression or blend) */
  model: ChurnModel;
  /** the tuned logistic regression; the same object as `model` when it was chosen */
  baseline: ChurnModel;
  metrics: EvaluationMetrics;
  baselineMetrics: EvaluationMetrics;
  selection: ModelSelection;
  /** which split the metrics were computed on */
  evaluatedOn: 'test' | 'calib';
}

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;

/** Trial options: the caller's options are pinned; the search varies only what they leave open. */
function networkTrials(pinned: Partial<ModelOptions>, count: number, seed: number): Partial<ModelOptions>[] {
  const rng = createRng(seed ^ 0x7e57);
  const out: Partial<ModelOptions>[] = [{ ...pinned }];
  const seen = new Set([JSON.stringify({ ...MLP_DEFAULTS, ...pinned })]);
  for (let attempt = 0; out.length < count && attempt < 50; attempt++) {
    const drawn: Partial<ModelOptions> = {
      hidden: [...pick(rng, NETWORK_SPACE.hidden)],
      dropout: pick(rng, NETWORK_SPACE.dropout),
      l2: pick(rng, NETWORK_SPACE.l2),
      learningRate: pick(rng, NETWORK_SPACE.learningRate),
    };
    const options = { ...drawn, ...pinned };
    const key = JSON.stringify({ ...MLP_DEFAULTS, ...options });
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(options);
  }
  return out;
}

function logisticTrials(pinned: Partial<ModelOptions>, epochCap: number | undefined): Partial<ModelOptions>[] {
  const cap = epochCap !== undefined && epochCap < BASELINE_OPTIONS.maxEpochs! ? { maxEpochs: epochCap } : {};
  if (pinned.l2 !== undefined) return [{ ...BASELINE_OPTIONS, ...cap, ...pinned }];
  return LOGISTIC_L2.map((l2) => ({ ...BASELINE_OPTIONS, ...cap, l2, ...pinned }));
}

function aucOf(model: ChurnModel, data: LabelledData): number {
  return rocAuc(data.y, networkLogits(model, data.x));
}

/**
 * Rows for the search trials: all of them when there are at most `cap`; otherwise whole customers
 * (data.groups; each row its own group when absent) drawn in a seeded order, customers with a churn
 * month and those without at the same rate, up to `cap` rows (never more). Sorted row indices.
 */
export function searchSample(data: LabelledData, cap: number, seed: number): Uint32Array {
  const rows = data.y.length;
  if (rows <= cap) return Uint32Array.from({ length: rows }, (_, i) => i);
  const groupOf = (r: number) => (data.groups ? data.groups[r]! : r);
  const members = new Map<number, number[]>();
  const churned = new Set<number>();
  for (let r = 0; r < rows; r++) {
    const g = groupOf(r);
    let list = members.get(g);
    if (!list) members.set(g, (list = []));
    list.push(r);
    if (data.y[r]) churned.add(g);
  }
  const rate = cap / rows;
  const rng = createRng(seed ^ 0x5a3b1e);
  const take: number[] = [];
  for (const stratum of [[...members.keys()].filter((g) => churned.has(g)), [...members.keys()].filter((g) => !churned.has(g))]) {
    const stratumRows = stratum.reduce((n, g) => n + members.get(g)!.length, 0);
    const want = Math.floor(stratumRows * rate);
    const order = permutation(stratum.length, rng);
    let got = 0;
    for (let i = 0; i < order.length && got < want; i++) {
      const list = members.get(stratum[order[i]!]!)!;
      if (got + list.length > want) continue; // the cap is a cap: a customer who does not fit is left out whole
      take.push(...list);
      got += list.length;
    }
  }
  return Uint32Array.from(take).sort();
}

function subsetRows(data: LabelledData, prepared: Float32Array, index: Uint32Array): { data: LabelledData; prepared: Float32Array } {
  const cols = data.x.cols;
  const x = new Float32Array(index.length * cols);
  const z = new Float32Array(index.length * cols);
  const y = new Uint8Array(index.length);
  index.forEach((r, i) => {
    x.set(data.x.data.subarray(r * cols, (r + 1) * cols), i * cols);
    z.set(prepared.subarray(r * cols, (r + 1) * cols), i * cols);
    y[i] = data.y[r]!;
  });
  return { data: { x: { data: x, rows: index.length, cols }, y }, prepared: z };
}

/** Trains the network and logistic trials, chooses by time-based validation, scores on held-out rows. */
export async function trainCandidate(input: TrainCandidateInput): Promise<CandidateResult> {
  const started = performance.now();
  const search: SearchOptions = { ...SEARCH_DEFAULTS, ...input.search };
  const elapsed = () => (performance.now() - started) / 1000;
  const dataHash = input.dataHash ?? hashLabelledData(input.train, input.valid, input.calib, ...(input.test ? [input.test] : []));
  const logKinds = input.options?.logKinds ?? MLP_DEFAULTS.logKinds;
  const prepared = prepareInputs(input.train, input.valid, input.featureSet, logKinds);
  const sample = searchSample(input.train, search.searchRows, input.seed);
  const whole = sample.length === input.train.y.length;
  const searchSet = whole ? { data: input.train, prepared } : (() => {
    const sub = subsetRows(input.train, prepared.train, sample);
    return { data: sub.data, prepared: { ...prepared, train: sub.prepared } };
  })();
  const trials: TrialRecord[] = [];
  const refits: TrialRecord[] = [];
  let skipped = 0;
  let done = 0;

  const runFamily = async (family: TrialRecord['family'], optionsList: Partial<ModelOptions>[]): Promise<ChurnModel> => {
    let best: { model: ChurnModel; auc: number; options: Partial<ModelOptions>; seed: number } | null = null;
    for (const [i, options] of optionsList.entries()) {
      if (i > 0 && elapsed() > search.budgetSeconds) {
        skipped += optionsList.length - i;
        break;
      }
      const t0 = performance.now();
      const model = await trainModel({ ...input, train: searchSet.data, dataHash, prepared: searchSet.prepared, options, seed: input.seed + i, onEpoch: family === 'network' ? input.onEpoch : undefined });
      const auc = aucOf(model, input.valid);
      trials.push({ family, options, validAuc: auc, epochs: model.metadata.training.epochs, seconds: (performance.now() - t0) / 1000 });
      input.onTrial?.(++done, planned - skipped);
      // NaN (one class in validation) never beats a finite AUC; the first trial stands in.
      if (!best || auc > best.auc) {
        best?.model.network.dispose();
        best = { model, auc, options, seed: input.seed + i };
      } else model.network.dispose();
    }
    if (whole) return best!.model;
    // The best configuration on all training rows, from its trial weights.
    const t0 = performance.now();
    const weights = best!.model.network.getWeights();
    // The logistic regression (the baseline every model is judged against) is refitted from scratch
    // exactly as a lone baseline would be; the network continues from its trial weights.
    const warm = family === 'network';
    const refitOptions = warm ? { ...best!.options, patience: Math.min(best!.options.patience ?? MLP_DEFAULTS.patience, REFIT_PATIENCE) } : best!.options;
    const refit = await trainModel({ ...input, dataHash, prepared, options: refitOptions, seed: best!.seed, initialWeights: warm ? weights : undefined, onEpoch: family === 'network' ? input.onEpoch : undefined });
    best!.model.network.dispose();
    refits.push({ family, options: refitOptions, validAuc: aucOf(refit, input.valid), epochs: refit.metadata.training.epochs, seconds: (performance.now() - t0) / 1000 });
    input.onTrial?.(++done, planned - skipped);
    return refit;
  };

  const logisticList = logisticTrials(input.baselineOptions ?? {}, input.options?.maxEpochs);
  const networkList = networkTrials(input.options ?? {}, search.networkTrials, input.seed);
  const planned = logisticList.length + networkList.length + (whole ? 0 : 2);
  const logistic = await runFamily('logistic', logisticList);
  const network = await runFamily('network', networkList);
  if (skipped > 0) input.onTrial?.(done, done);

  // Choose on the calibration months: never seen by the optimiser or early stopping.
  const calib = input.calib;
  const zNet = networkLogits(network, calib.x);
  const zLog = networkLogits(logistic, calib.x);
  const netAuc = rocAuc(calib.y, zNet);
  const logAuc = rocAuc(calib.y, zLog);
  let blend = { auc: -Infinity, weight: 0.5 };
  const blendable = Number.isFinite(netAuc) && Number.isFinite(logAuc) && netAuc >= logAuc - BLEND_MAX_GAP;
  for (const w of blendable ? BLEND_WEIGHTS : []) {
    const auc = rocAuc(calib.y, Float32Array.from(zNet, (z, i) => w * z + (1 - w) * zLog[i]!));
    if (auc > blend.auc) blend = { auc, weight: w };
  }
  const finite = (v: number) => (Number.isFinite(v) ? v : -Infinity);
  const best = Math.max(finite(netAuc), finite(logAuc), finite(blend.auc));
  const f4 = (v: number) => v.toFixed(4);
  const scores = `calibration-month ROC-AUC: network ${f4(netAuc)}, logistic ${f4(logAuc)}, ${blendable ? `blend ${f4(blend.auc)} (network weight ${blend.weight})` : `no blend (the network is more than ${BLEND_MAX_GAP} behind)`}`;
  let chosen: ModelSelection['chosen'];
  let reason: string;
  if (finite(logAuc) >= best - AUC_TIE) {
    chosen = 'logistic';
    reason = `the logistic regression is within ${AUC_TIE} of the best (${scores}); the simplest model wins a tie`;
  } else if (finite(netAuc) >= best - AUC_TIE) {
    chosen = 'network';
    reason = `the network is within ${AUC_TIE} of the best and beats the logistic regression (${scores})`;
  } else {
    chosen = 'blend';
    reason = `the blend beats both by more than ${AUC_TIE} (${scores})`;
  }

  let model: ChurnModel;
  if (chosen === 'logistic') {
    model = logistic;
    network.network.dispose();
  } else if (chosen === 'network') {
    model = network;
  } else {
    const blended = blendNetworks(network.network, logistic.network, blend.weight);
    network.network.dispose();
    model = {
      network: blended,
      featureSet: network.featureSet,
      metadata: {
        ...network.metadata,
        architecture: 'blend',
        training: { ...network.metadata.training, seconds: network.metadata.training.seconds + logistic.metadata.training.seconds },
      },
    };
    calibrate(model, calib);
  }
  const selection: ModelSelection = {
    chosen,
    ...(chosen === 'blend' ? { blendWeight: blend.weight } : {}),
    reason,
    validationAuc: { network: netAuc, logistic: logAuc, blend: blend.auc, blendWeight: blend.weight },
    validationMonths: 'calib',
    trials,
    searchRows: searchSet.data.y.length,
    trainRows: input.train.y.length,
    refits,
    skippedForBudget: skipped,
    budgetSeconds: search.budgetSeconds,
    seconds: 0,
  };
  const held = input.test ?? input.calib;
  const metrics = evaluationMetrics(held.y, scoreMatrix(model, held.x), held.churnType);
  const baselineMetrics = chosen === 'logistic' ? metrics : evaluationMetrics(held.y, scoreMatrix(logistic, held.x), held.churnType);
  selection.seconds = elapsed();
  model.metadata.selection = selection;
  model.metadata.metrics = metrics;
  model.metadata.baselineMetrics = baselineMetrics;
  if (logistic !== model) logistic.metadata.metrics = baselineMetrics;
  return { model, baseline: logistic, metrics, baselineMetrics, selection, evaluatedOn: input.test ? 'test' : 'calib' };
}

/** Frees the networks of a candidate result (the chosen model and the baseline may be one). */
export function disposeCandidate(result: Pick<CandidateResult, 'model' | 'baseline'>): void {
  result.model.network.dispose();
  if (result.baseline !== result.model) result.baseline.network.dispose();
}
