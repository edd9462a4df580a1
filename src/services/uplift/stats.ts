import { createRng } from '../../ml/random.js';

/**
 * The interval maths of the uplift report (UPLIFT.md "Estimates"), as pure functions.
 *
 * Hand-written: each formula is a few lines with a published reference, and no small, well-kept
 * npm package covers Newcombe's difference interval (the one Wilson package on npm does a single
 * proportion only), so a dependency would buy nothing.
 */

/** z for a two-sided 95 % interval (the 0.975 quantile of the standard normal). */
export const Z_95 = 1.959963984540054;

export interface Interval {
  lower: number;
  upper: number;
}

export interface Estimate extends Interval {
  estimate: number;
}

/**
 * Wilson score interval for one proportion (Wilson 1927; Newcombe 1998b method 3). Unlike the
 * Wald interval it stays inside [0, 1] and keeps a sensible width at 0 or n successes, which is
 * exactly where a small holdout lives. Non-integer counts are accepted (effective sample sizes).
 * With no trials the proportion is unknown: estimate NaN, interval [0, 1].
 */
export function wilsonInterval(successes: number, trials: number, z = Z_95): Estimate {
  if (!(trials > 0)) return { estimate: Number.NaN, lower: 0, upper: 1 };
  if (successes < 0 || successes > trials) throw new RangeError(`successes (${successes}) must lie in [0, trials (${trials})]`);
  const p = successes / trials;
  const z2 = z * z;
  const denominator = 1 + z2 / trials;
  const centre = (p + z2 / (2 * trials)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials))) / denominator;
  // At 0 or n successes the bound is exactly 0 or 1; floating point would leave ±1e-17.
  const lower = successes === 0 ? 0 : Math.max(0, centre - half);
  const upper = successes === trials ? 1 : Math.min(1, centre + half);
  return { estimate: p, lower, upper };
}

/**
 * Newcombe's hybrid score interval for p1 − p2 of two independent proportions (Newcombe 1998,
 * "Interval estimation for the difference between independent proportions: comparison of eleven
 * methods", Stat Med 17:873-890, method 10): each proportion's Wilson interval (l_i, u_i), then
 *   L = d − sqrt((p1 − l1)² + (u2 − p2)²),  U = d + sqrt((u1 − p1)² + (p2 − l2)²).
 * Coverage stays close to nominal down to a handful of events, where the Wald interval collapses.
 * Both groups need at least one trial.
 */
export function newcombeDifference(successes1: number, trials1: number, successes2: number, trials2: number, z = Z_95): Estimate {
  if (!(trials1 > 0) || !(trials2 > 0)) throw new RangeError('both groups need at least one trial');
  const a = wilsonInterval(successes1, trials1, z);
  const b = wilsonInterval(successes2, trials2, z);
  return moverDifference(a, b);
}

/**
 * MOVER ("method of variance estimates recovery", Zou & Donner 2008) for θ1 − θ2 from each
 * estimate's own interval; Newcombe's method 10 is this with Wilson intervals.
 */
export function moverDifference(a: Estimate, b: Estimate): Estimate {
  const d = a.estimate - b.estimate;
  return {
    estimate: d,
    lower: d - Math.hypot(a.estimate - a.lower, b.upper - b.estimate),
    upper: d + Math.hypot(a.upper - a.estimate, b.estimate - b.lower),
  };
}

/**
 * MOVER for a weighted sum Σ w_k θ_k of independent estimates with non-negative weights
 * (Zou & Donner 2008, eq. for linear combinations): the bounds recover each term's variance from
 * its own interval, so a stratified Newcombe effect keeps the small-count behaviour of each
 * stratum. With one term of weight 1 it returns that term unchanged.
 */
export function moverWeightedSum(terms: ReadonlyArray<{ weight: number; value: Estimate }>): Estimate {
  let estimate = 0;
  let below = 0;
  let above = 0;
  for (const { weight, value } of terms) {
    if (weight < 0) throw new RangeError('MOVER weights must be non-negative');
    estimate += weight * value.estimate;
    below += (weight * (value.estimate - value.lower)) ** 2;
    above += (weight * (value.upper - value.estimate)) ** 2;
  }
  return { estimate, lower: estimate - Math.sqrt(below), upper: estimate + Math.sqrt(above) };
}

/**
 * Number needed to treat: how many customers must get the offer for one to be saved, 1 / effect
 * (Laupacis et al. 1988). With no benefit (effect <= 0) no number of offers saves anyone: Infinity.
 */
