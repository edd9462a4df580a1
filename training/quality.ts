/**
 * Model quality against the simulator's oracle, end to end:
 * simulate -> ingestEvents -> monthly snapshots (features + labels) -> time split -> trainCandidate
 * -> on the held-out (newest) snapshots: model AUC, logistic baseline AUC, the oracle's AUC (the
 * simulator's true 30-day churn probabilities for the same customers on the same dates), and the
 * model's expected calibration error.
 *
 *   npx tsx training/quality.ts --customers 20000 --months 18 --seed 42 [--world consumer] [--ablate]
 *
 * Both worlds and several seeds in one table: training/worlds.ts.
 *
 * For feature and model iterations, simulate once and keep the database (PostgreSQL), then train
 * on it again without simulating (the simulator's truth is saved in the file):
 *
 *   npx tsx training/quality.ts --customers 8000 --keep /tmp/world8k.json
 *   npx tsx training/quality.ts --reuse /tmp/world8k.json [--model-options '{"hidden":[32]}']
 *
 * Uses a fresh throwaway database on DATABASE_URL's server when --postgres is given (or
 * --database-url), an in-memory PGlite otherwise. Prints one JSON line last.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { openDatabase, type Database } from '../src/db/client.js';
import { isoDay } from '../src/lib/clock.js';
import { initBackend } from '../src/ml/backend.js';
import { buildTrainingSet, type TrainingSet } from '../src/ml/dataset.js';
import { averagePrecision, expectedCalibrationError, rocAuc } from '../src/ml/metrics.js';
import { ACCOUNT_STRUCTURE_FEATURES, FEATURES } from '../src/ml/features.js';
import type { LabelledData } from '../src/ml/types.js';
import { disposeCandidate, trainCandidate, type CandidateResult } from '../src/ml/candidate.js';
import type { ModelOptions } from '../src/ml/model.js';
import { scoreMatrix } from '../src/ml/predict.js';
import { freshPostgres, OracleTable, simulateConsumerIntoDatabase, simulateIntoDatabase } from './data.js';

export interface QualityResult {
  customers: number;
  months: number;
  seed: number;
  events: number;
  heldOutMonths: string[];
  heldOutRows: number;
  heldOutChurners: number;
  /** held-out rows the oracle has a probability for (all of them when definitions agree) */
  matchedRows: number;
  world: 'saas' | 'consumer';
  /** the family model selection chose (network, logistic, blend) */
  chosen: string;
  selectionReason: string;
  modelAuc: number;
  baselineAuc: number;
  oracleAuc: number;
  modelPrAuc: number;
  baselinePrAuc: number;
  oraclePrAuc: number;
  modelEce: number;
  baselineEce: number;
  oracleEce: number;
  /**
   * the visible oracle on the same rows: the world's true probability with its hidden terms left out
   * (what no Stripe record can show; NaN when the truth has none)
   */
  visibleAuc: number;
  visiblePrAuc: number;
  visibleEce: number;
  /** with --ablate: the served model trained on the same rows without the v4 catalogue and account-structure columns */
  withoutAccountStructure?: { chosen: string; modelAuc: number; modelPrAuc: number; baselineAuc: number };
  seconds: { simulateIngest: number; snapshots: number; training: number };
}

/** AUC and ECE of model, baseline and oracle on the same held-out rows (rows the oracle knows). */
export function compareWithOracle(trainingSet: TrainingSet, candidate: CandidateResult, oracle: OracleTable): Omit<QualityResult, 'customers' | 'months' | 'seed' | 'events' | 'seconds' | 'world'> {
  const test = trainingSet.test;
  const pOracle = oracle.forSnapshots(trainingSet.split.test);
  const pVisible = oracle.forSnapshots(trainingSet.split.test, 'visible');
  const pModel = scoreMatrix(candidate.model, test.x);
  const pBase = scoreMatrix(candidate.baseline, test.x);
  const idx: number[] = [];
  for (let i = 0; i < test.x.rows; i++) if (!Number.isNaN(pOracle[i]!)) idx.push(i);
  const pick = <T extends ArrayLike<number>>(a: T) => Float64Array.from(idx, (i) => a[i]!);
  const y = pick(test.y);
  const hasVisible = idx.length > 0 && idx.every((i) => !Number.isNaN(pVisible[i]!));
  return {
    heldOutMonths: trainingSet.split.test.map((s) => isoDay(s.asOf)),
    heldOutRows: test.x.rows,
    heldOutChurners: test.y.reduce((a, b) => a + b, 0),
    matchedRows: idx.length,
    chosen: candidate.selection.chosen,
    selectionReason: candidate.selection.reason,
    modelAuc: rocAuc(y, pick(pModel)),
    baselineAuc: rocAuc(y, pick(pBase)),
    oracleAuc: rocAuc(y, pick(pOracle)),
    modelPrAuc: averagePrecision(y, pick(pModel)),
    baselinePrAuc: averagePrecision(y, pick(pBase)),
    oraclePrAuc: averagePrecision(y, pick(pOracle)),
    modelEce: expectedCalibrationError(y, pick(pModel)),
    baselineEce: expectedCalibrationError(y, pick(pBase)),
    oracleEce: expectedCalibrationError(y, pick(pOracle)),
    visibleAuc: hasVisible ? rocAuc(y, pick(pVisible)) : Number.NaN,
    visiblePrAuc: hasVisible ? averagePrecision(y, pick(pVisible)) : Number.NaN,
    visibleEce: hasVisible ? expectedCalibrationError(y, pick(pVisible)) : Number.NaN,
  };
}

