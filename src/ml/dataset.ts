import type { Database } from '../db/client.js';
import { dataEndQuery, DAY_SECONDS } from '../db/queries/features.sql.js';
import { ChurnError } from '../lib/errors.js';
import { applyVocabulary, learnVocabulary, type CatalogueVocabulary, type CustomerCatalogue } from './catalogue.js';
import { featureMatrixAt, featureSet, FEATURES, productNames, type CustomerKey } from './features.js';
import { CHURN_TYPE_CODE, churnLabelsAt, DEFAULT_HORIZON_DAYS, type ChurnMoment } from './labels.js';
import type { FeatureSet, LabelledData, Matrix } from './types.js';

/**
 * Training data: labelled feature snapshots at several past dates, split by time.
 *
 * Snapshot dates are month starts (00:00 UTC on the 1st, i.e. month ends) whose whole horizon lies
 * before the newest event, so every label is fully observed. The split never shuffles across time:
 * the oldest snapshots train, newer ones drive early stopping, newer still fit the calibration,
 * and the newest are held out for the metrics that decide promotion.
 */

export interface Snapshot {
  asOf: number;
  keys: CustomerKey[];
  x: Matrix;
  y: Uint8Array;
  churnType: Uint8Array;
  positives: number;
  /** what each row holds, for the catalogue vocabulary (slot columns are 0 until it is applied) */
  catalogues: CustomerCatalogue[];
  priceNames: Map<string, string>;
}

export interface DataWindow {
  /** oldest and newest event (or subscription version) time, unix seconds */
  start: number;
  end: number;
}

/** Time span of the stored data, or null when there is none. */
export async function dataWindow(database: Database, accounts?: string[]): Promise<DataWindow | null> {
  const [row] = await database.query<{ data_end: number | null; data_start: number | null }>(dataEndQuery(accounts));
  if (!row || row.data_end === null || row.data_start === null) return null;
  return { start: Number(row.data_start), end: Number(row.data_end) };
}

/** 00:00 UTC on the first day of the month `t` falls in, moved by `months`. */
export function monthStart(t: number, months = 0): number {
  const d = new Date(t * 1000);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1) / 1000;
}

export interface SnapshotPlan {
  /** newest usable snapshot date is the last month start with asOf + horizon <= until */
  until: number;
  /** first data time: snapshots start one month after it so features have some history */
  dataStart: number;
  horizonDays?: number;
  maxSnapshots?: number;
}

/** Month-start snapshot dates, oldest first, whose horizon ends at or before `until`. */
export function snapshotDates(plan: SnapshotPlan): number[] {
  const horizon = (plan.horizonDays ?? DEFAULT_HORIZON_DAYS) * DAY_SECONDS;
  const first = monthStart(plan.dataStart, 1);
  const dates: number[] = [];
  for (let t = monthStart(plan.until - horizon); t >= first; t = monthStart(t, -1)) {
    if (t + horizon <= plan.until) dates.push(t);
    if (dates.length >= (plan.maxSnapshots ?? 24)) break;
  }
  return dates.reverse();
}

/**
 * Features and labels of every customer in the label population at `asOf` (live, and not already
 * set to cancel when churn is counted at the request), rows in the same order.
 */
export async function buildSnapshot(
  database: Database,
  asOf: number,
  options: { horizonDays?: number; accounts?: string[]; churnMoment?: ChurnMoment } = {},
): Promise<Snapshot> {
  const [features, labels] = await Promise.all([
    featureMatrixAt(database, asOf, { accounts: options.accounts }),
    churnLabelsAt(database, asOf, { horizonDays: options.horizonDays, accounts: options.accounts, churnMoment: options.churnMoment }),
  ]);
  const byKey = new Map(labels.map((l) => [`${l.account}\u0001${l.customerId}`, l]));
  const cols = features.matrix.cols;
  const keep: number[] = [];
  features.keys.forEach((k, i) => {
    if (byKey.has(`${k.account}\u0001${k.customerId}`)) keep.push(i);
  });
  // Both queries define "live at asOf" from the same versions; a label without features is a bug.
  if (keep.length !== labels.length) throw new Error(`labels (${labels.length}) and features (${keep.length}) disagree on who was live at ${asOf}`);
  const data = new Float32Array(keep.length * cols);
  const y = new Uint8Array(keep.length);
  const churnType = new Uint8Array(keep.length);
  const keys: CustomerKey[] = new Array(keep.length);
  const catalogues: CustomerCatalogue[] = new Array(keep.length);
  let positives = 0;
  keep.forEach((i, r) => {
    const k = features.keys[i]!;
    const label = byKey.get(`${k.account}\u0001${k.customerId}`)!;
    keys[r] = k;
    catalogues[r] = features.catalogues[i]!;
    data.set(features.matrix.data.subarray(i * cols, (i + 1) * cols), r * cols);
    y[r] = label.churned ? 1 : 0;
    churnType[r] = CHURN_TYPE_CODE[label.churnType];
    positives += y[r]!;
  });
  return { asOf, keys, x: { data, rows: keep.length, cols }, y, churnType, positives, catalogues, priceNames: features.priceNames };
}

