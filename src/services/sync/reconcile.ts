import { and, eq, max, notLike } from 'drizzle-orm';
import type Stripe from 'stripe';
import type { Database } from '../../db/client.js';
import { stripeEvents } from '../../db/schema/index.js';
import { DAY, type UnixSeconds } from '../../lib/clock.js';
import { ingestEvents } from '../events/ingest.js';
import { PLATFORM_ACCOUNT, asStripeEvent, type StripeEventEnvelope } from '../events/parse.js';
import { SYNTHETIC_EVENT_PREFIX, wireJson } from './synthetic.js';

export interface ReconcileOptions {
  database: Database;
  stripe: Stripe;
  /** connected account (acct_…); absent = the platform account */
  stripeAccount?: string;
  now: UnixSeconds;
  /**
   * How far before the newest stored event to look again. Webhooks are delivered in any
   * order and retried for days, so an event older than the newest one we hold may still be
   * missing; the overlap re-reads that stretch (duplicates are no-ops).
   */
  overlapSeconds?: number;
  /** where to start when nothing is stored for the account yet */
  initialDays?: number;
  signal?: AbortSignal;
  onProgress?: (seen: number) => void;
}

export interface ReconcileSummary {
  account: string;
  /** lower bound used for `created[gte]` */
  since: UnixSeconds;
  /** events listed by Stripe in the window */
  seen: number;
  /** events the webhook endpoint had missed, now stored */
  stored: number;
  duplicates: number;
}

export const DEFAULT_OVERLAP_SECONDS = 3600;

/**
 * Newest `created` among real Stripe events stored for an account. Backfill's synthetic
 * snapshot events are dated at fetch time and would hide a gap before them, so they are left out.
 */
export async function newestStoredEventCreated(database: Database, account: string): Promise<UnixSeconds | null> {
  const rows = await database.db
    .select({ newest: max(stripeEvents.created) })
    .from(stripeEvents)
    .where(and(eq(stripeEvents.account, account), notLike(stripeEvents.id, `${SYNTHETIC_EVENT_PREFIX}%`)));
  const newest = rows[0]?.newest;
  return newest === null || newest === undefined ? null : Number(newest);
}

/**
 * Stripe's recommended safety net for undelivered webhooks: list the account's events since
 * the newest one we hold (minus an overlap) and ingest whatever is missing, as source 'reconcile'.
 * Events already stored (by the webhook, a backfill or an earlier run) are duplicates and change nothing.
 */
export async function reconcileStripeEvents(options: ReconcileOptions): Promise<ReconcileSummary> {
  const account = options.stripeAccount ?? PLATFORM_ACCOUNT;
  const newest = await newestStoredEventCreated(options.database, account);
  const since =
    newest === null
      ? options.now - (options.initialDays ?? 30) * DAY
      : Math.max(0, newest - (options.overlapSeconds ?? DEFAULT_OVERLAP_SECONDS));
  const requestOptions = options.stripeAccount ? { stripeAccount: options.stripeAccount } : undefined;
  let seen = 0;
  const signal = options.signal;
  async function* listed(): AsyncGenerator<StripeEventEnvelope> {
    for await (const event of options.stripe.events.list({ created: { gte: since }, limit: 100 }, requestOptions)) {
      if (signal?.aborted) throw signal.reason ?? new Error('aborted');
      seen += 1;
      if (seen % 100 === 0) options.onProgress?.(seen);
      const envelope = asStripeEvent(wireJson(event));
      // A connected account's events carry `account`; make sure they are stored under it even
      // if an API (or a proxy in between) leaves it out.
      yield options.stripeAccount && !envelope.account ? { ...envelope, account: options.stripeAccount } : envelope;
    }
  }
  const result = await ingestEvents(options.database, listed(), { source: 'reconcile', batchSize: 500 });
  options.onProgress?.(seen);
  return { account, since, seen, stored: result.stored, duplicates: result.duplicates };
}

/** Accounts we hold events for: the platform plus every connected account seen. */
export async function knownAccounts(database: Database): Promise<string[]> {
  const rows = await database.db.selectDistinct({ account: stripeEvents.account }).from(stripeEvents);
  const accounts = new Set(rows.map((r) => r.account));
  accounts.add(PLATFORM_ACCOUNT);
  return [...accounts].sort();
}
