import { and, asc, eq, inArray, isNull, lte, sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { outbox } from '../../db/schema/index.js';
import { errorMessage } from '../../lib/errors.js';
import { logger as rootLogger, type Logger } from '../../lib/logger.js';
import { DEFAULT_BACKOFF, retryDelaySeconds, type BackoffPolicy } from './backoff.js';

/** One outbox row as Inngest receives it. */
export interface OutboxEvent {
  /** the Stripe event id: Inngest de-duplicates on it, so a row sent twice runs once */
  id: string;
  name: string;
  data: Record<string, unknown>;
  /** milliseconds; the Stripe event's `created` */
  ts?: number;
}

/** `inngest.send` or anything with its signature for an array of events. */
export type SendEvents = (events: OutboxEvent[]) => Promise<unknown>;

export interface RelayOptions {
  send: SendEvents;
  /** unix seconds, fractional allowed: rows with available_at ≤ now are due */
  now?: () => number;
  batchSize?: number;
  backoff?: BackoffPolicy;
  /** jitter source in [0, 1) */
  random?: () => number;
  /** a send that has not answered by then counts as failed (the row is retried later) */
  sendTimeoutMs?: number;
  /** how long claimed rows are reserved for this relay (at least the send timeout + 30 s) */
  leaseSeconds?: number;
}

export interface RelayBatchResult {
  claimed: number;
  delivered: number;
  failed: number;
  error?: string;
}

const wallClock = () => Date.now() / 1000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`send timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Sends one batch of due outbox rows to Inngest.
 *
 * Claiming is a short transaction: due rows are locked with FOR UPDATE SKIP LOCKED (so
 * several relay workers each take rows the others have not) and leased by moving available_at
 * `leaseSeconds` ahead, then committed. The send happens outside any transaction, so a slow or
 * unreachable Inngest never holds locks or a connection (PGlite has only one). On success the
 * rows are marked delivered; on failure each row's attempts grow, the error is kept and
 * available_at moves ahead with capped exponential backoff. A row is never dropped: if the
 * process dies mid-send, the lease expires and another relay sends it again, and Inngest
 * de-duplicates by event id.
 */
export async function relayOutboxBatch(database: Database, options: RelayOptions): Promise<RelayBatchResult> {
  const now = (options.now ?? wallClock)();
  const batchSize = options.batchSize ?? 100;
  const random = options.random ?? Math.random;
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const sendTimeoutMs = options.sendTimeoutMs ?? 30_000;
  const leaseSeconds = Math.max(options.leaseSeconds ?? 0, sendTimeoutMs / 1000 + 30);
  const rows = await database.db.transaction(async (tx) => {
    const due = await tx
      .select({ id: outbox.id, eventId: outbox.eventId, topic: outbox.topic, payload: outbox.payload, attempts: outbox.attempts })
      .from(outbox)
      .where(and(isNull(outbox.deliveredAt), lte(outbox.availableAt, sql`to_timestamp(${now}::float8)`)))
      .orderBy(asc(outbox.availableAt), asc(outbox.id))
      .limit(batchSize)
      .for('update', { skipLocked: true });
    if (due.length > 0) {
      await tx
        .update(outbox)
        .set({ availableAt: sql`to_timestamp(${now + leaseSeconds}::float8)` })
        .where(inArray(outbox.id, due.map((r) => r.id)));
    }
    return due;
  });
  if (rows.length === 0) return { claimed: 0, delivered: 0, failed: 0 };
  const events: OutboxEvent[] = rows.map((r) => {
    const data = r.payload as Record<string, unknown>;
    const created = typeof data.created === 'number' ? data.created : undefined;
    return { id: r.eventId, name: r.topic, data, ...(created !== undefined ? { ts: created * 1000 } : {}) };
  });
  try {
    await withTimeout(options.send(events), sendTimeoutMs);
  } catch (err) {
    const message = errorMessage(err).slice(0, 2000);
    await database.db.transaction(async (tx) => {
      for (const r of rows) {
        const attempts = r.attempts + 1;
        const delay = retryDelaySeconds(attempts, random(), backoff);
        await tx
          .update(outbox)
          .set({ attempts, lastError: message, availableAt: sql`to_timestamp(${now + delay}::float8)` })
          .where(and(eq(outbox.id, r.id), isNull(outbox.deliveredAt)));
      }
    });
    return { claimed: rows.length, delivered: 0, failed: rows.length, error: message };
  }
  await database.db
    .update(outbox)
    .set({ deliveredAt: sql`to_timestamp(${now}::float8)`, attempts: sql`${outbox.attempts} + 1`, lastError: null })
    .where(and(inArray(outbox.id, rows.map((r) => r.id)), isNull(outbox.deliveredAt)));
  return { claimed: rows.length, delivered: rows.length, failed: 0 };
}

export interface RunRelayOptions extends RelayOptions {
  database: Database;
  signal?: AbortSignal;
  /** pause when nothing is due (or the database is unreachable), ms */
  idleMs?: number;
  logger?: Logger;
  /** after each non-empty batch (progress, metrics) */
  onBatch?: (result: RelayBatchResult) => void;
}

export interface RelayTotals {
  batches: number;
  delivered: number;
  failed: number;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * The relay loop of `churn serve` and `churn relay`: drains due rows batch after batch, rests
 * when nothing is due, and keeps going through Inngest or database outages until `signal` aborts.
 */
export async function runRelay(options: RunRelayOptions): Promise<RelayTotals> {
  const log = options.logger ?? rootLogger;
  const idleMs = options.idleMs ?? 1000;
  const totals: RelayTotals = { batches: 0, delivered: 0, failed: 0 };
  let lastError: string | undefined;
  while (!options.signal?.aborted) {
    let result: RelayBatchResult;
    try {
      result = await relayOutboxBatch(options.database, options);
    } catch (err) {
      log.error({ error: errorMessage(err) }, 'outbox relay could not claim rows');
      await sleep(idleMs, options.signal);
      continue;
    }
    if (result.claimed === 0) {
      await sleep(idleMs, options.signal);
      continue;
    }
    totals.batches += 1;
    totals.delivered += result.delivered;
    totals.failed += result.failed;
    if (result.error && result.error !== lastError) log.warn({ rows: result.failed, error: result.error }, 'outbox relay: Inngest did not accept a batch; will retry with backoff');
    lastError = result.error;
    options.onBatch?.(result);
  }
  return totals;
}

export interface OutboxBacklog {
  pending: number;
  due: number;
  delivered: number;
  oldestPendingSeconds: number | null;
}

/** How far behind the relay is (for /metrics and `churn doctor`). */
export async function outboxBacklog(database: Database, now: number = wallClock()): Promise<OutboxBacklog> {
  const rows = await database.query<{ pending: number; due: number; delivered: number; oldest: number | null }>(sql`
    select count(*) filter (where delivered_at is null)::int as pending,
           count(*) filter (where delivered_at is null and available_at <= to_timestamp(${now}::float8))::int as due,
           count(*) filter (where delivered_at is not null)::int as delivered,
           extract(epoch from min(created_at) filter (where delivered_at is null))::float8 as oldest
    from outbox`);
  const r = rows[0]!;
  return {
    pending: Number(r.pending),
    due: Number(r.due),
    delivered: Number(r.delivered),
    oldestPendingSeconds: r.oldest === null ? null : Math.max(0, now - Number(r.oldest)),
  };
}

/** A relay running in the background of `churn serve`; `stop()` ends it after the current batch. */
export function startRelay(options: Omit<RunRelayOptions, 'signal'>): { stop(): Promise<RelayTotals>; done: Promise<RelayTotals> } {
  const controller = new AbortController();
  const done = runRelay({ ...options, signal: controller.signal });
  return {
    done,
    stop() {
      controller.abort();
      return done;
    },
  };
}
