import { z } from 'zod';
import { logit, sigmoid } from './calibration.js';
import { createRng, permutation, type Rng } from './random.js';
import type { Matrix } from './types.js';

/**
 * Individual treatment effects for uplift targeting: who does an offer actually save?
 *
 * Method: a "modified S-learner". One penalised logistic regression over treated and holdout
 * outcomes,
 *
 *   logit P(churn | x, arm) = offset(x) + b0 [+ β·z] + arm × (τ0 + τ·z),
 *
 * where offset is the logit of the churn model's calibrated probability (the baseline risk is
 * already known, so no data is spent relearning it), z are the standardised features (clipped at
 * ±5 so one extreme count cannot dominate), b0 absorbs any shift of this population's churn from
 * the main model's, τ0 is the average effect on the log-odds and τ its heterogeneity. The effect
 * for a customer is P(churn | x, holdout) − P(churn | x, treated) (positive = the offer saves).
 *
 * Why this and not a T- or X-learner: at a few hundred to a few thousand outcomes, two separate
 * models each re-estimate the baseline risk and the effect comes out as the difference of two
 * noisy fits; here the baseline comes from the main model and every outcome informs one set of
 * effect parameters. The L2 penalty on τ shrinks towards one common effect (not towards zero
 * effect), which is the honest prior when heterogeneity is weakly supported. On the log-odds
 * scale a constant τ0 still gives larger absolute effects to riskier customers, as multiplicative
 * hazard effects do. Dimensions are small (≈ 2 × features), so Newton's method with an exact
 * Hessian converges in a few steps in plain TypeScript.
 *
 * The penalty λ is chosen by K-fold cross-validation on held-out deviance (folds stratified by
 * arm and outcome, seeded) with the one-standard-error rule: the most shrunk model whose deviance
 * is within one (paired, fold-by-fold) standard error of the best, so weak evidence gives a
 * near-constant effect rather than a confident ranking.
 * Same input, options and seed -> the same model.
 */

export interface UpliftTrainingInput {
  /** point-in-time features, the same columns the churn model scored on */
  x: Matrix;
  featureNames: string[];
  /** 1 = treated, 0 = holdout */
  arm: ArrayLike<number>;
  /** 1 = churned within the horizon */
  churned: ArrayLike<number>;
  /** the churn model's calibrated probability for the same row (the untreated risk) */
  baselineProbability: ArrayLike<number>;
}

export interface UpliftFitOptions {
  /** seed of the cross-validation folds (default 1) */
  seed?: number;
  /** cross-validation folds (default 5) */
  folds?: number;
  /** candidate penalties, in pseudo-observations on standardised features */
  lambdas?: number[];
  /** a fixed penalty: skips cross-validation */
  lambda?: number;
  /** baseline correction beyond the offset: an intercept (default) or intercept + features */
  baseline?: 'intercept' | 'features';
  /** features to use, by name (default: all columns) */
  features?: string[];
  /** clip standardised features at ±clip (default 5) */
  clip?: number;
  maxIterations?: number;
}

export const DEFAULT_LAMBDAS = [3000, 1000, 300, 100, 30, 10, 3, 1];
/** keeps the average effect finite when one arm has no churner (one pseudo-observation) */
const TREATMENT_INTERCEPT_PENALTY = 1;
const BASELINE_INTERCEPT_PENALTY = 1e-4;

export interface UpliftModel {
  kind: 'uplift-offset-s-learner';
  version: 1;
  /** feature names in the order of `mean`, `scale` and the coefficient vectors */
  featureNames: string[];
  mean: number[];
  /** standard deviation on the training rows; 0 = constant column (ignored) */
  scale: number[];
  clip: number;
  baseline: 'intercept' | 'features';
  coefficients: {
    baselineIntercept: number;
    /** empty when baseline = 'intercept' */
    baseline: number[];
    treatmentIntercept: number;
    treatment: number[];
  };
  lambda: number;
  training: {
    rows: number;
    treated: number;
    holdout: number;
    treatedChurnRate: number;
    holdoutChurnRate: number;
    /** mean predicted effect on the training rows */
    meanPredictedEffect: number;
    iterations: number;
    converged: boolean;
    /**
     * cross-validated mean held-out deviance per candidate λ, with the standard error of its
     * fold-by-fold difference from the best λ (empty with a fixed λ)
     */
    crossValidation: { lambda: number; deviance: number; standardError: number }[];
    seed: number;
  };
}

