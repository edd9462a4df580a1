import { and, asc, eq, gt, inArray, isNull, or, sql } from 'drizzle-orm';
import type { Database, DbOrTx } from '../../db/client.js';
import { stripeEvents } from '../../db/schema/index.js';
import { errorMessage } from '../../lib/errors.js';
import { countPaymentDeclines, eventsProjected, observeProcessingLag } from '../../lib/metrics.js';
import { inSpan } from '../../lib/tracing.js';
import { PROJECTION_TABLES, projectEvents } from '../projections/apply.js';
import type { StripeEventEnvelope } from './parse.js';
import { storeEvents, type EventSource } from './store.js';

export interface IngestSummary {
  stored: number;
  /** already in the store before this call */
  duplicates: number;
  /** with `countRepeats`: copies of an id seen earlier in the same input (the first copy counts once) */
  repeated?: number;
}

/**
 * Stores events exactly once and projects the new ones, batch by batch; each batch is one
 * transaction, so a crash leaves whole batches, never half of one.
 *
 * With `countRepeats`, an id that occurs twice in the input is counted as `repeated` rather than
 * lost in `duplicates` (a file with a repeated line is not the same as a file ingested twice).
 * Inside a batch that is exact; across batches a duplicate is "repeated" when its stored row was
 * written by this call's source since the call began (database time), so no set of every id seen
 * has to be held in memory for a file of millions of events.
 */
export async function ingestEvents(
  database: Database,
  events: Iterable<StripeEventEnvelope> | AsyncIterable<StripeEventEnvelope>,
  options: { source: EventSource; batchSize?: number; countRepeats?: boolean; onBatch?: (summary: IngestSummary) => void },
): Promise<IngestSummary> {
  const batchSize = options.batchSize ?? 1000;
  const total: IngestSummary = options.countRepeats ? { stored: 0, duplicates: 0, repeated: 0 } : { stored: 0, duplicates: 0 };
  let startedAt: string | null = null;
  if (options.countRepeats) {
    const [row] = await database.query<{ t: string }>(sql`select now()::text as t`);
    startedAt = row!.t;
  }
  let batch: StripeEventEnvelope[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const current = batch;
    batch = [];
    const r = await database.db.transaction(async (tx) => {
      // stored already marked processed: they are projected below, in this transaction
      const stored = await storeEvents(tx, current, options.source, { projectedInThisTransaction: true });
      const fresh = new Set(stored.inserted);
      // storeEvents keeps the first copy of an id; project each new event once.
      const seen = new Set<string>();
      const toProject = current.filter((e) => fresh.has(e.id) && !seen.has(e.id) && seen.add(e.id));
      await projectEvents(tx, toProject);
      let repeatedEarlier: string[] = [];
      if (startedAt !== null && stored.duplicates.length > 0) {
        const rows = await tx
          .select({ id: stripeEvents.id })
          .from(stripeEvents)
          .where(and(inArray(stripeEvents.id, stored.duplicates), eq(stripeEvents.source, options.source), sql`${stripeEvents.receivedAt} >= ${startedAt}::timestamptz`));
        repeatedEarlier = rows.map((row) => row.id);
      }
      return { ...stored, toProject, repeatedInBatch: current.length - stored.inserted.length - stored.duplicates.length, repeatedEarlier };
    });
    countPaymentDeclines(r.toProject);
    const repeated = r.repeatedInBatch + r.repeatedEarlier.length;
    const summary: IngestSummary = { stored: r.inserted.length, duplicates: r.duplicates.length - r.repeatedEarlier.length };
    if (total.repeated !== undefined) summary.repeated = repeated;
    total.stored += summary.stored;
    total.duplicates += summary.duplicates;
    if (total.repeated !== undefined) total.repeated += repeated;
    options.onBatch?.(summary);
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
  let projected: StripeEventEnvelope[] = [];
  const claimed = await database.db.transaction(async (tx) => {
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
      await inSpan('project events', { 'churn.events': events.length }, () => tx.transaction(async (sp) => projectEvents(sp, events)));
      await tx.update(stripeEvents).set({ processedAt: sql`now()`, processingError: null }).where(inArray(stripeEvents.id, rows.map((r) => r.id)));
      eventsProjected.inc(rows.length);
      projected = events;
    } catch {
      // Find the culprit(s) one by one so good events still project.
      for (const event of events) {
        try {
          await tx.transaction(async (sp) => projectEvents(sp, [event]));
          await tx.update(stripeEvents).set({ processedAt: sql`now()`, processingError: null }).where(eq(stripeEvents.id, event.id));
          projected.push(event);
        } catch (err) {
          await tx.update(stripeEvents).set({ processedAt: sql`now()`, processingError: errorMessage(err).slice(0, 2000) }).where(eq(stripeEvents.id, event.id));
        }
      }
    }
    return rows.length;
  });
  // Counted once the transaction has committed, so a rolled-back batch is never counted.
  countPaymentDeclines(projected);
  observeProcessingLag(projected, Date.now() / 1000);
  return claimed;
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
