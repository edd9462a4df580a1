import { ZERO_DECIMAL_CURRENCIES } from '../../db/queries/features.sql.js';
import { convertMinor, DAYS_PER_MONTH } from '../retention/costs.js';
import {
  confidenceLevel,
  DEFAULT_BOOTSTRAP_RESAMPLES,
  DEFAULT_BOOTSTRAP_SEED,
  moverWeightedSum,
  newcombeDifference,
  numberNeededToTreat,
  numberNeededToTreatInterval,
  savedMrrInterval,
  type Estimate,
  type MrrStratum,
  Z_95,
} from './stats.js';

/**
 * The uplift report (UPLIFT.md): per policy and overall, what the treated arm's churn was against
 * the holdout's, what that saved in customers and MRR, what the offers cost, and whether the data
 * can tell yet. Pure: rows in, a typed JSON-ready object out; the database read and the CLI live
 * elsewhere.
 *
 * Randomisation happens within a policy version (its holdout share is a version setting), so each
 * (policy, version) is a stratum. Effects are estimated per stratum and combined weighted by the
 * stratum's share of decided customers (T ∪ H), which is the population-average effect UPLIFT.md
 * judges against; pooling rows across versions or policies with different holdout shares would
 * mix populations (Simpson's paradox). With a single stratum this is exactly Newcombe's interval.
 */

export type UpliftArm = 'treatment' | 'holdout';
export type UpliftOutcome = 'stayed' | 'churned';
export type ChurnType = 'voluntary' | 'involuntary';

/** One intervention row as the report needs it (see src/db/schema/retention.ts `interventions`). */
export interface UpliftRow {
  id: string;
  policyId: string;
  policyVersion: number;
  policyName?: string | null;
  arm: UpliftArm;
  action: string;
  /** MRR at decision time, minor units of `currency` */
  mrr: number;
  currency: string;
  /** cost of what was applied, minor units of `currency` (0 for holdout) */
  cost: number;
  /** null while the horizon has not passed: counted as pending, left out of every estimate */
  outcome: UpliftOutcome | null;
  churnType?: ChurnType | null;
  /** decision time, unix seconds */
  decidedAt: number;
  horizonDays: number;
  /** the policy's `monthsKept` at this version, when known */
  monthsKept?: number | null;
  /**
   * intervention status, when known: 'skipped' rows (budget ran out before reservation) are in
   * neither arm (UPLIFT.md) and 'dry_run' treated rows never received the offer, so both are
   * counted apart and left out of the estimates
   */
  status?: string | null;
}

export interface UpliftReportOptions {
  /** reporting currency; every amount is converted to it with the fixed rates (default 'usd') */
  currency?: string;
  /** fewer settled outcomes than this in either arm and the verdict is "not enough data" (default 30) */
  minOutcomesPerArm?: number;
  /** z of the two-sided intervals (default 1.96, 95 %) */
  z?: number;
  /** seed of the saved-MRR bootstrap (default 1) */
  seed?: number;
  /** bootstrap resamples (default 2000) */
  resamples?: number;
  /** months a saved customer stays, overriding each policy's own `monthsKept` */
  monthsKept?: number;
}

export const DEFAULT_MIN_OUTCOMES_PER_ARM = 30;

export interface ArmSummary {
  /** settled outcomes used by the report */
  settled: number;
  /** decided but horizon not yet passed */
  pending: number;
  churned: number;
  voluntary: number;
  involuntary: number;
  /** churned with no recorded churn type (counted in `churned` only) */
  unknownType: number;
  /** churned / settled; null with no settled outcome */
  churnRate: number | null;
  voluntaryRate: number | null;
  involuntaryRate: number | null;
  /** total MRR of the settled customers, minor units of the reporting currency */
  mrr: number;
}

/** An interval estimate of a share or a count (not money). */
export interface IntervalEstimate {
  estimate: number;
  lower: number;
  upper: number;
}