export function fitUpliftModel(input: UpliftTrainingInput, options: UpliftFitOptions = {}): UpliftModel {
  const n = input.x.rows;
  checkInput(input);
  const seed = options.seed ?? 1;
  const baseline = options.baseline ?? 'intercept';
  const clip = options.clip ?? 5;
  const maxIterations = options.maxIterations ?? 50;
  const selected = selectColumns(input.featureNames, options.features);
  const names = selected.map((c) => input.featureNames[c]!);

  const { mean, scale } = standardisation(input.x, selected);
  const problem: Problem = {
    n,
    d: selected.length,
    z: standardise(input.x, selected, mean, scale, clip),
    offset: Float64Array.from({ length: n }, (_, i) => logit(input.baselineProbability[i]!)),
    arm: Uint8Array.from({ length: n }, (_, i) => (input.arm[i] ? 1 : 0)),
    y: Uint8Array.from({ length: n }, (_, i) => (input.churned[i] ? 1 : 0)),
    baselineFeatures: baseline === 'features',
  };

  let treated = 0;
  let treatedChurned = 0;
  let holdoutChurned = 0;
  for (let i = 0; i < n; i++) {
    if (problem.arm[i]) {
      treated++;
      treatedChurned += problem.y[i]!;
    } else holdoutChurned += problem.y[i]!;
  }
  const holdout = n - treated;
  if (treated === 0 || holdout === 0) throw new RangeError('an uplift model needs outcomes from both the treated arm and the holdout');

  let lambda: number;
  let crossValidation: UpliftModel['training']['crossValidation'] = [];
  if (options.lambda !== undefined) {
    if (!(options.lambda > 0)) throw new RangeError('lambda must be > 0');
    lambda = options.lambda;
  } else {
    const cv = crossValidate(problem, options.lambdas ?? DEFAULT_LAMBDAS, options.folds ?? 5, seed, maxIterations);
    lambda = cv.chosen;
    crossValidation = cv.table;
  }

  const all = Uint32Array.from({ length: n }, (_, i) => i);
  const fit = fitPenalised(problem, all, penalties(problem, lambda), maxIterations);
  const model = toModel(problem, fit.theta, { names, mean, scale, clip, baseline, lambda });
  const effects = effectsOn(model, problem.z, problem.offset, n);
  let meanEffect = 0;
  for (let i = 0; i < n; i++) meanEffect += effects[i]! / n;
  model.training = {
    rows: n,
    treated,
    holdout,
    treatedChurnRate: treatedChurned / treated,
    holdoutChurnRate: holdoutChurned / holdout,
    meanPredictedEffect: meanEffect,
    iterations: fit.iterations,
    converged: fit.converged,
    crossValidation,
    seed,
  };
  return model;
}

export interface UpliftPredictionInput {
  x: Matrix;
  /** names of `x`'s columns; the model's features are found by name, so column order may differ */
  featureNames: string[];
  /** the churn model's calibrated probability for each row */
  baselineProbability: ArrayLike<number>;
}

/** Predicted effect per row: P(churn | holdout) − P(churn | treated); positive = the offer saves. */
export function predictEffects(model: UpliftModel, input: UpliftPredictionInput): Float64Array {
  const { z, offset } = predictionDesign(model, input);
  return effectsOn(model, z, offset, input.x.rows);
}

/** Predicted churn probability per row without and with the offer. */
export function predictArmProbabilities(model: UpliftModel, input: UpliftPredictionInput): { untreated: Float64Array; treated: Float64Array } {
  const { z, offset } = predictionDesign(model, input);
  const n = input.x.rows;
  const untreated = new Float64Array(n);
  const treated = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const [a, b] = linearPredictors(model, z, i, offset[i]!);
    untreated[i] = sigmoid(a);
    treated[i] = sigmoid(b);
  }
  return { untreated, treated };
}

