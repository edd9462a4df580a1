import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { TruthRecord } from './hazard.js';
import { MonthlyChurn, OracleCheck } from './oracle.js';
import { createJsonlEventSink, createJsonlTruthSink } from './sinks.js';
import { PINNED_API_VERSION } from './shapes.js';
import { DEFAULT_START, type MonthStats, type PackedMonth, type WorldOptions } from './world.js';
import { simulateToSink, type SimulationSummary } from './index.js';

export interface FileSimulationOptions extends WorldOptions {
  /** events JSONL path */
  out: string;
  /** truth JSONL path */
  truth?: string;
  /** worker threads (default: available cores, at most 4); 1 simulates in this thread */
  workers?: number;
  onMonth?(stats: MonthStats): void;
}

interface MonthReply {
  type: 'month';
  packed: PackedMonth;
  stats: MonthStats;
  truth: { indices: Int32Array; records: TruthRecord[] } | null;
  truthCount: number;
}

interface FinishReply {
  type: 'finish';
  positives: Float64Array;
  negatives: Float64Array;
  totals: { events: number; signups: number; voluntary: number; involuntary: number };
  end: number;
}

/**
 * The project runs TypeScript through tsx, whose loader a worker thread does not inherit on
 * Node 20; the worker registers it itself before importing the shard module.
 */
function workerBootstrap(): string {
  const shardModule = new URL('./shard-worker.ts', import.meta.url).href;
  const tsxPackage = createRequire(import.meta.url).resolve('tsx/package.json');
  const tsxApi = pathToFileURL(join(dirname(tsxPackage), 'dist', 'esm', 'api', 'index.mjs')).href;
  return `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(shardModule)}); });`;
}

/** A worker that answers one request at a time, in order. */
class ShardWorker {
  private readonly worker: Worker;
  private waiting: { resolve: (v: unknown) => void; reject: (e: unknown) => void }[] = [];
  private failure: unknown = null;

  constructor(options: WorldOptions, withTruth: boolean) {
    this.worker = new Worker(workerBootstrap(), { eval: true, workerData: { options, withTruth } });
    this.worker.on('message', (m) => this.waiting.shift()?.resolve(m));
    const fail = (err: unknown) => {
      this.failure = err;
      for (const w of this.waiting.splice(0)) w.reject(err);
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => {
      if (code !== 0) fail(new Error(`world shard worker exited with code ${code}`));
    });
  }

  request<T>(type: 'month' | 'finish'): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ type });
    });
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

/**
 * Simulates a world straight to a JSONL file, using worker threads for shards of the customers
 * while this thread merges their sorted months (by created, then customer index: exactly the
 * single-threaded order, so the bytes do not depend on the number of workers) and writes them.
 * Workers run one month ahead of the writer.
 */
