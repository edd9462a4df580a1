import { sql } from 'drizzle-orm';
import { bigint, bigserial, boolean, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/**
 * Every Stripe event, stored exactly once, keyed by its Stripe id (globally unique across
 * accounts). `account` is the connected account id, or PLATFORM_ACCOUNT for the platform's own.
 * The payload is kept whole so projections can always be rebuilt from it.
 */
export const stripeEvents = pgTable(
  'stripe_events',
  {
    id: text('id').primaryKey(),
    account: text('account').notNull(),
    type: text('type').notNull(),
    created: bigint('created', { mode: 'number' }).notNull(),
    apiVersion: text('api_version'),
    livemode: boolean('livemode').notNull().default(false),
    objectId: text('object_id'),
    payload: jsonb('payload').notNull(),
    /** webhook | ingest | backfill | reconcile */
    source: text('source').notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
    processedAt: timestamp('processed_at', { withTimezone: true }),
    processingError: text('processing_error'),
    /** true when the type is not one the projector understands: stored, never projected */
    unhandled: boolean('unhandled').notNull().default(false),
  },
  (t) => [
    index('stripe_events_account_created_idx').on(t.account, t.created),
    index('stripe_events_unprocessed_idx').on(t.receivedAt).where(sql`${t.processedAt} is null`),
    // Only payment-method history is looked up by object (card details as of a date); a partial
    // index keeps every other insert from paying for it.
    index('stripe_events_pm_object_idx').on(t.account, t.objectId, t.created).where(sql`${t.type} like 'payment_method.%'`),
  ],
);

/**
 * Transactional outbox: written in the same transaction as the event, drained by the relay
 * to Inngest. A row leaves only when delivered; failures push `availableAt` into the future.
 */
export const outbox = pgTable(
  'outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    eventId: text('event_id').notNull(),
    topic: text('topic').notNull(),
    payload: jsonb('payload').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    availableAt: timestamp('available_at', { withTimezone: true }).notNull().defaultNow(),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
  },
  // No unique index on event_id: the only writers insert an outbox row in the same statement
  // that inserts the event (ON CONFLICT on stripe_events.id), so a duplicate cannot arise, and
  // every webhook would pay for maintaining it.
  (t) => [index('outbox_pending_idx').on(t.availableAt).where(sql`${t.deliveredAt} is null`)],
);

/** Resumable cursors for backfill and reconcile, one per (account, resource). */
export const syncCursors = pgTable(
  'sync_cursors',
  {
    account: text('account').notNull(),
    resource: text('resource').notNull(),
    cursor: text('cursor'),
    completedAt: timestamp('completed_at', { withTimezone: true }),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    itemsSeen: integer('items_seen').notNull().default(0),
  },
  (t) => [uniqueIndex('sync_cursors_pk').on(t.account, t.resource)],
);

/**
 * Webhook deliveries refused before anything was stored, counted per minute and reason (the error
 * code: INVALID_SIGNATURE, MALFORMED_JSON, VALIDATION_FAILED, PAYLOAD_TOO_LARGE). The Prometheus
 * counter dies with its process; these rows let the rejection-spike check see every process's
 * refusals across restarts. Rows older than the check's baseline are pruned by the check.
 */
export const webhookRejections = pgTable(
  'webhook_rejections',
  {
    /** unix seconds at the start of the minute */
    minute: bigint('minute', { mode: 'number' }).notNull(),
    reason: text('reason').notNull(),
    count: integer('count').notNull(),
  },
  (t) => [primaryKey({ columns: [t.minute, t.reason] })],
);