export function numberNeededToTreat(effect: number): number {
  return effect > 0 ? 1 / effect : Number.POSITIVE_INFINITY;
}

/**
 * Interval for the number needed to treat from the effect's interval (Altman 1998, BMJ
 * 317:1309): [1 / upper, 1 / lower] when the whole effect interval is above 0. When it contains
 * 0 the NNT interval runs through infinity and is not one interval: null.
 */
export function numberNeededToTreatInterval(effect: Interval): Interval | null {
  if (!(effect.lower > 0)) return null;
  return { lower: 1 / effect.upper, upper: 1 / effect.lower };
}

/**
 * Standard normal CDF via the complementary error function (Numerical Recipes `erfcc`, Chebyshev
 * fit, fractional error < 1.2e-7): only used to turn z into the bootstrap's percentile levels.
 */
export function normalCdf(x: number): number {
  const t = 1 / (1 + 0.5 * Math.abs(x / Math.SQRT2));
  const u = Math.abs(x / Math.SQRT2);
  const erfc =
    t *
    Math.exp(
      -u * u -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - erfc / 2 : erfc / 2;
}

/** Two-sided confidence level of ±z, e.g. 0.95 for 1.96. */
export function confidenceLevel(z = Z_95): number {
  return 2 * normalCdf(z) - 1;
}

/** Quantile of sorted values, linear interpolation between order statistics (R type 7). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const h = (n - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

// ---------------------------------------------------------------------------------------------
// Saved MRR

/** One arm of one stratum: each settled customer's MRR (any non-negative unit) and outcome. */
export interface MrrArmSample {
  mrr: ArrayLike<number>;
  /** 1 = churned within the horizon */
  churned: ArrayLike<number>;
}

/** A stratum is one randomisation unit (a policy version): its own treated and holdout arms. */
export interface MrrStratum {
  treated: MrrArmSample;
  holdout: MrrArmSample;
}

export interface SavedMrrOptions {
  /** seed of the bootstrap's generator; the same seed gives the same interval */
  seed?: number;
  /** bootstrap resamples (fixed, so the run time does not depend on the data) */
  resamples?: number;
  z?: number;
}

export interface SavedMrrEstimate extends Estimate {
  /** seeded percentile bootstrap over customers within each arm of each stratum */
  bootstrap: Interval;
  /** Newcombe interval on MRR-weighted rates with Kish effective sample sizes */
  effectiveSampleSize: Interval;
  resamples: number;
  seed: number;
}

export const DEFAULT_BOOTSTRAP_RESAMPLES = 2000;
export const DEFAULT_BOOTSTRAP_SEED = 1;

/**
 * Saved MRR: per stratum, the MRR-weighted churn rate of the holdout minus that of the treated
 * arm (the share of MRR each arm lost), times the treated arm's total MRR; summed over strata.
 * Weighting by MRR estimates Σ over T of MRR_i × effect_i even when the offer works better on
 * large or small accounts, which effect × Σ MRR would miss. The treated MRR total is taken as
 * fixed (the estimate is about the customers actually treated), so only the rates vary.
 *
 * Interval: the envelope of two 95 % intervals, so it inherits the robustness of each:
 * - a seeded percentile bootstrap (Efron & Tibshirani 1993, ch. 13) resampling customers within
 *   each arm of each stratum, which captures skewed MRR and any MRR–churn correlation;
 * - a Newcombe interval on the weighted rates with Kish's effective sample size
 *   n_eff = (Σw)² / Σw² (Kish 1965), summed over strata by MOVER. A bootstrap of an arm with no
 *   churners resamples nothing but zeros and collapses to a point; this one does not.
 * Where the holdout of a stratum has no MRR at all its rate falls back to the unweighted share.
 * Deterministic given the seed.
 */
export function savedMrrInterval(strata: ReadonlyArray<MrrStratum>, options: SavedMrrOptions = {}): SavedMrrEstimate {
  const seed = options.seed ?? DEFAULT_BOOTSTRAP_SEED;
  const resamples = options.resamples ?? DEFAULT_BOOTSTRAP_RESAMPLES;
  const z = options.z ?? Z_95;
  for (const s of strata) {
    checkArm(s.treated, 'treated');
    checkArm(s.holdout, 'holdout');
    if (s.holdout.mrr.length === 0 || s.treated.mrr.length === 0) throw new RangeError('every stratum needs at least one treated and one holdout customer');
  }

  const estimate = strata.reduce((sum, s) => sum + savedInStratum(s.treated, s.holdout, allIndices(s.treated), allIndices(s.holdout)), 0);

  const ess = moverWeightedSum(
    strata.map((s) => {
      const treatedMrr = sum(s.treated.mrr);
      if (treatedMrr === 0) return { weight: 0, value: { estimate: 0, lower: 0, upper: 0 } };
      const h = effectiveRate(s.holdout, z);
      const t = effectiveRate(s.treated, z);
      return { weight: treatedMrr, value: moverDifference(h, t) };
    }),
  );

  const rng = createRng(seed);
  const draws = new Float64Array(resamples);
  const bufT = strata.map((s) => new Uint32Array(s.treated.mrr.length));
  const bufH = strata.map((s) => new Uint32Array(s.holdout.mrr.length));
  for (let b = 0; b < resamples; b++) {
    let total = 0;
    for (let k = 0; k < strata.length; k++) {
      const s = strata[k]!;
      resampleInto(bufT[k]!, rng);
      resampleInto(bufH[k]!, rng);
      total += savedInStratum(s.treated, s.holdout, bufT[k]!, bufH[k]!);
    }
    draws[b] = total;
  }
  draws.sort();
  const tail = 1 - normalCdf(z);
  const bootstrap = { lower: quantileSorted(draws, tail), upper: quantileSorted(draws, 1 - tail) };

  return {
    estimate,
    lower: Math.min(bootstrap.lower, ess.lower),
    upper: Math.max(bootstrap.upper, ess.upper),
    bootstrap,
    effectiveSampleSize: { lower: ess.lower, upper: ess.upper },
    resamples,
    seed,
  };
}

function checkArm(arm: MrrArmSample, name: string): void {
  if (arm.mrr.length !== arm.churned.length) throw new RangeError(`${name}: mrr and churned differ in length`);
  for (let i = 0; i < arm.mrr.length; i++) if (!(arm.mrr[i]! >= 0)) throw new RangeError(`${name}: MRR must be a non-negative number`);
}

function allIndices(arm: MrrArmSample): Uint32Array {
  const idx = new Uint32Array(arm.mrr.length);
  for (let i = 0; i < idx.length; i++) idx[i] = i;
  return idx;
}

function resampleInto(buffer: Uint32Array, rng: () => number): void {
  const n = buffer.length;
  for (let i = 0; i < n; i++) buffer[i] = Math.floor(rng() * n);
}

/** Churned MRR share of the customers at `idx` (unweighted share when they carry no MRR). */
function weightedRate(arm: MrrArmSample, idx: Uint32Array): number {
  let mrr = 0;
  let lost = 0;
  let churned = 0;
  for (let i = 0; i < idx.length; i++) {
    const j = idx[i]!;
    const y = arm.churned[j] ? 1 : 0;
    mrr += arm.mrr[j]!;
    lost += arm.mrr[j]! * y;
    churned += y;
  }
  return mrr > 0 ? lost / mrr : churned / idx.length;
}

function savedInStratum(treated: MrrArmSample, holdout: MrrArmSample, idxT: Uint32Array, idxH: Uint32Array): number {
  // the treated MRR at stake is the observed arm's, not the resample's (see savedMrrInterval)
  const treatedMrr = sum(treated.mrr);
  if (treatedMrr === 0) return 0;
  return (weightedRate(holdout, idxH) - weightedRate(treated, idxT)) * treatedMrr;
}

/** Wilson interval of an MRR-weighted rate at Kish's effective sample size. */
function effectiveRate(arm: MrrArmSample, z: number): Estimate {
  let w = 0;
  let w2 = 0;
  let lost = 0;
  let churned = 0;
  for (let i = 0; i < arm.mrr.length; i++) {
    const m = arm.mrr[i]!;
    const y = arm.churned[i] ? 1 : 0;
    w += m;
    w2 += m * m;
    lost += m * y;
    churned += y;
  }
  if (w === 0) return wilsonInterval(churned, arm.mrr.length, z);
  const rate = lost / w;
  const nEff = (w * w) / w2;
  // clamp: rate × n_eff can exceed n_eff by a rounding error when every customer churned
  return wilsonInterval(Math.min(nEff, rate * nEff), nEff, z);
}

function sum(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i]!;
  return s;
}
