import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { errorMessage } from '../../lib/errors.js';
import type { UnixSeconds } from '../../lib/clock.js';
import { logger } from '../../lib/logger.js';

/** Why a delivery was refused: the error code it was answered with. */
export type RejectionReason = 'INVALID_SIGNATURE' | 'MALFORMED_JSON' | 'VALIDATION_FAILED' | 'PAYLOAD_TOO_LARGE';
export const REJECTION_REASONS: readonly RejectionReason[] = ['INVALID_SIGNATURE', 'MALFORMED_JSON', 'VALIDATION_FAILED', 'PAYLOAD_TOO_LARGE'];

export function isRejectionReason(code: string): code is RejectionReason {
  return (REJECTION_REASONS as readonly string[]).includes(code);
}

/**
 * Persists webhook rejections as per-minute counts (webhook_rejections), off the delivery's path:
 * `record` only adds to an in-memory tally and returns; the tally is written `flushAfterMs` after
 * the first rejection in it, with one upsert, one write at a time, so a flood of bad deliveries
 * costs about one statement a second per process, not one per delivery. A failed write is logged
 * and its counts dropped: counting must never fail, slow down or hold back a delivery, and a
 * database that is down already fails the deliveries themselves. A process that dies loses at
 * most the last `flushAfterMs` of counts.
 */
export class WebhookRejectionCounter {
  private pending = new Map<string, { minute: number; reason: RejectionReason; count: number }>();
  private draining: Promise<void> | null = null;
  private database: Database | null = null;

  constructor(private readonly flushAfterMs = 1000) {}

  record(database: Database, reason: RejectionReason, at: UnixSeconds): void {
    this.database = database;
    const minute = Math.floor(at / 60) * 60;
    const key = `${minute}:${reason}`;
    const entry = this.pending.get(key);
    if (entry) entry.count += 1;
    else this.pending.set(key, { minute, reason, count: 1 });
    this.draining ??= this.drain();
  }

  /** Resolves once everything recorded so far has been written (or dropped after a failed write). */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.size > 0 && this.database) {
        // let the rejections of the next moment join this write; the timer never keeps a process alive
        await new Promise<void>((resolve) => setTimeout(resolve, this.flushAfterMs).unref());
        const rows = [...this.pending.values()];
        this.pending = new Map();
        try {
          await addRejectionCounts(this.database, rows);
        } catch (err) {
          logger.warn({ error: errorMessage(err), dropped: rows.reduce((a, r) => a + r.count, 0) }, 'webhook rejections could not be counted');
        }
      }
    } finally {
      // in the same step as the last emptiness check, so a rejection recorded after it starts a new drain
      this.draining = null;
    }
  }
}

/** Adds counts to their (minute, reason) rows, creating them as needed. */
export async function addRejectionCounts(database: Database, rows: readonly { minute: number; reason: string; count: number }[]): Promise<void> {
  if (rows.length === 0) return;
  await database.query(sql`
    insert into webhook_rejections (minute, reason, count)
    values ${sql.join(rows.map((r) => sql`(${r.minute}, ${r.reason}, ${r.count})`), sql`, `)}
    on conflict (minute, reason) do update set count = webhook_rejections.count + excluded.count`);
}

/** Deletes the per-minute counts that started before `before` (unix seconds). */
export async function pruneWebhookRejections(database: Database, before: UnixSeconds): Promise<void> {
  await database.query(sql`delete from webhook_rejections where minute < ${before}`);
}
