/**
 * Training data helpers shared by training/train.ts, training/quality.ts, the pipeline test and the
 * benchmark: simulate a Stripe account straight into a database (through the real ingestion path),
 * keep the simulator's true churn probabilities, and line them up with a snapshot's rows.
 *
 *   npx tsx training/data.ts --customers 2000 --months 12 --seed 7   # prints the snapshot table
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import type { Database } from '../src/db/client.js';
import { openDatabase } from '../src/db/client.js';
import { isoDay } from '../src/lib/clock.js';
import { createProgress } from '../src/lib/progress.js';
import type { Snapshot } from '../src/ml/dataset.js';
import { buildTrainingSet } from '../src/ml/dataset.js';
import { PLATFORM_ACCOUNT } from '../src/services/events/parse.js';
import { ingestEvents } from '../src/services/events/ingest.js';
import type { StripeEventEnvelope } from '../src/services/events/parse.js';
import { simulateConsumerToSink, type ConsumerWorldOptions } from '../src/simulator/consumer/world.js';
import { simulateToSink, type SimulationSummary, type TruthRecord, type WorldOptions } from '../src/simulator/world/index.js';

/**
 * True 30-day churn probability per (snapshot time, account, customer), from the simulator's truth
 * stream, and the visible oracle's (the same with the world's hidden terms left out) where the world
 * records one.
 */
export class OracleTable {
  private readonly p = new Map<string, number>();
  private readonly visible = new Map<string, number>();
  add(r: Pick<TruthRecord, 'account' | 'customer' | 'asOf' | 'p30'> & { p30Visible?: number }): void {
    const key = `${r.asOf}\u0001${r.account ?? PLATFORM_ACCOUNT}\u0001${r.customer}`;
    this.p.set(key, r.p30);
    if (r.p30Visible !== undefined) this.visible.set(key, r.p30Visible);
  }
  get size(): number {
    return this.p.size;
  }
  /** [key, p30, p30Visible?] rows, for saving beside a kept database (training/quality.ts --keep). */
  entries(): [string, number, number?][] {
    return [...this.p.entries()].map(([k, v]) => (this.visible.has(k) ? [k, v, this.visible.get(k)!] : [k, v]));
  }
  static fromEntries(entries: [string, number, number?][]): OracleTable {
    const t = new OracleTable();
    for (const [k, v, visible] of entries) {
      t.p.set(k, v);
      if (visible !== undefined && visible !== null) t.visible.set(k, visible);
    }
    return t;
  }
  probability(asOf: number, account: string, customerId: string, which: 'oracle' | 'visible' = 'oracle'): number | undefined {
    return (which === 'visible' ? this.visible : this.p).get(`${asOf}\u0001${account}\u0001${customerId}`);
  }
  /** The oracle's (or the visible oracle's) probability for each row of the snapshots (NaN where the truth has no record). */
  forSnapshots(snapshots: Snapshot[], which: 'oracle' | 'visible' = 'oracle'): Float32Array {
    const rows = snapshots.reduce((s, x) => s + x.x.rows, 0);
    const out = new Float32Array(rows);
    let r = 0;
    for (const s of snapshots) for (const k of s.keys) out[r++] = this.probability(s.asOf, k.account, k.customerId, which) ?? Number.NaN;
    return out;
  }
}

export interface SimulateIntoOptions extends WorldOptions {
  batchSize?: number;
  quiet?: boolean;
}

/**
 * Runs the synthetic world and ingests every event it emits with ingestEvents (store + project),
 * in batches, so the projections are exactly what `churn ingest` would build from the same file.
 */
export async function simulateIntoDatabase(database: Database, options: SimulateIntoOptions): Promise<{ summary: SimulationSummary; oracle: OracleTable; seconds: number }> {
  return ingestWorld(database, 'simulate+ingest (months)', options, (events, truth, hooks) => simulateToSink(options, events, truth, hooks));
}

