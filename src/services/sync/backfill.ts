import { and, asc, eq, like, sql } from 'drizzle-orm';
import type Stripe from 'stripe';
import type { Database } from '../../db/client.js';
import { customers, syncCursors } from '../../db/schema/index.js';
import { DAY, type UnixSeconds } from '../../lib/clock.js';
import { ingestEvents } from '../events/ingest.js';
import { PLATFORM_ACCOUNT, asStripeEvent, type StripeEventEnvelope } from '../events/parse.js';
import { rebuildAccountHistory } from './history.js';
import { syntheticSnapshotEvent, wireJson, type SyncedObjectKind } from './synthetic.js';

/**
 * What backfill does, in this order; each has its own resumable cursor. `history` reads no API: it
 * rebuilds dated history from what the other resources stored (history.ts), after the events so it
 * knows where real events begin.
 */
export const BACKFILL_RESOURCES = [
  'customers',
  'subscriptions',
  'invoices',
  'charges',
  'refunds',
  'disputes',
  'payment_intents',
  'credit_notes',
  'subscription_schedules',
  'payment_methods',
  'events',
  'history',
] as const;
export type BackfillResource = (typeof BACKFILL_RESOURCES)[number];

export interface BackfillOptions {
  database: Database;
  stripe: Stripe;
  /** connected account (acct_…): passed as `stripeAccount` on every call, stored under it */
  stripeAccount?: string;
  /** how many days of events to copy (Stripe keeps 30) */
  days?: number;
  /**
   * The fetch clock, on the same clock as the account's events (wall clock for Stripe, the
   * sandbox's simulated clock for the local API): the start of the events window, and the bound
   * past which an object's recorded times (a trial end, a scheduled cancellation) are future.
   */
  now: () => UnixSeconds;
  /**
   * forget stored cursors and copy everything again (unchanged objects still store nothing); the
   * cursors are forgotten only after the first Stripe call has succeeded
   */
  restart?: boolean;
  /** stops after the page in flight; the cursor keeps what was done */
  signal?: AbortSignal;
  /** items per API page (≤ 100, Stripe's page limit; default 100) */
  pageSize?: number;
  /**
   * items stored per transaction, after which the cursor is saved (default 1000, or `pageSize`
   * when that is given): larger batches store faster, a crash re-reads at most one batch. When a
   * batch spans several pages, a slow API never holds fetched items longer than a second: they are
   * stored then whatever the count.
   */
  storeEvery?: number;
  resources?: readonly BackfillResource[];
  onProgress?: (resource: BackfillResource, itemsInPage: number) => void;
  onResourceStart?: (resource: BackfillResource, state: { resumingAfter: string | null }) => void;
}

export interface ResourceSummary {
  /** already complete from an earlier run (and not --restart) */
  skipped: boolean;
  /** the cursor this run continued after, if it resumed */
  resumedAfter: string | null;
  seen: number;
  stored: number;
  duplicates: number;
  /** payment methods that came expanded on this resource's objects, stored as their own snapshots */
  paymentMethodsExpanded?: number;
}

export interface BackfillSummary {
  account: string;
  /** requests this run made to the Stripe API (every page, every retry) */
  apiCalls: number;
  resources: Partial<Record<BackfillResource, ResourceSummary>>;
}

export class BackfillInterrupted extends Error {
  constructor(readonly resource: BackfillResource, readonly cursor: string | null) {
    super(`backfill interrupted during ${resource}${cursor ? ` after ${cursor}` : ''}; run it again to resume`);
    this.name = 'BackfillInterrupted';
  }
}

const cursorKey = (resource: BackfillResource) => `backfill:${resource}`;

interface CursorState {
  cursor: string | null;
  completedAt: Date | null;
  itemsSeen: number;
}

async function readCursor(database: Database, account: string, resource: BackfillResource): Promise<CursorState | null> {
  const rows = await database.db
    .select({ cursor: syncCursors.cursor, completedAt: syncCursors.completedAt, itemsSeen: syncCursors.itemsSeen })
    .from(syncCursors)
    .where(and(eq(syncCursors.account, account), eq(syncCursors.resource, cursorKey(resource))));
  return rows[0] ?? null;
}