export interface QualityOptions {
  /** train on a database simulated before (with --keep) instead of simulating: its oracle and summary */
  reuse?: { oracle: OracleTable; events: number; end: number };
  /** called with the oracle and summary after simulating (to save them beside a kept database) */
  onSimulated?: (saved: { oracle: OracleTable; events: number; end: number }) => Promise<void>;
  customers: number;
  months: number;
  seed: number;
  /** saas: the first simulator (src/simulator/world); consumer: the streaming business (src/simulator/consumer) */
  world?: 'saas' | 'consumer';
  accounts?: number;
  modelOptions?: Partial<ModelOptions>;
  quiet?: boolean;
  /** also train without the v4 catalogue and account-structure columns, on the same rows */
  ablate?: boolean;
}

/** A copy of the data with the named columns held at 0 (no information; the rest unchanged). */
function withoutColumns(d: LabelledData, names: readonly string[]): LabelledData {
  const cols = names.map((n) => FEATURES.findIndex((f) => f.name === n));
  const data = d.x.data.slice();
  for (let r = 0; r < d.x.rows; r++) for (const c of cols) data[r * d.x.cols + c] = 0;
  return { ...d, x: { ...d.x, data } };
}

/** Simulates into `database`, trains, and compares with the oracle. */
export async function measureQuality(database: Database, options: QualityOptions): Promise<QualityResult> {
  await initBackend();
  const { summary, oracle, seconds: simulateIngest } = options.reuse
    ? { summary: { events: options.reuse.events, end: options.reuse.end }, oracle: options.reuse.oracle, seconds: 0 }
    : options.world === 'consumer'
      ? await simulateConsumerIntoDatabase(database, { customers: options.customers, months: options.months, seed: options.seed, quiet: options.quiet })
      : await simulateIntoDatabase(database, {
        customers: options.customers,
        months: options.months,
        seed: options.seed,
        accounts: options.accounts,
        quiet: options.quiet,
      });
  if (!options.reuse && options.onSimulated) await options.onSimulated({ oracle, events: summary.events, end: summary.end });
  const t0 = performance.now();
  const trainingSet = await buildTrainingSet(database, { horizonDays: 30, maxSnapshots: options.months });
  const t1 = performance.now();
  const candidate = await trainCandidate({
    train: trainingSet.train,
    valid: trainingSet.valid,
    calib: trainingSet.calib,
    test: trainingSet.test,
    featureSet: trainingSet.featureSet,
    seed: options.seed,
    now: new Date(summary.end * 1000),
    horizonDays: 30,
    vocabulary: trainingSet.vocabulary,
    options: options.modelOptions,
  });
  const t2 = performance.now();
  let withoutAccountStructure: QualityResult['withoutAccountStructure'];
  if (options.ablate) {
    const drop = (d: LabelledData) => withoutColumns(d, ACCOUNT_STRUCTURE_FEATURES);
    const ablated = await trainCandidate({
      train: drop(trainingSet.train),
      valid: drop(trainingSet.valid),
      calib: drop(trainingSet.calib),
      test: drop(trainingSet.test),
      featureSet: trainingSet.featureSet,
      seed: options.seed,
      now: new Date(summary.end * 1000),
      horizonDays: 30,
      options: options.modelOptions,
    });
    const cmp = compareWithOracle({ ...trainingSet, test: drop(trainingSet.test) }, ablated, oracle);
    withoutAccountStructure = { chosen: cmp.chosen, modelAuc: cmp.modelAuc, modelPrAuc: cmp.modelPrAuc, baselineAuc: cmp.baselineAuc };
    disposeCandidate(ablated);
  }
  const result: QualityResult = {
    world: options.world ?? 'saas',
    withoutAccountStructure,
    customers: options.customers,
    months: options.months,
    seed: options.seed,
    events: summary.events,
    ...compareWithOracle(trainingSet, candidate, oracle),
    seconds: { simulateIngest, snapshots: (t1 - t0) / 1000, training: (t2 - t1) / 1000 },
  };
  disposeCandidate(candidate);
  return result;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      customers: { type: 'string', default: '20000' },
      months: { type: 'string', default: '18' },
      seed: { type: 'string', default: '42' },
      accounts: { type: 'string', default: '0' },
      postgres: { type: 'boolean', default: false },
      'database-url': { type: 'string' },
      // --keep FILE: keep the simulated database and save its oracle to FILE;
      // --reuse FILE: skip simulation and train on the database FILE names (feature and model iterations)
      keep: { type: 'string' },
      // --model-options '{"hidden":[32],"l2":0.001}': override MLP_DEFAULTS for this run
      'model-options': { type: 'string' },
      reuse: { type: 'string' },
      // --world consumer: the streaming business (src/simulator/consumer) instead of the first simulator
      world: { type: 'string', default: 'saas' },
      // --ablate: also train without the v4 catalogue and account-structure columns (what they change)
      ablate: { type: 'boolean', default: false },
    },
  });
  if (values.world !== 'saas' && values.world !== 'consumer') throw new Error(`--world must be saas or consumer, got ${values.world}`);
  const serverUrl = values['database-url'] ?? (values.postgres || values.keep ? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' : undefined);
  let reuse: QualityOptions['reuse'];
  let database: Database;
  if (values.reuse) {
    const saved = JSON.parse(await readFile(values.reuse, 'utf8')) as { url: string; events: number; end: number; oracle: [string, number, number?][] };
    reuse = { oracle: OracleTable.fromEntries(saved.oracle), events: saved.events, end: saved.end };
    database = await openDatabase({ databaseUrl: saved.url });
  } else if (serverUrl) database = await freshPostgres(serverUrl, { keep: !!values.keep });
  else database = await openDatabase({ dataDir: ':memory:' });
  const keepFile = values.keep;
  const onSimulated: QualityOptions['onSimulated'] = keepFile
    ? async (s) => writeFile(keepFile, JSON.stringify({ url: (database as Database & { url: string }).url, events: s.events, end: s.end, oracle: s.oracle.entries() }))
    : undefined;
  try {
    const r = await measureQuality(database, {
      reuse,
      onSimulated,
      modelOptions: values['model-options'] ? (JSON.parse(values['model-options']) as Partial<ModelOptions>) : undefined,
      customers: Number(values.customers),
      months: Number(values.months),
      seed: Number(values.seed),
      accounts: Number(values.accounts),
      world: values.world,
      ablate: values.ablate,
    });
    const f = (v: number) => v.toFixed(4);
    process.stdout.write(
      [
        `world ${r.world}: ${r.customers} customers, ${r.months} months, seed ${r.seed}, ${r.events} events (${database.kind})`,
        `held-out snapshots ${r.heldOutMonths.join(', ')}: ${r.heldOutRows} customer-months, ${r.heldOutChurners} churners, ${r.matchedRows} with an oracle probability`,
        `served model (${r.chosen}) AUC ${f(r.modelAuc)}   PR-AUC ${f(r.modelPrAuc)}   ECE ${f(r.modelEce)}`,
        `logistic baseline AUC ${f(r.baselineAuc)}   PR-AUC ${f(r.baselinePrAuc)}   ECE ${f(r.baselineEce)}`,
        `oracle AUC   ${f(r.oracleAuc)}   PR-AUC ${f(r.oraclePrAuc)}   ECE ${f(r.oracleEce)}`,
        `visible oracle (hidden terms left out) AUC ${f(r.visibleAuc)}   PR-AUC ${f(r.visiblePrAuc)}   ECE ${f(r.visibleEce)}`,
        `selection: ${r.selectionReason}`,
        ...(r.withoutAccountStructure ? [`without the v4 catalogue/account-structure columns: served (${r.withoutAccountStructure.chosen}) AUC ${f(r.withoutAccountStructure.modelAuc)}, PR-AUC ${f(r.withoutAccountStructure.modelPrAuc)}, logistic AUC ${f(r.withoutAccountStructure.baselineAuc)}`] : []),
        `model - oracle AUC ${f(r.modelAuc - r.oracleAuc)}, model - visible oracle AUC ${f(r.modelAuc - r.visibleAuc)}; bar: >= oracle - 0.02 (or visible oracle - 0.02 where the world hides terms), >= baseline - 0.005, ECE < 0.03 -> ${(r.modelAuc >= r.oracleAuc - 0.02 || r.modelAuc >= r.visibleAuc - 0.02) && r.modelAuc >= r.baselineAuc - 0.005 && r.modelEce < 0.03 ? 'PASS' : 'FAIL'}`,
        `time: simulate+ingest ${r.seconds.simulateIngest.toFixed(1)} s, snapshots ${r.seconds.snapshots.toFixed(1)} s, training ${r.seconds.training.toFixed(1)} s`,
        JSON.stringify(r),
      ].join('\n') + '\n',
    );
  } finally {
    await database.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
