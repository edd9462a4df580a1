import { BASELINE_OPTIONS } from './baseline.js';
import { evaluationMetrics, rocAuc, type EvaluationMetrics } from './metrics.js';
import { calibrate, hashLabelledData, MLP_DEFAULTS, prepareInputs, trainModel, type ChurnModel, type ModelOptions, type TrainModelInput } from './model.js';
import { blendNetworks } from './network.js';
import { networkLogits, scoreMatrix } from './predict.js';
import { AUC_TIE } from './promotion.js';
import { createRng, type Rng } from './random.js';
import type { LabelledData } from './types.js';

/**
 * Model selection. Every run trains, on the same standardised inputs:
 *
 * - the network: MLP_DEFAULTS first, then hyperparameters drawn (seeded) from NETWORK_SPACE;
 * - a tuned logistic regression: BASELINE_OPTIONS with each L2 penalty in LOGISTIC_L2;
 *
 * each trial early-stops on the validation months and the best trial of each family (validation
 * ROC-AUC) is kept. Then the network, the logistic regression and blends of their logits are
 * compared on the calibration months (newer than validation, older than the held-out months, a
 * horizon apart, never used by the optimiser or early stopping). The simplest model within AUC_TIE
 * of the best is chosen (logistic < network < blend), calibrated on those months, and served the
 * same way whatever it is. Extra trials stop when the time budget is spent. The tuned logistic
 * regression is also the baseline the chosen model must beat on the held-out months.
 */

export interface SearchOptions {
  /** network trials, the defaults included (default 3) */
  networkTrials: number;
  /** seconds after which no further trial starts (default 240); at least one trial of each family always runs */
  budgetSeconds: number;
}

export const SEARCH_DEFAULTS: SearchOptions = { networkTrials: 3, budgetSeconds: 240 };

export const NETWORK_SPACE = {
  hidden: [[64, 32], [32], [128, 64], [32, 16]],
  dropout: [0.1, 0.2, 0.3],
  l2: [1e-4, 3e-4, 1e-3, 3e-3],
  learningRate: [1e-3, 3e-3, 5e-3],
} as const;

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
  /** trials not started because the budget was spent */
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
  /** after each trial: trials finished and trials planned (the total shrinks to `done` when the budget ends the search) */
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

/** Trains the network and logistic trials, chooses by time-based validation, scores on held-out rows. */
export async function trainCandidate(input: TrainCandidateInput): Promise<CandidateResult> {
  const started = performance.now();
  const search: SearchOptions = { ...SEARCH_DEFAULTS, ...input.search };
  const elapsed = () => (performance.now() - started) / 1000;
  const dataHash = input.dataHash ?? hashLabelledData(input.train, input.valid, input.calib, ...(input.test ? [input.test] : []));
  const logKinds = input.options?.logKinds ?? MLP_DEFAULTS.logKinds;
  const prepared = prepareInputs(input.train, input.valid, input.featureSet, logKinds);
  const trials: TrialRecord[] = [];
  let skipped = 0;

  const runFamily = async (family: TrialRecord['family'], optionsList: Partial<ModelOptions>[]): Promise<ChurnModel> => {
    let best: { model: ChurnModel; auc: number } | null = null;
    for (const [i, options] of optionsList.entries()) {
      if (i > 0 && elapsed() > search.budgetSeconds) {
        skipped += optionsList.length - i;
        break;
      }
      const t0 = performance.now();
      const model = await trainModel({ ...input, dataHash, prepared, options, seed: input.seed + i, onEpoch: family === 'network' ? input.onEpoch : undefined });
      const auc = aucOf(model, input.valid);
      trials.push({ family, options, validAuc: auc, epochs: model.metadata.training.epochs, seconds: (performance.now() - t0) / 1000 });
      input.onTrial?.(trials.length, planned - skipped);
      // NaN (one class in validation) never beats a finite AUC; the first trial stands in.
      if (!best || auc > best.auc) {
        best?.model.network.dispose();
        best = { model, auc };
      } else model.network.dispose();
    }
    return best!.model;
  };

  const logisticList = logisticTrials(input.baselineOptions ?? {}, input.options?.maxEpochs);
  const networkList = networkTrials(input.options ?? {}, search.networkTrials, input.seed);
  const planned = logisticList.length + networkList.length;
  const logistic = await runFamily('logistic', logisticList);
  const network = await runFamily('network', networkList);
  if (skipped > 0) input.onTrial?.(trials.length, trials.length);

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