/** Concatenates snapshots into one LabelledData (asOf as days since the epoch). */
export function toLabelledData(snapshots: Snapshot[], cols = featureSet().features.length): LabelledData {
  const rows = snapshots.reduce((s, x) => s + x.x.rows, 0);
  const data = new Float32Array(rows * cols);
  const y = new Uint8Array(rows);
  const churnType = new Uint8Array(rows);
  const asOf = new Int32Array(rows);
  const groups = new Int32Array(rows);
  const ids = new Map<string, number>();
  let r = 0;
  for (const s of snapshots) {
    s.keys.forEach((k, i) => {
      const key = `${k.account}\u0001${k.customerId}`;
      let id = ids.get(key);
      if (id === undefined) ids.set(key, (id = ids.size));
      groups[r + i] = id;
    });
    data.set(s.x.data, r * cols);
    y.set(s.y, r);
    churnType.set(s.churnType, r);
    asOf.fill(Math.floor(s.asOf / DAY_SECONDS), r, r + s.x.rows);
    r += s.x.rows;
  }
  return { x: { data, rows, cols }, y, churnType, asOf, groups };
}

export interface TimeSplit {
  train: Snapshot[];
  valid: Snapshot[];
  calib: Snapshot[];
  test: Snapshot[];
}

export interface SplitOptions {
  /** share of all churners each held-out part should get, newest first (test, calib, valid) */
  testShare?: number;
  calibShare?: number;
  validShare?: number;
  /** fewest churners the training part may have */
  minTrainPositives?: number;
  /** label horizon: an earlier part's snapshots must see their whole horizon end before the next part starts */
  horizonDays?: number;
}

/**
 * Overlap tolerated between a snapshot's horizon and the next part's first snapshot, so that a
 * 30-day horizon still fits between month starts (February is 28 days): at most 3 days of labels
 * can fall in the next part's first month.
 */
export const SPLIT_OVERLAP_DAYS = 3;

/** Too little history or too few churners to train and evaluate honestly. */
export class InsufficientDataError extends ChurnError {
  constructor(message: string) {
    super('VALIDATION_FAILED', message);
    this.name = 'InsufficientDataError';
  }
}

/**
 * Splits snapshots (oldest first) by time. Parts are filled from the newest snapshot backwards until
 * each holds its share of the churners, so an account whose churn is bunched into a few months (or
 * that has months with none) still gets churners in every part; each part keeps whole snapshots.
 * Between consecutive parts, snapshots whose horizon would reach into the next part are left out
 * (a gap of one horizon), so no earlier part's label sees a later part's months.
 */