export function serialiseUpliftModel(model: UpliftModel): string {
  return JSON.stringify(model);
}

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const upliftModelSchema = z
  .object({
    kind: z.literal('uplift-offset-s-learner'),
    version: z.literal(1),
    featureNames: z.array(z.string()),
    mean: z.array(finite),
    scale: z.array(finite.refine((v) => v >= 0, 'must be >= 0')),
    clip: finite.refine((v) => v > 0, 'must be > 0'),
    baseline: z.enum(['intercept', 'features']),
    coefficients: z.object({ baselineIntercept: finite, baseline: z.array(finite), treatmentIntercept: finite, treatment: z.array(finite) }),
    lambda: finite,
    training: z.object({
      rows: z.number().int(),
      treated: z.number().int(),
      holdout: z.number().int(),
      treatedChurnRate: finite,
      holdoutChurnRate: finite,
      meanPredictedEffect: finite,
      iterations: z.number().int(),
      converged: z.boolean(),
      crossValidation: z.array(z.object({ lambda: finite, deviance: finite, standardError: finite })),
      seed: z.number(),
    }),
  })
  .refine((m) => m.mean.length === m.featureNames.length && m.scale.length === m.featureNames.length && m.coefficients.treatment.length === m.featureNames.length, {
    message: 'feature arrays differ in length',
  })
  .refine((m) => m.coefficients.baseline.length === (m.baseline === 'features' ? m.featureNames.length : 0), { message: 'baseline coefficients do not match the baseline kind' });

