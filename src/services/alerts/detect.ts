/**
 * Pure anomaly detectors: each takes the figures already read (and the time, where it matters) and
 * says whether an alert should be open, how bad, and why. No database, no clock.
 */

export type AlertKind = 'payment_failure_spike' | 'webhook_rejection_spike' | 'processing_lag_spike' | 'score_drift' | 'budget_pace';
export const ALERT_KINDS: readonly AlertKind[] = ['payment_failure_spike', 'webhook_rejection_spike', 'processing_lag_spike', 'score_drift', 'budget_pace'];

export type AlertSeverity = 'warning' | 'critical';

/** What one detector concluded about one key; `firing: false` closes an open alert of that kind and key. */
export interface Finding {
  kind: AlertKind;
  key: string;
  firing: boolean;
  severity: AlertSeverity;
  message: string;
  value: number;
  threshold: number;
  details: Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------
// Counts against their trailing baseline (payment failures per account)

function logFactorial(n: number): number {
  let s = 0;
  for (let i = 2; i <= n; i++) s += Math.log(i);
  return s;
}

/** P(X >= k) for X ~ Poisson(mean), summed in log space so large counts do not overflow. */
export function poissonUpperTail(k: number, mean: number): number {
  if (k <= 0) return 1;
  if (mean <= 0) return 0;
  // P(X >= k) = 1 − Σ_{i<k} P(X = i); for k far above the mean the direct tail sum is more exact.
  if (k > mean) {
    let tail = 0;
    let logP = -mean + k * Math.log(mean) - logFactorial(k);
    for (let i = k; i < k + 10_000; i++) {
      const p = Math.exp(logP);
      tail += p;
      if (p < tail * 1e-15) break;
      logP += Math.log(mean) - Math.log(i + 1);
    }
    return Math.min(1, tail);
  }
  let below = 0;
  let logP = -mean;
  for (let i = 0; i < k; i++) {
    below += Math.exp(logP);
    logP += Math.log(mean) - Math.log(i + 1);
  }
  return Math.max(0, 1 - below);
}

export interface CountSpikeInput {
  key: string;
  /** events in the last period (24 hours for payment failures, 1 hour for webhook rejections) */
  recent: number;
  /** events in each of the trailing periods before them (14 days for a two-week baseline of payment failures; hours for webhook rejections) */
  baselineDaily: readonly number[];
  /** fewer recent events than this never fire, whatever the baseline (default 10) */
  minCount?: number;
  /** the one-sided Poisson tail probability below which the count is a spike (default 0.001) */
  pValue?: number;
  /** and the count must also be this many times the baseline mean (default 2) */
  minRatio?: number;
  /** a baseline mean below this is raised to it, so a quiet history does not make one failure a spike (default 1) */
  meanFloor?: number;
}

/** The Poisson tail test shared by the count spikes: the recent count against the trailing mean per period. */
function countSpike(input: CountSpikeInput) {
  const minCount = input.minCount ?? 10;
  const alpha = input.pValue ?? 0.001;
  const minRatio = input.minRatio ?? 2;
  const periods = input.baselineDaily.length;
  const rawMean = periods === 0 ? 0 : input.baselineDaily.reduce((a, b) => a + b, 0) / periods;
  const mean = Math.max(rawMean, input.meanFloor ?? 1);
  const p = poissonUpperTail(input.recent, mean);
  const ratio = input.recent / mean;
  const firing = periods > 0 && input.recent >= minCount && ratio >= minRatio && p < alpha;
  return { firing, severity: (firing && p < alpha / 1000 ? 'critical' : 'warning') as AlertSeverity, p, ratio, rawMean, periods, minCount, alpha, threshold: Math.max(minCount, Math.ceil(mean * minRatio)) };
}

/**
 * A Poisson tail test of the last day's count against the trailing daily mean. Poisson rather than
 * a z-score because daily failure counts are small and skewed; the minimum count and ratio keep a
 * tiny account's 0 → 3 from paging anyone.
 */
export function detectPaymentFailureSpike(input: CountSpikeInput): Finding {
  const t = countSpike(input);
  return {
    kind: 'payment_failure_spike',
    key: input.key,
    firing: t.firing,
    severity: t.severity,
    message: `${input.recent} payment failures in the last 24 h against a trailing ${t.periods}-day mean of ${t.rawMean.toFixed(1)} a day (${t.ratio.toFixed(1)}×, p = ${t.p.toExponential(1)})`,
    value: input.recent,
    threshold: t.threshold,
    details: { recent: input.recent, baselineMean: t.rawMean, baselineDays: t.periods, pValue: t.p, ratio: t.ratio, minCount: t.minCount, alpha: t.alpha },
  };
}

/**
 * Webhook deliveries refused for one reason (an error code) in the last hour against the hourly
 * mean of the trailing baseline (`baselineDaily` holds one count per hour here). The same Poisson
 * test as payment failures: ten bad signatures in an hour after weeks of none is a rotated or
 * leaked secret, or someone probing the endpoint; a steady trickle is not news.
 */
export function detectWebhookRejectionSpike(input: CountSpikeInput): Finding {
  const t = countSpike(input);
  return {
    kind: 'webhook_rejection_spike',
    key: input.key,
    firing: t.firing,
    severity: t.severity,
    message: `${input.recent} webhook deliveries refused with ${input.key} in the last hour against a trailing mean of ${t.rawMean.toFixed(2)} an hour over ${(t.periods / 24).toFixed(0)} days (${t.ratio.toFixed(1)}×, p = ${t.p.toExponential(1)})`,
    value: input.recent,
    threshold: t.threshold,
    details: { reason: input.key, recent: input.recent, baselineHourlyMean: t.rawMean, baselineHours: t.periods, pValue: t.p, ratio: t.ratio, minCount: t.minCount, alpha: t.alpha },
  };
}

// ---------------------------------------------------------------------------------------------
// Processing lag

export interface LagInput {
  /** age of the oldest stored event not yet projected, seconds; null = none waiting */
  oldestPendingSeconds: number | null;
  /** 95th percentile of received → projected over the last hour, seconds; null = nothing projected */
  recentP95Seconds: number | null;
  /** the same percentile for each trailing day (the baseline) */
  baselineDailyP95Seconds: readonly number[];
  /** a backlog older than this always fires (default 900 s: Stripe keeps retrying, but scores go stale) */
  maxPendingSeconds?: number;
  /** the recent p95 must exceed this many times the baseline median ... (default 5) */
  factor?: number;
  /** ... and this many seconds (default 60), so a fast baseline does not make 3 s a spike */
  minSeconds?: number;
}

function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** A stuck projector (old unprojected events) or a recent lag far above its usual level. */
export function detectProcessingLagSpike(input: LagInput): Finding {
  const maxPending = input.maxPendingSeconds ?? 900;
  const factor = input.factor ?? 5;
  const minSeconds = input.minSeconds ?? 60;
  const base = median(input.baselineDailyP95Seconds);
  const spikeBar = Math.max(minSeconds, (base ?? 0) * factor);
  const stuck = input.oldestPendingSeconds !== null && input.oldestPendingSeconds > maxPending;
  const slow = input.recentP95Seconds !== null && input.recentP95Seconds > spikeBar;
  const firing = stuck || slow;
  const parts: string[] = [];
  if (input.oldestPendingSeconds !== null) parts.push(`oldest unprojected event waiting ${Math.round(input.oldestPendingSeconds)} s (bar ${maxPending} s)`);
  if (input.recentP95Seconds !== null) parts.push(`last hour's p95 lag ${input.recentP95Seconds.toFixed(1)} s against a baseline median of ${base === null ? 'n/a' : `${base.toFixed(1)} s`} (bar ${spikeBar.toFixed(1)} s)`);
  return {
    kind: 'processing_lag_spike',
    key: 'all',
    firing,
    severity: stuck ? 'critical' : 'warning',
    message: parts.length ? `event processing: ${parts.join('; ')}` : 'event processing: nothing received',
    value: stuck ? input.oldestPendingSeconds! : (input.recentP95Seconds ?? 0),
    threshold: stuck ? maxPending : spikeBar,
    details: { ...input, baselineMedianP95Seconds: base, spikeBarSeconds: spikeBar, stuck, slow },
  };
}

// ---------------------------------------------------------------------------------------------
// Score drift

/** Equal-width probability bins, the last one closed at 1.0 (as the model's calibration curve). */
export function histogram(scores: Iterable<number>, bins = 10): number[] {
  const counts = new Array<number>(bins).fill(0);
  for (const p of scores) counts[Math.min(bins - 1, Math.max(0, Math.floor(p * bins)))]! += 1;
  return counts;
}

/**
 * Population stability index Σ (a − e)·ln(a / e) over shares per bin; empty bins take a small share
 * so one empty bin does not make it infinite. Under 0.1 is stable by the usual rule of thumb,
 * 0.1–0.25 a moderate shift, above 0.25 a major one.
 */
export function populationStabilityIndex(expected: readonly number[], actual: readonly number[], epsilon = 1e-4): number {
  if (expected.length !== actual.length) throw new Error(`PSI needs the same bins: ${expected.length} vs ${actual.length}`);
  const te = expected.reduce((a, b) => a + b, 0);
  const ta = actual.reduce((a, b) => a + b, 0);
  if (te === 0 || ta === 0) return 0;
  let psi = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.max(expected[i]! / te, epsilon);
    const a = Math.max(actual[i]! / ta, epsilon);
    psi += (a - e) * Math.log(a / e);
  }
  return psi;
}