/** Money in integer minor units of the report's currency. */
export interface MoneyEstimate {
  estimate: number;
  lower: number;
  upper: number;
}

export type VerdictStatus = 'not_enough_data' | 'reduces_churn' | 'increases_churn';

export interface Verdict {
  status: VerdictStatus;
  /** why there is not enough data; null otherwise */
  reason: 'too_few_outcomes' | 'interval_contains_zero' | null;
  /** one plain sentence for people */
  message: string;
}

export interface MonthsKeptAssumption {
  /** months a saved customer is assumed to stay (treated-MRR-weighted mean when rows differ) */
  value: number;
  source: 'option' | 'policy' | 'one_horizon' | 'mixed';
  statement: string;
}

export interface UpliftGroupReport {
  scope: 'policy' | 'overall';
  policyId: string | null;
  policyName: string | null;
  policyVersions: number[];
  actions: string[];
  horizonDays: number[];
  /** earliest and latest decision (unix seconds) among the group's rows, settled or not */
  period: { firstDecidedAt: number; lastDecidedAt: number } | null;
  treated: ArmSummary;
  holdout: ArmSummary;
  /** rows left out: skipped (in neither arm) and dry-run (never treated) */
  excluded: { skipped: number; dryRun: number };
  /** randomisation strata (policy versions) with settled outcomes in both arms, used by the estimates */
  strataUsed: number;
  /** effect on churn p_H − p_T (positive = the offer saved customers); null without both arms */
  effect: IntervalEstimate | null;
  effectByType: { voluntary: IntervalEstimate | null; involuntary: IntervalEstimate | null };
  /** effect × |T| (summed per stratum) */
  savedCustomers: IntervalEstimate | null;
  savedMrr: MoneyEstimate | null;
  /** cost of the offers whose outcome the estimate uses, minor units */
  offerCost: number;
  monthsKept: MonthsKeptAssumption | null;
  /** saved MRR × months kept − offer cost */
  netValue: MoneyEstimate | null;
  /**
   * 1 / effect. estimate null when the effect is <= 0 (no number of offers saves anyone);
   * lower/upper from the effect's interval (Altman 1998), null when that interval contains 0
   */
  numberNeededToTreat: { estimate: number | null; lower: number | null; upper: number | null };
  verdict: Verdict;
  warnings: string[];
}

export interface UpliftReport {
  currency: string;
  /** e.g. 0.95 */
  confidenceLevel: number;
  z: number;
  minOutcomesPerArm: number;
  method: {
    effect: string;
    savedMrr: string;
    bootstrap: { seed: number; resamples: number };
  };
  overall: UpliftGroupReport;
  policies: UpliftGroupReport[];
}

export const EFFECT_METHOD =
  'holdout churn rate minus treated churn rate; Newcombe hybrid score interval (Newcombe 1998, method 10), combined over policy versions by MOVER weighted by decided customers';
export const SAVED_MRR_METHOD =
  'MRR-weighted churn rate difference × treated MRR; seeded percentile bootstrap over customers within each arm, never narrower than a Newcombe interval at Kish effective sample sizes';

interface PreparedRow {
  row: UpliftRow;
  /** MRR and cost in reporting-currency minor units */
  mrr: number;
  cost: number;
  months: number;
  monthsSource: 'option' | 'policy' | 'one_horizon';
}