/**
 * The consumer world (src/simulator/consumer) into `database` through the same ingestEvents path,
 * with its truth: the second business the model is judged on.
 */
export async function simulateConsumerIntoDatabase(
  database: Database,
  options: ConsumerWorldOptions & { batchSize?: number; quiet?: boolean },
): Promise<{ summary: { events: number; end: number }; oracle: OracleTable; seconds: number }> {
  return ingestWorld(database, 'simulate+ingest consumer world (months)', options, (events, truth, hooks) => simulateConsumerToSink(options, events, truth, hooks));
}

type EventSink = { write: (event: unknown) => Promise<void> };
type TruthSink = { write: (r: Pick<TruthRecord, 'account' | 'customer' | 'asOf' | 'p30' | 'p30Visible'>) => void };

/** Runs one world generator into `database` through ingestEvents in batches, collecting its truth. */
async function ingestWorld<S>(
  database: Database,
  label: string,
  options: { months: number; batchSize?: number; quiet?: boolean },
  run: (events: EventSink, truth: TruthSink, hooks: { onMonth: () => void }) => Promise<S>,
): Promise<{ summary: S; oracle: OracleTable; seconds: number }> {
  const started = performance.now();
  const oracle = new OracleTable();
  const batchSize = options.batchSize ?? 2000;
  let batch: StripeEventEnvelope[] = [];
  const progress = createProgress(label, options.months, { quiet: options.quiet });
  const flush = async () => {
    if (batch.length === 0) return;
    const current = batch;
    batch = [];
    await ingestEvents(database, current, { source: 'ingest', batchSize });
  };
  const summary = await run(
    {
      write: async (event) => {
        batch.push(event as StripeEventEnvelope);
        if (batch.length >= batchSize) await flush();
      },
    },
    { write: (r) => oracle.add(r) },
    { onMonth: () => progress.tick() },
  );
  await flush();
  progress.stop();
  return { summary, oracle, seconds: (performance.now() - started) / 1000 };
}

/** A new, migrated database on the server at `url`, dropped again on close unless `keep` (then `url` names it). */
export async function freshPostgres(url: string, options: { keep?: boolean } = {}): Promise<Database & { url: string }> {
  const name = `churn_train_${randomBytes(5).toString('hex')}`;
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const u = new URL(url);
  u.pathname = `/${name}`;
  const database = await openDatabase({ databaseUrl: u.toString() });
  const close = database.close;
  if (options.keep) return { ...database, url: u.toString() };
  return {
    ...database,
    url: u.toString(),
    close: async () => {
      await close();
      const a = postgres(url, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists ${name} with (force)`).catch(() => {});
      await a.end();
    },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      customers: { type: 'string', default: '2000' },
      months: { type: 'string', default: '12' },
      seed: { type: 'string', default: '7' },
      accounts: { type: 'string', default: '0' },
      postgres: { type: 'boolean', default: false },
    },
  });
  const database = values.postgres ? await freshPostgres(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres') : await openDatabase({ dataDir: ':memory:' });
  try {
    const { summary, seconds } = await simulateIntoDatabase(database, {
      customers: Number(values.customers),
      months: Number(values.months),
      seed: Number(values.seed),
      accounts: Number(values.accounts),
    });
    process.stdout.write(`simulated and ingested ${summary.events} events in ${seconds.toFixed(1)} s\n`);
    const t0 = performance.now();
    const set = await buildTrainingSet(database, { horizonDays: 30 });
    process.stdout.write(`built ${set.snapshots.length} snapshots in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    for (const s of set.snapshots) {
      const part = (['train', 'valid', 'calib', 'test'] as const).find((p) => set.split[p].includes(s)) ?? '-';
      process.stdout.write(`${isoDay(s.asOf)}  ${part.padEnd(5)}  customers ${String(s.x.rows).padStart(7)}  churners ${String(s.positives).padStart(6)}  rate ${(s.positives / Math.max(1, s.x.rows)).toFixed(4)}\n`);
    }
  } finally {
    await database.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
