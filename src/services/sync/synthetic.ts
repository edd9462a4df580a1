import { createHash } from 'node:crypto';
import type { UnixSeconds } from '../../lib/clock.js';
import type { StripeEventEnvelope } from '../events/parse.js';

/** Ids of events made by backfill from fetched objects; never a real Stripe event id. */
export const SYNTHETIC_EVENT_PREFIX = 'evt_sync_';

/** The Stripe `object` kinds backfill fetches and turns into snapshot events. */
export type SyncedObjectKind = 'customer' | 'subscription' | 'invoice' | 'payment_method';

/** JSON with keys sorted at every level, so equal objects hash equally whatever the key order. */
function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.keys(value as Record<string, unknown>)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}

/**
 * The object as the API sent it. The SDK turns `*_decimal` fields into Decimal instances (with
 * a bigint inside); their toJSON gives back Stripe's decimal string, so one JSON round trip
 * restores the wire shape that webhooks carry and the projector reads.
 */
export function wireJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

export function objectHash(object: unknown): string {
  return createHash('sha256').update(canonicalJson(object)).digest('hex').slice(0, 16);
}

/**
 * The event type a fetched snapshot is filed under. It must be one the projector already
 * projects, with the lifecycle rank the same state would get from a real webhook:
 * `*.updated` for live objects, and `customer.subscription.deleted` for a subscription that has
 * ended (Stripe sends that event when a subscription is canceled), so the projection marks it
 * deleted exactly as the webhook path would. Payment methods use `payment_method.updated`:
 * `attached` would set attached_at to the fetch time, which is not when the card was attached.
 */
export function syntheticEventType(kind: SyncedObjectKind, object: Record<string, unknown>): string {
  switch (kind) {
    case 'customer':
      return object.deleted === true ? 'customer.deleted' : 'customer.updated';
    case 'subscription':
      return object.status === 'canceled' || object.status === 'incomplete_expired' ? 'customer.subscription.deleted' : 'customer.subscription.updated';
    case 'invoice':
      return 'invoice.updated';
    case 'payment_method':
      return 'payment_method.updated';
  }
}

/**
 * Wraps an object fetched from the Stripe API in an event envelope so it goes through the same
 * event store and order-safe projector as webhooks.
 *
 * - `created` is the fetch time. Projections order snapshots by (created, lifecycle rank, id),
 *   so the fetched state beats every event created before it was read (it already includes
 *   them) and loses to any webhook created after it (a later change), whatever order they
 *   arrive in. Within the fetch's own second the lifecycle rank decides, as for two webhooks.
 *   `fetchedAt` must be on the same clock as the account's events: the wall clock for Stripe,
 *   the sandbox's simulated clock for the local API.
 * - The id is `evt_sync_<object id>_<hash of the object>`: deterministic, so re-running a
 *   backfill over unchanged objects stores nothing new, while a changed object yields a new
 *   snapshot event. The hash covers the object only, not the fetch time.
 * - `churn_synthetic: 'backfill'` in the payload, and source 'backfill' on the stored row,
 *   mark it as made by us; reconcile ignores these when looking for the newest real event.
 */
export function syntheticSnapshotEvent(
  kind: SyncedObjectKind,
  object: Record<string, unknown> & { id: string },
  options: { account?: string; fetchedAt: UnixSeconds; apiVersion?: string | null },
): StripeEventEnvelope {
  object = wireJson(object);
  return {
    id: `${SYNTHETIC_EVENT_PREFIX}${object.id}_${objectHash(object)}`,
    object: 'event',
    type: syntheticEventType(kind, object),
    created: options.fetchedAt,
    api_version: options.apiVersion ?? null,
    livemode: object.livemode === true,
    ...(options.account ? { account: options.account } : {}),
    data: { object },
    pending_webhooks: 0,
    request: { id: null, idempotency_key: null },
    churn_synthetic: 'backfill',
  };
}