export function buildUpliftReport(rows: ReadonlyArray<UpliftRow>, options: UpliftReportOptions = {}): UpliftReport {
  const currency = (options.currency ?? 'usd').toLowerCase();
  const z = options.z ?? Z_95;
  const minOutcomesPerArm = options.minOutcomesPerArm ?? DEFAULT_MIN_OUTCOMES_PER_ARM;
  const seed = options.seed ?? DEFAULT_BOOTSTRAP_SEED;
  const resamples = options.resamples ?? DEFAULT_BOOTSTRAP_RESAMPLES;
  if (options.monthsKept !== undefined && !(options.monthsKept > 0)) throw new RangeError('monthsKept must be > 0');

  const prepared = rows.map((row): PreparedRow => {
    if (row.arm !== 'treatment' && row.arm !== 'holdout') throw new RangeError(`intervention ${row.id}: unknown arm ${String(row.arm)}`);
    if (!Number.isInteger(row.mrr) || !Number.isInteger(row.cost)) throw new RangeError(`intervention ${row.id}: mrr and cost must be integer minor units`);
    if (row.mrr < 0 || row.cost < 0) throw new RangeError(`intervention ${row.id}: mrr and cost must be >= 0`);
    const fromOption = options.monthsKept;
    const fromPolicy = row.monthsKept ?? undefined;
    return {
      row,
      mrr: convertMinor(row.mrr, row.currency, currency),
      cost: convertMinor(row.cost, row.currency, currency),
      months: fromOption ?? fromPolicy ?? row.horizonDays / DAYS_PER_MONTH,
      monthsSource: fromOption !== undefined ? 'option' : fromPolicy !== undefined ? 'policy' : 'one_horizon',
    };
  });

  const ctx: GroupContext = { currency, z, minOutcomesPerArm, seed, resamples, converted: new Set(prepared.map((p) => p.row.currency.toLowerCase())).size > 1 || prepared.some((p) => p.row.currency.toLowerCase() !== currency) };

  const byPolicy = new Map<string, PreparedRow[]>();
  for (const p of prepared) {
    const list = byPolicy.get(p.row.policyId) ?? [];
    list.push(p);
    byPolicy.set(p.row.policyId, list);
  }
  const policies = [...byPolicy.keys()].sort().map((id) => buildGroup('policy', byPolicy.get(id)!, ctx));
  const overall = buildGroup('overall', prepared, ctx);

  return {
    currency,
    confidenceLevel: Math.round(confidenceLevel(z) * 10_000) / 10_000,
    z,
    minOutcomesPerArm,
    method: { effect: EFFECT_METHOD, savedMrr: SAVED_MRR_METHOD, bootstrap: { seed, resamples } },
    overall,
    policies,
  };
}

interface GroupContext {
  currency: string;
  z: number;
  minOutcomesPerArm: number;
  seed: number;
  resamples: number;
  converted: boolean;
}

interface Stratum {
  key: string;
  treated: PreparedRow[];
  holdout: PreparedRow[];
}