async function saveCursor(database: Database, account: string, resource: BackfillResource, cursor: string | null, seen: number, completed: boolean) {
  const values = { account, resource: cursorKey(resource), cursor, itemsSeen: seen, completedAt: completed ? sql`now()` : null, updatedAt: sql`now()` };
  await database.db
    .insert(syncCursors)
    .values(values)
    .onConflictDoUpdate({
      target: [syncCursors.account, syncCursors.resource],
      set: {
        cursor,
        itemsSeen: sql`${syncCursors.itemsSeen} + ${seen}`,
        completedAt: completed ? sql`now()` : null,
        updatedAt: sql`now()`,
      },
    });
}

/** Forgets this account's backfill cursors (for --restart). */
export async function resetBackfillCursors(database: Database, account: string): Promise<void> {
  await database.db.delete(syncCursors).where(and(eq(syncCursors.account, account), like(syncCursors.resource, 'backfill:%')));
}

export async function backfillCursors(database: Database, account: string) {
  return database.db
    .select()
    .from(syncCursors)
    .where(and(eq(syncCursors.account, account), like(syncCursors.resource, 'backfill:%')))
    .orderBy(asc(syncCursors.resource));
}

type Fetched = { id: string } & Record<string, unknown>;

/**
 * Copies an account's current state and recent history from the Stripe API into the event
 * store and projections: customers and subscriptions (status all; default payment methods and
 * discounts expanded), invoices, charges, refunds, disputes, payment intents, credit notes, subscription schedules, the payment methods of customers
 * for whom none came expanded, then the last `days` of events; finally it rebuilds the dated
 * history of the time before the oldest stored real event (history.ts).
 *
 * Objects become synthetic snapshot events (synthetic.ts), dated at the latest moment they
 * record, so they pass through the same order-safe projector as webhooks, ranked below every
 * real event; that is what makes a backfill safe while webhooks arrive. Real events keep their
 * Stripe ids, so ones the webhook already stored are duplicates and change nothing.
 *
 * Resumable: each resource is listed newest → oldest with the SDK's auto-pagination, and after
 * every stored batch (`storeEvery` items) its last id is saved in sync_cursors; a later run
 * continues with `starting_after` that id, and a completed resource is skipped unless `restart`.
 * A batch is stored before its cursor, so a crash in between re-reads one batch, which the
 * deterministic synthetic ids turn into no-ops. Objects created after a resource's walk began are newer than
 * its cursor and are not listed by this run; their webhooks (or the events resource, or
 * reconcile) bring them in.
 */
