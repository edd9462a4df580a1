import { and, asc, eq, gt, inArray, isNull, or, sql } from 'drizzle-orm';
import type { Database, DbOrTx } from '../../db/client.js';
import { stripeEvents } from '../../db/schema/index.js';
import { errorMessage } from '../../lib/errors.js';
import { eventsProjected } from '../../lib/metrics.js';
import { PROJECTION_TABLES, projectEvents } from '../projections/apply.js';
import type { StripeEventEnvelope } from './parse.js';
import { storeEvents, type EventSource } from './store.js';

export interface IngestSummary {
  stored: number;
  duplicates: number;
}

/**
 * Stores events exactly once and projects the new ones, batch by batch; each batch is one
 * transaction, so a crash leaves whole batches, never half of one.
 */
export async function ingestEvents(
  database: Database,
  events: Iterable<StripeEventEnvelope> | AsyncIterable<StripeEventEnvelope>,
  options: { source: EventSource; batchSize?: number; onBatch?: (summary: IngestSummary) => void },
): Promise<IngestSummary> {
  const batchSize = options.batchSize ?? 1000;
  const total: IngestSummary = { stored: 0, duplicates: 0 };
  let batch: StripeEventEnvelope[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const current = batch;
    batch = [];
    const r = await database.db.transaction(async (tx) => {
      const stored = await storeEvents(tx, current, options.source);
      const fresh = new Set(stored.inserted);
      const toProject = current.filter((e) => fresh.has(e.id));
      await projectEvents(tx, toProject);
      if (stored.inserted.length)
        await tx.update(stripeEvents).set({ processedAt: sql`now()` }).where(inArray(stripeEvents.id, stored.inserted));
      return stored;
    });
    total.stored += r.inserted.length;
    total.duplicates += r.duplicates.length;
    options.onBatch?.({ stored: r.inserted.length, duplicates: r.duplicates.length });
  };
  for await (const event of events as AsyncIterable<StripeEventEnvelope>) {
    batch.push(event);
    if (batch.length >= batchSize) await flush();
  }
  await flush();
  return total;
}

/**
 * Projects events stored but not yet processed (the webhook path stores first and answers;
 * this catches up). Rows are claimed with FOR UPDATE SKIP LOCKED so several workers can run.
 * An event whose projection throws is marked with the error and skipped, never lost: it
 * stays in the store for `churn rebuild` after a fix.
 */
export async function projectPendingEvents(database: Database, options: { limit?: number } = {}): Promise<number> {
  const limit = options.limit ?? 500;
  return database.db.transaction(async (tx) => {
    const rows = await tx
      .select({ id: stripeEvents.id, payload: stripeEvents.payload })
      .from(stripeEvents)
      .where(isNull(stripeEvents.processedAt))
      .orderBy(asc(stripeEvents.receivedAt))
      .limit(limit)
      .for('update', { skipLocked: true });
    if (rows.length === 0) return 0;
    const events = rows.map((r) => r.payload as StripeEventEnvelope);
    try {
      await tx.transaction(async (sp) => projectEvents(sp, events));
      await tx.update(stripeEvents).set({ processedAt: sql`now()`, processingError: null }).where(inArray(stripeEvents.id, rows.map((r) => r.id)));
      eventsProjected.inc(rows.length);
    } catch {
      // Find the culprit(s) one by one so good events still project.
      for (const event of events) {
        try {
          await tx.transaction(async (sp) => projectEvents(sp, [event]));
          await tx.update(stripeEvents).set({ processedAt: sql`now()`, processingError: null }).where(eq(stripeEvents.id, event.id));
        } catch (err) {
          await tx.update(stripeEvents).set({ processedAt: sql`now()`, processingError: errorMessage(err).slice(0, 2000) }).where(eq(stripeEvents.id, event.id));
        }
      }
    }
    return rows.length;
  });
}

/**
 * Empties every projection and replays the whole event store in (created, id) order inside
 * one transaction: readers see the old projections until the new ones are complete.
 */
export async function rebuildProjections(database: Database, options: { batchSize?: number; onBatch?: (n: number) => void } = {}): Promise<number> {
  const batchSize = options.batchSize ?? 2000;
  return database.db.transaction(async (tx) => {
    await tx.execute(sql.raw(`truncate ${PROJECTION_TABLES.join(', ')}`));
    let after: { created: number; id: string } | null = null;
    let total = 0;
    for (;;) {
      const rows: { id: string; created: number; payload: unknown }[] = await tx
        .select({ id: stripeEvents.id, created: stripeEvents.created, payload: stripeEvents.payload })
        .from(stripeEvents)
        .where(after ? or(gt(stripeEvents.created, after.created), and(eq(stripeEvents.created, after.created), gt(stripeEvents.id, after.id))) : undefined)
        .orderBy(asc(stripeEvents.created), asc(stripeEvents.id))
        .limit(batchSize);
      if (rows.length === 0) break;
      await projectEvents(tx, rows.map((r) => r.payload as StripeEventEnvelope));
      total += rows.length;
      options.onBatch?.(rows.length);
      const last = rows[rows.length - 1]!;
      after = { created: last.created, id: last.id };
    }
    await tx.update(stripeEvents).set({ processedAt: sql`now()`, processingError: null }).where(isNull(stripeEvents.processedAt));
    return total;
  });
}

export type { DbOrTx };