function buildGroup(scope: 'policy' | 'overall', rows: PreparedRow[], ctx: GroupContext): UpliftGroupReport {
  const first = rows[0]?.row;
  const warnings: string[] = [];
  const excluded = { skipped: 0, dryRun: 0 };
  const settled: PreparedRow[] = [];
  let pendingT = 0;
  let pendingH = 0;
  for (const p of rows) {
    if (p.row.status === 'skipped') excluded.skipped++;
    else if (p.row.status === 'dry_run') excluded.dryRun++;
    else if (p.row.outcome === null || p.row.outcome === undefined) {
      if (p.row.arm === 'treatment') pendingT++;
      else pendingH++;
    } else settled.push(p);
  }
  const treatedRows = settled.filter((p) => p.row.arm === 'treatment');
  const holdoutRows = settled.filter((p) => p.row.arm === 'holdout');
  const treated = summariseArm(treatedRows, pendingT);
  const holdout = summariseArm(holdoutRows, pendingH);

  // strata: policy versions with settled outcomes in both arms
  const strataMap = new Map<string, Stratum>();
  for (const p of settled) {
    const key = `${p.row.policyId}\u0000${p.row.policyVersion}`;
    const s = strataMap.get(key) ?? { key, treated: [], holdout: [] };
    (p.row.arm === 'treatment' ? s.treated : s.holdout).push(p);
    strataMap.set(key, s);
  }
  const strata: Stratum[] = [];
  for (const s of [...strataMap.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
    if (s.treated.length > 0 && s.holdout.length > 0) strata.push(s);
    else if (strataMap.size > 1 || scope === 'policy') {
      const [policyId, version] = s.key.split('\u0000');
      const missing = s.treated.length === 0 ? 'treated' : 'holdout';
      const present = s.treated.length === 0 ? `${s.holdout.length} holdout` : `${s.treated.length} treated`;
      warnings.push(`Policy ${policyId} version ${version} has no settled ${missing} outcomes, so its ${present} outcomes are left out of the estimates.`);
    }
  }

  const pendingTotal = pendingT + pendingH;
  if (pendingTotal > 0) warnings.push(`${pendingTotal} decisions are still inside their horizon (pending) and are not counted yet.`);
  if (excluded.dryRun > 0) warnings.push(`${excluded.dryRun} dry-run decisions received no offer and are left out.`);
  if (ctx.converted) warnings.push(`Amounts in other currencies are converted to ${ctx.currency.toUpperCase()} at fixed approximate rates.`);

  let effect: IntervalEstimate | null = null;
  let voluntary: IntervalEstimate | null = null;
  let involuntary: IntervalEstimate | null = null;
  let savedCustomers: IntervalEstimate | null = null;
  let savedMrr: MoneyEstimate | null = null;
  let netValue: MoneyEstimate | null = null;
  let monthsKept: MonthsKeptAssumption | null = null;
  let offerCost = 0;

  if (strata.length > 0) {
    const decided = strata.reduce((n, s) => n + s.treated.length + s.holdout.length, 0);
    const effectOf = (churned: (p: PreparedRow) => boolean) =>
      strata.map((s) => ({
        s,
        d: newcombeDifference(count(s.holdout, churned), s.holdout.length, count(s.treated, churned), s.treated.length, ctx.z),
      }));
    const all = effectOf(isChurned);
    effect = roundShare(moverWeightedSum(all.map(({ s, d }) => ({ weight: (s.treated.length + s.holdout.length) / decided, value: d }))));
    voluntary = roundShare(
      moverWeightedSum(effectOf((p) => isChurned(p) && p.row.churnType === 'voluntary').map(({ s, d }) => ({ weight: (s.treated.length + s.holdout.length) / decided, value: d }))),
    );
    involuntary = roundShare(
      moverWeightedSum(effectOf((p) => isChurned(p) && p.row.churnType === 'involuntary').map(({ s, d }) => ({ weight: (s.treated.length + s.holdout.length) / decided, value: d }))),
    );
    savedCustomers = roundShare(moverWeightedSum(all.map(({ s, d }) => ({ weight: s.treated.length, value: d }))));

    const mrrStrata: MrrStratum[] = strata.map((s) => ({ treated: armSample(s.treated), holdout: armSample(s.holdout) }));
    const mrr = savedMrrInterval(mrrStrata, { seed: ctx.seed, resamples: ctx.resamples, z: ctx.z });
    savedMrr = { estimate: Math.round(mrr.estimate), lower: Math.floor(mrr.lower), upper: Math.ceil(mrr.upper) };

    const usedTreated = strata.flatMap((s) => s.treated);
    offerCost = usedTreated.reduce((sum, p) => sum + p.cost, 0);
    const months = monthsKeptAssumption(usedTreated);
    monthsKept = months.assumption;
    const m = months.exact;
    netValue = {
      estimate: Math.round(mrr.estimate * m - offerCost),
      lower: Math.floor(mrr.lower * m - offerCost),
      upper: Math.ceil(mrr.upper * m - offerCost),
    };
    if (netValue.upper < 0) warnings.push('Even at the top of its interval the saved MRR does not cover what the offers cost.');
    else if (netValue.estimate < 0) warnings.push('At the estimate the saved MRR does not cover what the offers cost.');
  }

  const nntInterval = effect ? numberNeededToTreatInterval(effect) : null;
  const nnt = effect ? numberNeededToTreat(effect.estimate) : Number.POSITIVE_INFINITY;

  const verdict = decideVerdict(treated.settled, holdout.settled, effect, ctx);

  return {
    scope,
    policyId: scope === 'policy' ? first!.policyId : null,
    policyName: scope === 'policy' ? (rows.find((p) => p.row.policyName)?.row.policyName ?? null) : null,
    policyVersions: scope === 'policy' ? uniqueSorted(rows.map((p) => p.row.policyVersion)) : [],
    actions: uniqueSorted(rows.map((p) => p.row.action)),
    horizonDays: uniqueSorted(rows.map((p) => p.row.horizonDays)),
    period: rows.length
      ? { firstDecidedAt: Math.min(...rows.map((p) => p.row.decidedAt)), lastDecidedAt: Math.max(...rows.map((p) => p.row.decidedAt)) }
      : null,
    treated,
    holdout,
    excluded,
    strataUsed: strata.length,
    effect,
    effectByType: { voluntary, involuntary },
    savedCustomers,
    savedMrr,
    offerCost,
    monthsKept,
    netValue,
    numberNeededToTreat: {
      estimate: Number.isFinite(nnt) ? round(nnt, 2) : null,
      lower: nntInterval ? round(nntInterval.lower, 2) : null,
      upper: nntInterval ? round(nntInterval.upper, 2) : null,
    },
    verdict,
    warnings,
  };
}

function decideVerdict(treated: number, holdout: number, effect: IntervalEstimate | null, ctx: GroupContext): Verdict {
  const level = `${Math.round(confidenceLevel(ctx.z) * 100)} %`;
  if (treated < ctx.minOutcomesPerArm || holdout < ctx.minOutcomesPerArm || !effect) {
    const short = [treated < ctx.minOutcomesPerArm ? `the treated arm has ${treated}` : null, holdout < ctx.minOutcomesPerArm ? `the holdout has ${holdout}` : null]
      .filter(Boolean)
      .join(' and ');
    return {
      status: 'not_enough_data',
      reason: 'too_few_outcomes',
      message: `Not enough data: ${short || 'no policy version has outcomes in both arms'} settled outcomes, fewer than the ${ctx.minOutcomesPerArm} needed in each arm.`,
    };
  }
  const span = `[${formatPoints(effect.lower)}, ${formatPoints(effect.upper)}]`;
  if (effect.lower <= 0 && effect.upper >= 0) {
    return {
      status: 'not_enough_data',
      reason: 'interval_contains_zero',
      message: `Not enough data: the ${level} interval for the effect on churn, ${span} points, contains 0, so the offer cannot yet be told apart from no offer.`,
    };
  }
  if (effect.lower > 0) {
    return {
      status: 'reduces_churn',
      reason: null,
      message: `The offer reduced churn by ${formatPoints(effect.estimate, false)} percentage points (${level} interval ${span}).`,
    };
  }
  return {
    status: 'increases_churn',
    reason: null,
    message: `The offer increased churn by ${formatPoints(-effect.estimate, false)} percentage points (${level} interval ${span}): customers were better off without it.`,
  };
}

function monthsKeptAssumption(treated: PreparedRow[]): { assumption: MonthsKeptAssumption; exact: number } {
  const sources = new Set(treated.map((p) => p.monthsSource));
  const totalMrr = treated.reduce((s, p) => s + p.mrr, 0);
  // saved MRR is MRR-weighted, so the months that scale it are weighted the same way
  const value =
    totalMrr > 0 ? treated.reduce((s, p) => s + p.mrr * p.months, 0) / totalMrr : treated.reduce((s, p) => s + p.months, 0) / Math.max(1, treated.length);
  const source = sources.size === 1 ? [...sources][0]! : 'mixed';
  const months = `${round(value, 2)} month${round(value, 2) === 1 ? '' : 's'}`;
  const why =
    source === 'option'
      ? 'as asked for this report'
      : source === 'policy'
        ? "the policy's monthsKept setting"
        : source === 'one_horizon'
          ? 'one horizon, the default'
          : "each policy's monthsKept, or one horizon where unset, weighted by treated MRR";
  return { assumption: { value: round(value, 4), source, statement: `A saved customer is assumed to stay ${months} (${why}).` }, exact: value };
}

function summariseArm(rows: PreparedRow[], pending: number): ArmSummary {
  const churned = count(rows, isChurned);
  const voluntary = count(rows, (p) => isChurned(p) && p.row.churnType === 'voluntary');
  const involuntary = count(rows, (p) => isChurned(p) && p.row.churnType === 'involuntary');
  const n = rows.length;
  return {
    settled: n,
    pending,
    churned,
    voluntary,
    involuntary,
    unknownType: churned - voluntary - involuntary,
    churnRate: n ? churned / n : null,
    voluntaryRate: n ? voluntary / n : null,
    involuntaryRate: n ? involuntary / n : null,
    mrr: rows.reduce((s, p) => s + p.mrr, 0),
  };
}

function armSample(rows: PreparedRow[]): MrrStratum['treated'] {
  return { mrr: rows.map((p) => p.mrr), churned: rows.map((p) => (isChurned(p) ? 1 : 0)) };
}

function isChurned(p: PreparedRow): boolean {
  return p.row.outcome === 'churned';
}

function count(rows: PreparedRow[], predicate: (p: PreparedRow) => boolean): number {
  let n = 0;
  for (const p of rows) if (predicate(p)) n++;
  return n;
}

function uniqueSorted<T extends string | number>(values: T[]): T[] {
  return [...new Set(values)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function roundShare(e: Estimate): IntervalEstimate {
  return { estimate: round(e.estimate, 6), lower: round(e.lower, 6), upper: round(e.upper, 6) };
}

// ---------------------------------------------------------------------------------------------
// Text for the CLI

/** Money in minor units as people read it: "$4,120.00", "-€12.50", "¥1,200". */
export function formatMoney(minor: number, currency: string): string {
  const c = currency.toLowerCase();
  const digits = ZERO_DECIMAL_CURRENCIES.has(c) ? 0 : 2;
  return new Intl.NumberFormat('en-US', { style: 'currency', currency: c.toUpperCase(), minimumFractionDigits: digits, maximumFractionDigits: digits }).format(
    minor / 10 ** digits,
  );
}

/** A share as a percentage: 0.1234 -> "12.3 %". */
export function formatPercent(share: number | null): string {
  return share === null ? '-' : `${(share * 100).toFixed(1)} %`;
}

/** A difference of shares in percentage points, signed: 0.042 -> "+4.2". */
function formatPoints(share: number, signed = true): string {
  const v = (share * 100).toFixed(1);
  return signed && share >= 0 && v !== '0.0' ? `+${v}` : v === '-0.0' ? '0.0' : v;
}

function formatCount(x: number): string {
  return x.toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
}

function formatDate(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().slice(0, 10);
}

/** The report as a readable block for the terminal: one section per policy, then the overall one. */
export function renderUpliftReportText(report: UpliftReport): string {
  const level = `${Math.round(report.confidenceLevel * 100)} %`;
  const lines: string[] = [];
  lines.push(`Uplift report (${report.currency.toUpperCase()}, ${level} intervals, at least ${report.minOutcomesPerArm} settled outcomes per arm)`);
  lines.push(`Effect on churn: Newcombe score interval (holdout churn minus treated churn, by policy version).`);
  lines.push(
    `Saved MRR: bootstrap (${report.method.bootstrap.resamples.toLocaleString('en-US')} resamples, seed ${report.method.bootstrap.seed}) of the MRR-weighted churn difference, never narrower than a Newcombe interval at effective sample sizes.`,
  );
  const groups = report.policies.length === 1 ? report.policies : [...report.policies, report.overall];
  if (groups.length === 0) groups.push(report.overall);
  for (const g of groups) {
    lines.push('');
    lines.push(...renderGroup(g, report.currency));
  }
  return lines.join('\n') + '\n';
}

function renderGroup(g: UpliftGroupReport, currency: string): string[] {
  const out: string[] = [];
  const title =
    g.scope === 'overall'
      ? 'All policies'
      : `Policy ${g.policyName ? `"${g.policyName}" ` : ''}(${g.policyId}, version${g.policyVersions.length > 1 ? 's' : ''} ${g.policyVersions.join(', ')})`;
  const facts = [g.actions.join(', ')];
  if (g.period) facts.push(`decided ${formatDate(g.period.firstDecidedAt)} to ${formatDate(g.period.lastDecidedAt)}`);
  if (g.horizonDays.length) facts.push(`horizon ${g.horizonDays.join(', ')} days`);
  out.push(`${title}: ${facts.join(' · ')}`);

  const arm: [string, string, string][] = [
    ['', 'treated', 'holdout'],
    ['settled', String(g.treated.settled), String(g.holdout.settled)],
    ['pending', String(g.treated.pending), String(g.holdout.pending)],
    ['churn rate', formatPercent(g.treated.churnRate), formatPercent(g.holdout.churnRate)],
    ['  voluntary', formatPercent(g.treated.voluntaryRate), formatPercent(g.holdout.voluntaryRate)],
    ['  involuntary', formatPercent(g.treated.involuntaryRate), formatPercent(g.holdout.involuntaryRate)],
  ];
  out.push(...table(arm, ['left', 'right', 'right']));
  out.push('');

  const enough = g.verdict.reason !== 'too_few_outcomes';
  const points = (e: IntervalEstimate | null) => (e ? [`${formatPoints(e.estimate)} pts`, `[${formatPoints(e.lower)}, ${formatPoints(e.upper)}]`] : ['-', '']);
  const money = (e: MoneyEstimate | null) => (e ? [formatMoney(e.estimate, currency), `[${formatMoney(e.lower, currency)}, ${formatMoney(e.upper, currency)}]`] : ['-', '']);
  const rows: string[][] = [];
  const pair = (label: string, [value, interval]: string[]) => rows.push([label, enough || value === '-' ? value! : 'not enough data', enough || value === '-' ? interval! : `(${[value, interval].filter(Boolean).join(' ')})`]);
  pair('effect on churn', points(g.effect));
  pair('  voluntary', points(g.effectByType.voluntary));
  pair('  involuntary', points(g.effectByType.involuntary));
  pair('saved customers', g.savedCustomers ? [formatCount(g.savedCustomers.estimate), `[${formatCount(g.savedCustomers.lower)}, ${formatCount(g.savedCustomers.upper)}]`] : ['-', '']);
  pair('saved MRR', money(g.savedMrr));
  rows.push(['offer cost', formatMoney(g.offerCost, currency), '']);
  pair(`net value (${g.monthsKept ? `${round(g.monthsKept.value, 2)} mo kept` : 'months kept'})`, money(g.netValue));
  const nnt = g.numberNeededToTreat;
  if (nnt.estimate === null) rows.push(['number needed to treat', g.effect ? 'none (no benefit)' : '-', '']);
  else pair('number needed to treat', [nnt.estimate.toFixed(1), nnt.lower !== null && nnt.upper !== null ? `[${nnt.lower.toFixed(1)}, ${nnt.upper.toFixed(1)}]` : '']);
  out.push(...table(rows, ['left', 'right', 'left']));
  if (g.monthsKept) out.push(`  ${g.monthsKept.statement}`);
  out.push(`  Verdict: ${g.verdict.message}`);
  for (const w of g.warnings) out.push(`  Warning: ${w}`);
  return out;
}

function table(rows: string[][], align: ('left' | 'right')[]): string[] {
  const widths = align.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map(
    (r) =>
      '  ' +
      r
        .map((cell, c) => (align[c] === 'right' ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
        .join('   ')
        .trimEnd(),
  );
}