export interface DriftInput {
  /** the champion's version */
  key: string;
  /** counts per bin of the reference distribution */
  reference: readonly number[];
  /** where the reference comes from, said in the message */
  referenceSource: 'held_out' | 'first_scoring_run';
  /** counts per bin of the latest scoring run, same bins */
  current: readonly number[];
  /** default 0.2 */
  threshold?: number;
  /** fewer scores than this in either distribution never fire (default 100) */
  minScores?: number;
}

export function detectScoreDrift(input: DriftInput): Finding {
  const threshold = input.threshold ?? 0.2;
  const minScores = input.minScores ?? 100;
  const nRef = input.reference.reduce((a, b) => a + b, 0);
  const nCur = input.current.reduce((a, b) => a + b, 0);
  const psi = populationStabilityIndex(input.reference, input.current);
  const firing = nRef >= minScores && nCur >= minScores && psi >= threshold;
  const source = input.referenceSource === 'held_out' ? "the model's held-out data" : "the champion's first scoring run";
  return {
    kind: 'score_drift',
    key: input.key,
    firing,
    severity: firing && psi >= 0.5 ? 'critical' : 'warning',
    message: `score distribution of ${input.key}: PSI ${psi.toFixed(3)} against ${source} (${nCur} scores now, ${nRef} in the reference; bar ${threshold})`,
    value: psi,
    threshold,
    details: { psi, reference: input.reference, current: input.current, referenceSource: input.referenceSource, minScores },
  };
}