export async function backfillStripe(options: BackfillOptions): Promise<BackfillSummary> {
  const account = options.stripeAccount ?? PLATFORM_ACCOUNT;
  const pageSize = Math.min(Math.max(options.pageSize ?? 100, 1), 100);
  const storeEvery = Math.max(options.storeEvery ?? (options.pageSize ? pageSize : 1000), 1);
  const requestOptions: Stripe.RequestOptions | undefined = options.stripeAccount ? { stripeAccount: options.stripeAccount } : undefined;
  const apiVersion = (options.stripe as unknown as { getApiField?: (k: string) => unknown }).getApiField?.('version');
  // --restart forgets the stored cursors only once Stripe has answered a first call: a wrong key,
  // a wrong account or an outage must leave the previous progress as it was.
  let resetPending = options.restart === true;
  const resetOnceStripeAnswered = async () => {
    if (!resetPending) return;
    await resetBackfillCursors(options.database, account);
    resetPending = false;
  };
  const summary: BackfillSummary = { account, apiCalls: 0, resources: {} };
  const countCall = () => {
    summary.apiCalls += 1;
  };
  options.stripe.on('response', countCall);
  try {
    await runResources();
  } finally {
    options.stripe.off('response', countCall);
  }
  return summary;

  async function runResources() {
    const since = options.now() - (options.days ?? 30) * DAY;

    for (const resource of options.resources ?? BACKFILL_RESOURCES) {
      const state = resetPending ? null : await readCursor(options.database, account, resource);
      const result: ResourceSummary = { skipped: false, resumedAfter: state?.cursor ?? null, seen: 0, stored: 0, duplicates: 0 };
      summary.resources[resource] = result;
      if (state?.completedAt) {
        result.skipped = true;
        continue;
      }
      options.onResourceStart?.(resource, { resumingAfter: result.resumedAfter });
      let cursor = result.resumedAfter;
      let page: StripeEventEnvelope[] = [];
      let expanded: StripeEventEnvelope[] = [];
      // wall-clock pacing of stores only (progress survives a slow API); no domain time here
      let lastStored = performance.now();
      const storeDue = () => pageItems >= storeEvery || (storeEvery > pageSize && pageItems > 0 && performance.now() - lastStored >= MAX_HOLD_MS);
      let pageCursor: string | null = null;
      let pageItems = 0;
      let fetchedAt: UnixSeconds | null = null;

      const flush = async () => {
        if (pageItems === 0) return;
        await resetOnceStripeAnswered();
        if (expanded.length) {
          const e = await ingestEvents(options.database, expanded, { source: 'backfill', batchSize: 1000 });
          result.paymentMethodsExpanded = (result.paymentMethodsExpanded ?? 0) + e.stored + e.duplicates;
          expanded = [];
        }
        const r = await ingestEvents(options.database, page, { source: 'backfill', batchSize: 1000 });
        result.stored += r.stored;
        result.duplicates += r.duplicates;
        result.seen += pageItems;
        cursor = pageCursor;
        await saveCursor(options.database, account, resource, cursor, pageItems, false);
        options.onProgress?.(resource, pageItems);
        page = [];
        pageItems = 0;
        fetchedAt = null;
        lastStored = performance.now();
      };
      const checkSignal = () => {
        if (options.signal?.aborted) throw new BackfillInterrupted(resource, cursor);
      };
      const snapshot = (kind: SyncedObjectKind, object: Fetched) => {
        fetchedAt ??= options.now();
        return syntheticSnapshotEvent(kind, object, { account: options.stripeAccount, fetchedAt, apiVersion: typeof apiVersion === 'string' ? apiVersion : null });
      };

      const startingAfter = cursor ?? undefined;
      if (resource === 'history') {
        const history = await rebuildAccountHistory(options.database, {
          account,
          stripeAccount: options.stripeAccount,
          apiVersion: typeof apiVersion === 'string' ? apiVersion : null,
          after: startingAfter,
          signal: options.signal,
          onBatch: async (last, _sum, n) => {
            await saveCursor(options.database, account, resource, last, n, false);
            cursor = last;
            options.onProgress?.(resource, n);
          },
        });
        result.seen = history.subscriptions;
        result.stored = history.stored;
        result.duplicates = history.versions + history.failures + history.paymentMethods + history.discounts - history.stored;
      } else if (resource === 'payment_methods') {
        // Stripe lists payment methods per customer, one call each; only customers for whom the
        // customer and subscription lists brought no payment method (a default, expanded) need one.
        for (const customerId of await customersWithoutPaymentMethodAfter(options.database, account, startingAfter)) {
          checkSignal();
          for await (const pm of options.stripe.customers.listPaymentMethods(customerId, { limit: 100 }, requestOptions)) {
            page.push(snapshot('payment_method', pm as unknown as Fetched));
          }
          pageCursor = customerId;
          pageItems += 1;
          if (storeDue()) await flush();
        }
      } else {
        for await (const item of listResource(options.stripe, resource, { limit: pageSize, starting_after: startingAfter, since }, requestOptions)) {
          checkSignal();
          const object = item as Fetched;
          if (resource === 'events') {
            const event = asStripeEvent(wireJson(object));
            page.push(options.stripeAccount && !event.account ? { ...event, account: options.stripeAccount } : event);
          } else {
            // Payment methods expanded on the list come along at no extra call: stored as their own
            // snapshots, and the id put back where Stripe sends one by default.
            for (const pm of takeExpandedPaymentMethods(object)) expanded.push(snapshot('payment_method', pm));
            page.push(snapshot(KIND[resource], object));
          }
          pageCursor = object.id;
          pageItems += 1;
          if (storeDue()) await flush();
        }
      }
      await flush();
      checkSignal();
      await resetOnceStripeAnswered();
      await saveCursor(options.database, account, resource, cursor, 0, true);
    }
  }
}