/** Parses and validates a serialised model (a JSON string or the parsed object). */
export function loadUpliftModel(json: string | unknown): UpliftModel {
  const value = typeof json === 'string' ? (JSON.parse(json) as unknown) : json;
  const parsed = upliftModelSchema.safeParse(value);
  if (!parsed.success) throw new Error(`not an uplift model: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(model)'}: ${i.message}`).join('; ')}`);
  return parsed.data as UpliftModel;
}

// ---------------------------------------------------------------------------------------------
// Validation: does the ranking beat random targeting on rows it never saw?

export interface UpliftOutcomes {
  /** ranking score, higher = target first (usually the predicted effect) */
  score: ArrayLike<number>;
  /** 1 = treated, 0 = holdout */
  arm: ArrayLike<number>;
  /** 1 = churned */
  churned: ArrayLike<number>;
}

export interface QiniPoint {
  /** share of rows targeted, top first */
  fraction: number;
  targeted: number;
  treated: number;
  holdout: number;
  /**
   * customers saved if the targeted rows were all treated:
   * (holdout churn rate − treated churn rate among them) × targeted; 0 until both arms appear
   */
  saved: number;
}

/**
 * The uplift ("Qini"-type) curve of a ranking on randomised outcomes: rank rows by score, and at
 * each depth estimate the saved customers among the targeted from the two arms inside it
 * (Rzepakowski & Jaroszewicz 2012; causalml's cumulative gain). Tied scores move together, so a
 * constant score gives the straight random-targeting line. The last point is the average effect
 * × N, the saving of treating everyone.
 */
export function qiniCurve(rows: UpliftOutcomes): QiniPoint[] {
  const n = rows.score.length;
  if (rows.arm.length !== n || rows.churned.length !== n) throw new RangeError('score, arm and churned differ in length');
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => rows.score[b]! - rows.score[a]! || a - b);
  const points: QiniPoint[] = [{ fraction: 0, targeted: 0, treated: 0, holdout: 0, saved: 0 }];
  let nT = 0;
  let nH = 0;
  let cT = 0;
  let cH = 0;
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    if (rows.arm[i]) {
      nT++;
      if (rows.churned[i]) cT++;
    } else {
      nH++;
      if (rows.churned[i]) cH++;
    }
    const next = order[k + 1];
    if (next !== undefined && rows.score[next] === rows.score[i]) continue;
    const targeted = k + 1;
    const saved = nT > 0 && nH > 0 ? (cH / nH - cT / nT) * targeted : 0;
    points.push({ fraction: targeted / n, targeted, treated: nT, holdout: nH, saved });
  }
  return points;
}

/**
 * Area between the curve and the random-targeting line (from 0 to the last point), per customer:
 * ∫₀¹ (saved(f) − f × saved(1)) / N df. 0 = no better than random, > 0 = the ranking puts the
 * customers the offer saves first; units are saved customers per customer ranked.
 */
export function qiniCoefficient(curve: QiniPoint[]): number {
  const last = curve.at(-1);
  if (!last || last.targeted === 0) return 0;
  const n = last.targeted;
  let area = 0;
  for (let k = 1; k < curve.length; k++) {
    const a = curve[k - 1]!;
    const b = curve[k]!;
    const ga = a.saved / n - a.fraction * (last.saved / n);
    const gb = b.saved / n - b.fraction * (last.saved / n);
    area += ((ga + gb) / 2) * (b.fraction - a.fraction);
  }
  return area;
}

export interface UpliftAtK {
  fraction: number;
  targeted: number;
  treated: number;
  holdout: number;
  /** observed holdout churn rate − treated churn rate among the top rows; null without both arms */
  effect: number | null;
}

/** Observed effect among the top `fraction` of rows by score (ties broken by input order). */
export function upliftAtK(rows: UpliftOutcomes, fraction: number): UpliftAtK {
  const n = rows.score.length;
  const k = Math.min(n, Math.max(0, Math.ceil(fraction * n)));
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => rows.score[b]! - rows.score[a]! || a - b);
  let nT = 0;
  let nH = 0;
  let cT = 0;
  let cH = 0;
  for (let j = 0; j < k; j++) {
    const i = order[j]!;
    if (rows.arm[i]) {
      nT++;
      cT += rows.churned[i] ? 1 : 0;
    } else {
      nH++;
      cH += rows.churned[i] ? 1 : 0;
    }
  }
  return { fraction, targeted: k, treated: nT, holdout: nH, effect: nT > 0 && nH > 0 ? cH / nH - cT / nT : null };
}

export interface UpliftValidation {
  /** fitted on the training rows only */
  model: UpliftModel;
  trainRows: number;
  testRows: number;
  /** observed average effect on the test rows (holdout − treated churn) */
  observedEffect: number | null;
  qiniCoefficient: number;
  curve: QiniPoint[];
  /** Qini coefficients of random orderings of the same test rows */
  randomQini: { mean: number; p95: number; orderings: number };
  /** the model's coefficient is above the 95th percentile of random orderings */
  beatsRandom: boolean;
  upliftAtK: UpliftAtK[];
}

export interface UpliftValidationOptions extends UpliftFitOptions {
  /** share of rows held out for testing (default 0.3), stratified by arm and outcome */
  testFraction?: number;
  /** random orderings to compare against (default 200) */
  randomOrderings?: number;
  /** depths for uplift at k (default 0.1, 0.2, 0.3, 0.5) */
  fractions?: number[];
}

/**
 * Fits on part of the rows and checks the ranking on the rest, against random orderings of those
 * same rows: callers should trust uplift targeting only when `beatsRandom` is true.
 */
export function validateUpliftModel(input: UpliftTrainingInput, options: UpliftValidationOptions = {}): UpliftValidation {
  checkInput(input);
  const seed = options.seed ?? 1;
  const rng = createRng(seed ^ 0x5bd1e995);
  const strata = Array.from({ length: input.x.rows }, (_, i) => (input.arm[i] ? 2 : 0) + (input.churned[i] ? 1 : 0));
  const fold = stratifiedFolds(strata, Math.round(1 / (options.testFraction ?? 0.3)), rng);
  const test: number[] = [];
  const train: number[] = [];
  for (let i = 0; i < fold.length; i++) (fold[i] === 0 ? test : train).push(i);

  const model = fitUpliftModel(subsetInput(input, train), options);
  const testInput = subsetInput(input, test);
  const score = predictEffects(model, testInput);
  const outcomes: UpliftOutcomes = { score, arm: testInput.arm, churned: testInput.churned };
  const curve = qiniCurve(outcomes);
  const coefficient = qiniCoefficient(curve);

  const orderings = options.randomOrderings ?? 200;
  const random = new Float64Array(orderings);
  for (let r = 0; r < orderings; r++) {
    const perm = permutation(test.length, rng);
    const randomScore = new Float64Array(test.length);
    for (let j = 0; j < perm.length; j++) randomScore[perm[j]!] = -j;
    random[r] = qiniCoefficient(qiniCurve({ score: randomScore, arm: testInput.arm, churned: testInput.churned }));
  }
  const sorted = Float64Array.from(random).sort();
  const p95 = sorted[Math.min(orderings - 1, Math.floor(0.95 * orderings))] ?? 0;
  const all = upliftAtK(outcomes, 1);

  return {
    model,
    trainRows: train.length,
    testRows: test.length,
    observedEffect: all.effect,
    qiniCoefficient: coefficient,
    curve,
    randomQini: { mean: random.reduce((s, v) => s + v, 0) / Math.max(1, orderings), p95, orderings },
    beatsRandom: orderings > 0 && coefficient > p95,
    upliftAtK: (options.fractions ?? [0.1, 0.2, 0.3, 0.5]).map((f) => upliftAtK(outcomes, f)),
  };
}

// ---------------------------------------------------------------------------------------------
// The penalised logistic fit

interface Problem {
  n: number;
  d: number;
  /** standardised features, row-major n × d */
  z: Float64Array;
  offset: Float64Array;
  arm: Uint8Array;
  y: Uint8Array;
  baselineFeatures: boolean;
}

/**
 * Parameter layout: [b0, β (d, only with baseline features), τ0, τ (d)]. The treatment block
 * comes last, so a holdout row's design vector is non-zero only in the first block.
 */
function layout(p: Problem): { nb: number; size: number } {
  const nb = p.baselineFeatures ? 1 + p.d : 1;
  return { nb, size: nb + 1 + p.d };
}

function penalties(p: Problem, lambda: number): Float64Array {
  const { nb, size } = layout(p);
  const pen = new Float64Array(size).fill(lambda);
  pen[0] = BASELINE_INTERCEPT_PENALTY;
  pen[nb] = TREATMENT_INTERCEPT_PENALTY;
  return pen;
}

function designRow(p: Problem, i: number, out: Float64Array): number {
  const { nb, size } = layout(p);
  out[0] = 1;
  const zi = i * p.d;
  if (p.baselineFeatures) for (let j = 0; j < p.d; j++) out[1 + j] = p.z[zi + j]!;
  if (!p.arm[i]) return nb;
  out[nb] = 1;
  for (let j = 0; j < p.d; j++) out[nb + 1 + j] = p.z[zi + j]!;
  return size;
}

function linearPredictor(p: Problem, i: number, theta: Float64Array, x: Float64Array): number {
  const active = designRow(p, i, x);
  let eta = p.offset[i]!;
  for (let j = 0; j < active; j++) eta += theta[j]! * x[j]!;
  return eta;
}

/** log(1 + e^η) − yη, the logistic loss, computed without overflow */
function logisticLoss(eta: number, y: number): number {
  const softplus = eta > 0 ? eta + Math.log1p(Math.exp(-eta)) : Math.log1p(Math.exp(eta));
  return softplus - y * eta;
}

function objective(p: Problem, rows: Uint32Array, theta: Float64Array, pen: Float64Array, x: Float64Array): number {
  let f = 0;
  for (let r = 0; r < rows.length; r++) {
    const i = rows[r]!;
    f += logisticLoss(linearPredictor(p, i, theta, x), p.y[i]!);
  }
  for (let j = 0; j < theta.length; j++) f += 0.5 * pen[j]! * theta[j]! * theta[j]!;
  return f;
}

/** Newton's method with step halving on the penalised negative log-likelihood. */
function fitPenalised(p: Problem, rows: Uint32Array, pen: Float64Array, maxIterations: number, start?: Float64Array): { theta: Float64Array; iterations: number; converged: boolean } {
  const { size } = layout(p);
  const theta = start ? Float64Array.from(start) : new Float64Array(size);
  const x = new Float64Array(size);
  const grad = new Float64Array(size);
  const hess = new Float64Array(size * size);
  const trial = new Float64Array(size);
  let f = objective(p, rows, theta, pen, x);
  for (let iter = 1; iter <= maxIterations; iter++) {
    grad.fill(0);
    hess.fill(0);
    for (let r = 0; r < rows.length; r++) {
      const i = rows[r]!;
      const eta = linearPredictor(p, i, theta, x);
      const active = designRow(p, i, x);
      const prob = sigmoid(eta);
      const resid = prob - p.y[i]!;
      const w = prob * (1 - prob);
      for (let j = 0; j < active; j++) {
        const xj = x[j]!;
        if (xj === 0) continue;
        grad[j] += resid * xj;
        const wx = w * xj;
        const rowOff = j * size;
        for (let k = j; k < active; k++) hess[rowOff + k] += wx * x[k]!;
      }
    }
    for (let j = 0; j < size; j++) {
      grad[j] += pen[j]! * theta[j]!;
      hess[j * size + j] += pen[j]!;
      for (let k = 0; k < j; k++) hess[j * size + k] = hess[k * size + j]!;
    }
    const step = choleskySolve(hess, grad, size);
    let scale = 1;
    let fTrial = Number.POSITIVE_INFINITY;
    for (let halvings = 0; halvings < 30; halvings++) {
      for (let j = 0; j < size; j++) trial[j] = theta[j]! - scale * step[j]!;
      fTrial = objective(p, rows, trial, pen, x);
      if (fTrial <= f + 1e-12 * Math.abs(f)) break;
      scale /= 2;
    }
    let maxChange = 0;
    for (let j = 0; j < size; j++) maxChange = Math.max(maxChange, Math.abs(trial[j]! - theta[j]!));
    if (fTrial <= f + 1e-12 * Math.abs(f)) {
      theta.set(trial);
      const done = maxChange < 1e-8 || f - fTrial < 1e-10 * Math.max(1, Math.abs(f));
      f = fTrial;
      if (done) return { theta, iterations: iter, converged: true };
    } else return { theta, iterations: iter, converged: maxChange < 1e-6 };
  }
  return { theta, iterations: maxIterations, converged: false };
}

/** Solves A x = b for a symmetric positive definite A (size × size, row-major). */
function choleskySolve(a: Float64Array, b: Float64Array, size: number): Float64Array {
  const l = new Float64Array(size * size);
  for (let i = 0; i < size; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * size + j]!;
      for (let k = 0; k < j; k++) s -= l[i * size + k]! * l[j * size + k]!;
      if (i === j) l[i * size + i] = Math.sqrt(Math.max(s, 1e-12));
      else l[i * size + j] = s / l[j * size + j]!;
    }
  }
  const y = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[i * size + k]! * y[k]!;
    y[i] = s / l[i * size + i]!;
  }
  const x = new Float64Array(size);
  for (let i = size - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let k = i + 1; k < size; k++) s -= l[k * size + i]! * x[k]!;
    x[i] = s / l[i * size + i]!;
  }
  return x;
}

function crossValidate(
  p: Problem,
  lambdas: number[],
  folds: number,
  seed: number,
  maxIterations: number,
): { chosen: number; table: UpliftModel['training']['crossValidation'] } {
  if (lambdas.length === 0 || lambdas.some((l) => !(l > 0))) throw new RangeError('lambdas must be positive numbers');
  // largest penalty first, so each fit warm-starts from a more shrunk neighbour
  const path = [...new Set(lambdas)].sort((a, b) => b - a);
  const strata = Array.from({ length: p.n }, (_, i) => p.arm[i]! * 2 + p.y[i]!);
  const k = Math.max(2, Math.min(folds, p.n));
  const fold = stratifiedFolds(strata, k, createRng(seed));
  const deviance = path.map(() => new Float64Array(k));
  const x = new Float64Array(layout(p).size);
  for (let f = 0; f < k; f++) {
    const train: number[] = [];
    const test: number[] = [];
    for (let i = 0; i < p.n; i++) (fold[i] === f ? test : train).push(i);
    if (test.length === 0) continue;
    const trainRows = Uint32Array.from(train);
    let start: Float64Array | undefined;
    path.forEach((lambda, li) => {
      const fit = fitPenalised(p, trainRows, penalties(p, lambda), maxIterations, start);
      start = fit.theta;
      let loss = 0;
      for (const i of test) loss += logisticLoss(linearPredictor(p, i, fit.theta, x), p.y[i]!);
      deviance[li]![f] = (2 * loss) / test.length;
    });
  }
  const means = path.map((_, li) => deviance[li]!.reduce((s, v) => s + v, 0) / k);
  const bestIndex = means.reduce((b, m, li) => (m < means[b]! ? li : b), 0);
  // The fold-to-fold spread of the deviance is mostly the baseline's, shared by every λ; the
  // standard error that matters is of each λ's difference from the best, fold by fold.
  const table = path.map((lambda, li) => {
    const diff = deviance[li]!.map((v, f) => v - deviance[bestIndex]![f]!);
    const m = diff.reduce((s, v) => s + v, 0) / k;
    const variance = diff.reduce((s, v) => s + (v - m) ** 2, 0) / Math.max(1, k - 1);
    return { lambda, deviance: means[li]!, standardError: Math.sqrt(variance / k) };
  });
  // one-SE rule: the most shrunk model not clearly worse than the best
  const chosen = table.find((row) => row.deviance - means[bestIndex]! <= row.standardError)!.lambda;
  return { chosen, table };
}

/** Fold of each row, 0..k-1, dealt round-robin within each stratum after a seeded shuffle. */
function stratifiedFolds(strata: number[], k: number, rng: Rng): Uint8Array {
  const fold = new Uint8Array(strata.length);
  const byStratum = new Map<number, number[]>();
  strata.forEach((s, i) => {
    const list = byStratum.get(s) ?? [];
    list.push(i);
    byStratum.set(s, list);
  });
  let dealt = 0;
  for (const s of [...byStratum.keys()].sort((a, b) => a - b)) {
    const list = byStratum.get(s)!;
    const order = permutation(list.length, rng);
    for (let j = 0; j < order.length; j++) fold[list[order[j]!]!] = (dealt + j) % k;
    dealt += list.length;
  }
  return fold;
}

// ---------------------------------------------------------------------------------------------
// Features and prediction

function checkInput(input: UpliftTrainingInput): void {
  const n = input.x.rows;
  if (input.x.data.length !== n * input.x.cols) throw new RangeError('matrix data does not match rows × cols');
  if (input.featureNames.length !== input.x.cols) throw new RangeError(`featureNames (${input.featureNames.length}) do not match the matrix columns (${input.x.cols})`);
  for (const [name, v] of [
    ['arm', input.arm],
    ['churned', input.churned],
    ['baselineProbability', input.baselineProbability],
  ] as const) {
    if (v.length !== n) throw new RangeError(`${name} has ${v.length} values for ${n} rows`);
  }
  for (let i = 0; i < n; i++) {
    const q = input.baselineProbability[i]!;
    if (!(q >= 0 && q <= 1)) throw new RangeError(`baselineProbability[${i}] = ${q} is not a probability`);
  }
}

function selectColumns(names: string[], wanted: string[] | undefined): number[] {
  if (!wanted) return names.map((_, i) => i);
  return wanted.map((name) => {
    const c = names.indexOf(name);
    if (c < 0) throw new RangeError(`feature ${name} is not among the matrix columns`);
    return c;
  });
}

function standardisation(x: Matrix, columns: number[]): { mean: number[]; scale: number[] } {
  const n = x.rows;
  const mean = columns.map((c) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += x.data[i * x.cols + c]!;
    return n ? s / n : 0;
  });
  const scale = columns.map((c, j) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += (x.data[i * x.cols + c]! - mean[j]!) ** 2;
    const sd = n > 1 ? Math.sqrt(s / (n - 1)) : 0;
    return sd > 1e-12 ? sd : 0;
  });
  return { mean, scale };
}

function standardise(x: Matrix, columns: number[], mean: number[], scale: number[], clip: number): Float64Array {
  const d = columns.length;
  const z = new Float64Array(x.rows * d);
  for (let i = 0; i < x.rows; i++) {
    for (let j = 0; j < d; j++) {
      const s = scale[j]!;
      const v = s > 0 ? (x.data[i * x.cols + columns[j]!]! - mean[j]!) / s : 0;
      z[i * d + j] = Number.isFinite(v) ? Math.max(-clip, Math.min(clip, v)) : 0;
    }
  }
  return z;
}

function predictionDesign(model: UpliftModel, input: UpliftPredictionInput): { z: Float64Array; offset: Float64Array } {
  const n = input.x.rows;
  if (input.featureNames.length !== input.x.cols) throw new RangeError(`featureNames (${input.featureNames.length}) do not match the matrix columns (${input.x.cols})`);
  if (input.baselineProbability.length !== n) throw new RangeError(`baselineProbability has ${input.baselineProbability.length} values for ${n} rows`);
  const columns = model.featureNames.map((name) => {
    const c = input.featureNames.indexOf(name);
    if (c < 0) throw new RangeError(`the uplift model needs feature ${name}, which the matrix lacks`);
    return c;
  });
  return {
    z: standardise(input.x, columns, model.mean, model.scale, model.clip),
    offset: Float64Array.from({ length: n }, (_, i) => logit(input.baselineProbability[i]!)),
  };
}

/** [untreated, treated] linear predictors of row i. */
function linearPredictors(model: UpliftModel, z: Float64Array, i: number, offset: number): [number, number] {
  const d = model.featureNames.length;
  const c = model.coefficients;
  let base = offset + c.baselineIntercept;
  let effect = c.treatmentIntercept;
  for (let j = 0; j < d; j++) {
    const v = z[i * d + j]!;
    if (c.baseline.length) base += c.baseline[j]! * v;
    effect += c.treatment[j]! * v;
  }
  return [base, base + effect];
}

function effectsOn(model: UpliftModel, z: Float64Array, offset: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const [a, b] = linearPredictors(model, z, i, offset[i]!);
    out[i] = sigmoid(a) - sigmoid(b);
  }
  return out;
}

function toModel(
  p: Problem,
  theta: Float64Array,
  meta: { names: string[]; mean: number[]; scale: number[]; clip: number; baseline: 'intercept' | 'features'; lambda: number },
): UpliftModel {
  const { nb } = layout(p);
  return {
    kind: 'uplift-offset-s-learner',
    version: 1,
    featureNames: meta.names,
    mean: meta.mean,
    scale: meta.scale,
    clip: meta.clip,
    baseline: meta.baseline,
    coefficients: {
      baselineIntercept: theta[0]!,
      baseline: p.baselineFeatures ? Array.from(theta.subarray(1, nb)) : [],
      treatmentIntercept: theta[nb]!,
      treatment: Array.from(theta.subarray(nb + 1, nb + 1 + p.d)),
    },
    lambda: meta.lambda,
    training: {
      rows: 0,
      treated: 0,
      holdout: 0,
      treatedChurnRate: 0,
      holdoutChurnRate: 0,
      meanPredictedEffect: 0,
      iterations: 0,
      converged: false,
      crossValidation: [],
      seed: 0,
    },
  };
}

function subsetInput(input: UpliftTrainingInput, rows: number[]): UpliftTrainingInput {
  const cols = input.x.cols;
  const data = new Float32Array(rows.length * cols);
  rows.forEach((i, r) => data.set(input.x.data.subarray(i * cols, (i + 1) * cols), r * cols));
  return {
    x: { data, rows: rows.length, cols },
    featureNames: input.featureNames,
    arm: rows.map((i) => input.arm[i]!),
    churned: rows.map((i) => input.churned[i]!),
    baselineProbability: rows.map((i) => input.baselineProbability[i]!),
  };
}