// ---------------------------------------------------------------------------------------------
// Offer spend against the monthly budget

/** Days in the UTC month of `at` and the day of that month `at` falls on (1-based). */
export function monthPosition(at: number): { daysInMonth: number; day: number } {
  const d = new Date(at * 1000);
  const daysInMonth = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  return { daysInMonth, day: d.getUTCDate() };
}

export interface BudgetPaceInput {
  policyId: string;
  /** reserved so far this month, minor units */
  spent: number;
  limit: number;
  currency: string;
  now: number;
  /** spend may run this far ahead of the pro-rata share before firing (default 1.25 = 25% ahead) */
  ratio?: number;
  /** spend under this share of the month's budget never fires (default 0.1), so day one's first offers are quiet */
  minShare?: number;
}

/**
 * Spend-to-date against the pro-rata share of the month, counting today as a whole day (the daily
 * decision run reserves the day's offers at once). Running ahead means the budget will be gone
 * before the month ends and later at-risk customers will get nothing.
 */
export function detectBudgetPace(input: BudgetPaceInput): Finding {
  const ratioBar = input.ratio ?? 1.25;
  const minShare = input.minShare ?? 0.1;
  const { daysInMonth, day } = monthPosition(input.now);
  const proRata = input.limit * (day / daysInMonth);
  const pace = proRata > 0 ? input.spent / proRata : 0;
  const firing = input.limit > 0 && input.spent >= input.limit * minShare && pace >= ratioBar;
  const fmt = (minor: number) => `${(minor / 100).toFixed(2)} ${input.currency.toUpperCase()}`;
  return {
    kind: 'budget_pace',
    key: input.policyId,
    firing,
    severity: firing && input.spent >= input.limit ? 'critical' : 'warning',
    message: `policy ${input.policyId} has spent ${fmt(input.spent)} of ${fmt(input.limit)} on day ${day} of ${daysInMonth}: ${pace.toFixed(2)}× its pro-rata share of ${fmt(Math.round(proRata))}`,
    value: pace,
    threshold: ratioBar,
    details: { spent: input.spent, limit: input.limit, currency: input.currency, proRata: Math.round(proRata), day, daysInMonth, minShare },
  };
}