/** Longest fetched items wait before they are stored (and their cursor saved). */
const MAX_HOLD_MS = 1000;

const KIND: Record<Exclude<BackfillResource, 'events' | 'payment_methods' | 'history'>, SyncedObjectKind> = {
  customers: 'customer',
  subscriptions: 'subscription',
  invoices: 'invoice',
  charges: 'charge',
  refunds: 'refund',
  disputes: 'dispute',
  payment_intents: 'payment_intent',
  credit_notes: 'credit_note',
  subscription_schedules: 'subscription_schedule',
};

function listResource(
  stripe: Stripe,
  resource: Exclude<BackfillResource, 'payment_methods' | 'history'>,
  params: { limit: number; starting_after?: string; since: UnixSeconds },
  requestOptions: Stripe.RequestOptions | undefined,
): AsyncIterable<unknown> {
  const page = { limit: params.limit, ...(params.starting_after ? { starting_after: params.starting_after } : {}) };
  switch (resource) {
    case 'customers':
      return stripe.customers.list({ ...page, expand: ['data.invoice_settings.default_payment_method'] }, requestOptions);
    case 'subscriptions':
      // discounts expanded: their start and end date the history's discounts
      return stripe.subscriptions.list({ ...page, status: 'all', expand: ['data.discounts', 'data.default_payment_method'] }, requestOptions);
    case 'invoices':
      return stripe.invoices.list(page, requestOptions);
    case 'charges':
      return stripe.charges.list(page, requestOptions);
    case 'refunds':
      return stripe.refunds.list(page, requestOptions);
    case 'disputes':
      return stripe.disputes.list(page, requestOptions);
    case 'payment_intents':
      return stripe.paymentIntents.list(page, requestOptions);
    case 'credit_notes':
      return stripe.creditNotes.list(page, requestOptions);
    case 'subscription_schedules':
      // every status: released, canceled and completed schedules date commitments of the past
      return stripe.subscriptionSchedules.list(page, requestOptions);
    case 'events':
      return stripe.events.list({ ...page, created: { gte: params.since } }, requestOptions);
  }
}

/**
 * The account's known customers after `after` that hold no payment method yet, by id (the
 * payment-method walk's order).
 */
async function customersWithoutPaymentMethodAfter(database: Database, account: string, after: string | undefined): Promise<string[]> {
  const rows = await database.db
    .select({ id: customers.id })
    .from(customers)
    .where(
      and(
        eq(customers.account, account),
        eq(customers.deleted, false),
        after ? sql`${customers.id} collate "C" > ${after}` : undefined,
        sql`not exists (select 1 from payment_methods pm where pm.account = ${customers.account} and pm.customer_id = ${customers.id})`,
      ),
    )
    .orderBy(sql`${customers.id} collate "C"`);
  return rows.map((r) => r.id);
}

/** Removes expanded payment methods from a fetched customer or subscription (leaving their ids) and returns them. */
function takeExpandedPaymentMethods(object: Fetched): Fetched[] {
  const found: Fetched[] = [];
  const take = (holder: Record<string, unknown> | null | undefined, field: string) => {
    const value = holder?.[field];
    if (holder && value && typeof value === 'object' && typeof (value as { id?: unknown }).id === 'string') {
      found.push(value as Fetched);
      holder[field] = (value as { id: string }).id;
    }
  };
  take(object.invoice_settings as Record<string, unknown> | undefined, 'default_payment_method');
  take(object, 'default_payment_method');
  return found;
}