export function splitByTime(snapshots: Snapshot[], options: SplitOptions = {}): TimeSplit {
  const minTrain = options.minTrainPositives ?? 20;
  const total = snapshots.reduce((s, x) => s + x.positives, 0);
  const rows = snapshots.reduce((s, x) => s + x.x.rows, 0);
  if (snapshots.length < 4) {
    throw new InsufficientDataError(
      `need at least 4 monthly snapshots with a fully observed horizon to train, validate, calibrate and evaluate by time; have ${snapshots.length} (about 5 months of history at minimum)`,
    );
  }
  if (total < minTrain + 3) {
    throw new InsufficientDataError(`only ${total} churners across ${snapshots.length} snapshots (${rows} customer-months); need at least ${minTrain + 3} to train and evaluate`);
  }
  const shares = [options.testShare ?? 0.15, options.calibShare ?? 0.15, options.validShare ?? 0.1];
  const horizon = (options.horizonDays ?? DEFAULT_HORIZON_DAYS) * DAY_SECONDS;
  const parts: Snapshot[][] = [[], [], []];
  let i = snapshots.length - 1;
  for (let p = 0; p < 3; p++) {
    // The gap: a snapshot whose horizon reaches into the later part would label its rows with what
    // happened in the later part's months (a leak when the horizon is longer than a month).
    const laterStart = p === 0 ? Infinity : parts[p - 1]![0]!.asOf;
    while (i >= 0 && snapshots[i]!.asOf + horizon > laterStart + SPLIT_OVERLAP_DAYS * DAY_SECONDS) i--;
    const want = Math.max(1, Math.ceil(total * shares[p]!));
    let got = 0;
    // leave at least one snapshot for each remaining part and for training
    while (i >= 3 - p && (parts[p]!.length === 0 || got < want)) {
      got += snapshots[i]!.positives;
      parts[p]!.unshift(snapshots[i]!);
      i--;
    }
    if (parts[p]!.length === 0) {
      throw new InsufficientDataError(`too few monthly snapshots to keep a ${options.horizonDays ?? DEFAULT_HORIZON_DAYS}-day gap between training, validation, calibration and evaluation months; more history is needed`);
    }
    if (got === 0) throw new InsufficientDataError(`no churners in the ${['test', 'calibration', 'validation'][p]} months (${parts[p]!.map((s) => new Date(s.asOf * 1000).toISOString().slice(0, 10)).join(', ')}); more history is needed`);
  }
  const validStart = parts[2]![0]!.asOf;
  while (i >= 0 && snapshots[i]!.asOf + horizon > validStart + SPLIT_OVERLAP_DAYS * DAY_SECONDS) i--;
  if (i < 0) throw new InsufficientDataError(`no training months left before the validation months after a ${options.horizonDays ?? DEFAULT_HORIZON_DAYS}-day gap; more history is needed`);
  const train = snapshots.slice(0, i + 1);
  const trainPositives = train.reduce((s, x) => s + x.positives, 0);
  if (trainPositives < minTrain) {
    throw new InsufficientDataError(`only ${trainPositives} churners in the training months after holding out the newest for evaluation; need at least ${minTrain}`);
  }
  return { train, valid: parts[2]!, calib: parts[1]!, test: parts[0]! };
}

export interface TrainingSet {
  featureSet: FeatureSet;
  /** the catalogue vocabulary learned on the training months, applied to every part */
  vocabulary: CatalogueVocabulary;
  horizonDays: number;
  dates: number[];
  snapshots: Snapshot[];
  split: TimeSplit;
  train: LabelledData;
  valid: LabelledData;
  calib: LabelledData;
  test: LabelledData;
}

export interface TrainingSetOptions {
  /** newest time the labels may look at (default: newest event) */
  asOf?: number;
  horizonDays?: number;
  accounts?: string[];
  maxSnapshots?: number;
  churnMoment?: ChurnMoment;
  split?: SplitOptions;
  /** explicit snapshot dates (e.g. the simulator's month ends); otherwise month starts */
  dates?: number[];
  onSnapshot?: (snapshot: Snapshot, index: number, total: number) => void;
}

/** Snapshots up to `asOf`, labelled, split by time, as the trainer takes them. */
export async function buildTrainingSet(database: Database, options: TrainingSetOptions = {}): Promise<TrainingSet> {
  const horizonDays = options.horizonDays ?? DEFAULT_HORIZON_DAYS;
  const window = await dataWindow(database, options.accounts);
  if (!window) throw new InsufficientDataError('no billing data: ingest Stripe events first (`churn ingest` or `churn backfill`)');
  const until = Math.min(options.asOf ?? window.end, window.end);
  const dates = (options.dates ?? snapshotDates({ until, dataStart: window.start, horizonDays, maxSnapshots: options.maxSnapshots }))
    .filter((t) => t + horizonDays * DAY_SECONDS <= until)
    .sort((a, b) => a - b);
  const snapshots: Snapshot[] = [];
  for (const t of dates) {
    const s = await buildSnapshot(database, t, { horizonDays, accounts: options.accounts, churnMoment: options.churnMoment });
    snapshots.push(s);
    options.onSnapshot?.(s, snapshots.length, dates.length);
  }
  const split = splitByTime(
    snapshots.filter((s) => s.x.rows > 0),
    { horizonDays, ...options.split },
  );
  // The vocabulary comes from the training months only, so the held-out months cannot shape it.
  const priceNames = new Map(split.train.flatMap((s) => [...s.priceNames]));
  const trainCatalogues = split.train.flatMap((s) => s.catalogues);
  const ids = [...new Set(trainCatalogues.flatMap((c) => c.products))];
  const vocabulary = learnVocabulary(trainCatalogues, { prices: priceNames, products: await productNames(database, ids) });
  const names = FEATURES.map((f) => f.name);
  for (const s of snapshots) applyVocabulary(s.x, s.catalogues, vocabulary, names);
  return {
    featureSet: featureSet(),
    vocabulary,
    horizonDays,
    dates,
    snapshots,
    split,
    train: toLabelledData(split.train),
    valid: toLabelledData(split.valid),
    calib: toLabelledData(split.calib),
    test: toLabelledData(split.test),
  };
}