export async function simulateToFile(options: FileSimulationOptions): Promise<SimulationSummary & { bytes: number }> {
  const workers = Math.max(1, Math.min(options.workers ?? Math.min(4, availableParallelism()), 16, Math.max(1, options.customers)));
  const events = createJsonlEventSink(options.out);
  const truth = options.truth ? createJsonlTruthSink(options.truth) : undefined;
  const { out: _out, truth: _truth, workers: _workers, onMonth, ...worldOptions } = options;
  try {
    if (workers === 1) {
      const summary = await simulateToSink(worldOptions, events, truth, { onMonth });
      await events.close();
      await truth?.close();
      return { ...summary, bytes: events.bytes };
    }
    const shards = Array.from({ length: workers }, (_, index) => new ShardWorker({ ...worldOptions, shard: { index, count: workers } }, truth !== undefined));
    try {
      const oracle = new OracleCheck();
      const churn = new MonthlyChurn();
      let truthRecords = 0;
      const requestMonth = () => Promise.all(shards.map((s) => s.request<MonthReply>('month')));
      let next = requestMonth();
      for (let month = 0; month < options.months; month++) {
        const replies = await next;
        if (month + 1 < options.months) next = requestMonth();
        await mergeMonth(replies.map((r) => r.packed), (line) => events.writeSerialized!(line));
        const stats = sumStats(replies.map((r) => r.stats));
        churn.add(stats.churned, stats.liveAtStart);
        truthRecords += replies.reduce((n, r) => n + r.truthCount, 0);
        if (truth) await mergeTruth(replies.map((r) => r.truth!), (record) => truth.write(record));
        onMonth?.(stats);
      }
      const finals = await Promise.all(shards.map((s) => s.request<FinishReply>('finish')));
      for (const f of finals) oracle.merge(f.positives, f.negatives);
      await events.close();
      await truth?.close();
      const total = (k: keyof FinishReply['totals']) => finals.reduce((n, f) => n + f.totals[k], 0);
      return {
        customers: options.customers,
        months: options.months,
        accounts: options.accounts ?? 0,
        apiVersion: options.apiVersion ?? PINNED_API_VERSION,
        seed: options.seed >>> 0,
        start: options.start ?? DEFAULT_START,
        end: finals[0]!.end,
        events: total('events'),
        signups: total('signups'),
        voluntaryChurn: total('voluntary'),
        involuntaryChurn: total('involuntary'),
        meanMonthlyChurn: churn.mean(),
        truthRecords,
        oracleAuc: oracle.auc(),
        bytes: events.bytes,
      };
    } finally {
      await Promise.all(shards.map((s) => s.terminate()));
    }
  } catch (err) {
    await events.close().catch(() => undefined);
    await truth?.close().catch(() => undefined);
    throw err;
  }
}

function sumStats(all: MonthStats[]): MonthStats {
  const first = all[0]!;
  const sum = (k: 'events' | 'liveAtStart' | 'churned' | 'voluntary' | 'involuntary') => all.reduce((n, s) => n + s[k], 0);
  return { month: first.month, start: first.start, end: first.end, events: sum('events'), liveAtStart: sum('liveAtStart'), churned: sum('churned'), voluntary: sum('voluntary'), involuntary: sum('involuntary') };
}

/** K-way merge of sorted shard months by (created, customer index). */
async function mergeMonth(months: PackedMonth[], write: (line: Uint8Array) => void | Promise<void>): Promise<void> {
  const positions = months.map(() => 0);
  const bytes = months.map((m) => new Uint8Array(m.arena, m.arenaOffset));
  for (;;) {
    let best = -1;
    let bestCreated = 0;
    let bestOwner = 0;
    for (let k = 0; k < months.length; k++) {
      const m = months[k]!;
      const pos = positions[k]!;
      if (pos >= m.order.length) continue;
      const i = m.order[pos]!;
      const created = m.created[i]!;
      const owner = m.owners[i]!;
      if (best < 0 || created < bestCreated || (created === bestCreated && owner < bestOwner)) {
        best = k;
        bestCreated = created;
        bestOwner = owner;
      }
    }
    if (best < 0) return;
    const m = months[best]!;
    const i = m.order[positions[best]!]!;
    positions[best]!++;
    // one shard's run of events for the same customer and second stays together (emission order)
    const r = write(bytes[best]!.subarray(m.offsets[i]!, m.offsets[i + 1]!));
    if (r) await r;
  }
}

async function mergeTruth(parts: { indices: Int32Array; records: TruthRecord[] }[], write: (record: TruthRecord) => void | Promise<void>): Promise<void> {
  const positions = parts.map(() => 0);
  for (;;) {
    let best = -1;
    for (let k = 0; k < parts.length; k++) {
      if (positions[k]! >= parts[k]!.indices.length) continue;
      if (best < 0 || parts[k]!.indices[positions[k]!]! < parts[best]!.indices[positions[best]!]!) best = k;
    }
    if (best < 0) return;
    const r = write(parts[best]!.records[positions[best]!++]!);
    if (r) await r;
  }
}
