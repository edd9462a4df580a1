import { createHash } from 'node:crypto';
import type { UnixSeconds } from '../../lib/clock.js';
import type { StripeEventEnvelope } from '../events/parse.js';

/** Ids of events made by backfill from fetched objects; never a real Stripe event id. */
export const SYNTHETIC_EVENT_PREFIX = 'evt_sync_';

/** Whether an event was made by backfill (a real Stripe id is `evt_` and alphanumerics, no second underscore). */
export function isSyntheticEventId(id: string): boolean {
  return id.startsWith(SYNTHETIC_EVENT_PREFIX);
}

/** The Stripe `object` kinds backfill fetches and turns into snapshot events. */
export type SyncedObjectKind =
  | 'customer'
  | 'subscription'
  | 'invoice'
  | 'payment_method'
  | 'charge'
  | 'refund'
  | 'dispute'
  | 'payment_intent'
  | 'credit_note'
  | 'subscription_schedule';

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
    case 'charge':
      return 'charge.updated';
    case 'refund':
      return 'refund.updated';
    case 'dispute':
      return 'charge.dispute.updated';
    case 'payment_intent':
      // the event Stripe sent for the state the intent is in (a failed attempt leaves requires_payment_method)
      return object.status === 'succeeded'
        ? 'payment_intent.succeeded'
        : object.status === 'canceled'
          ? 'payment_intent.canceled'
          : object.last_payment_error
            ? 'payment_intent.payment_failed'
            : 'payment_intent.created';
    case 'credit_note':
      return object.status === 'void' ? 'credit_note.voided' : 'credit_note.updated';
    case 'subscription_schedule':
      return ['released', 'canceled', 'completed'].includes(String(object.status)) ? `subscription_schedule.${String(object.status)}` : 'subscription_schedule.updated';
  }
}

type Obj = Record<string, any>;

function times(...values: unknown[]): number[] {
  return values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0);
}

/**
 * The latest moment an object itself records about its own past, never after `notAfter` (the fetch
 * clock, used only to leave out times still in the future such as a trial end or a scheduled
 * cancellation). A snapshot dated here already includes every change it can prove; a change it
 * cannot date (an email edit, a seat change) is older than the last real event that carried it
 * only if that event is older than this moment, and real events copied from the window or sent
 * by webhook date such changes exactly.
 */
export function snapshotDate(kind: SyncedObjectKind, object: Obj, notAfter: UnixSeconds): UnixSeconds {
  let candidates: number[];
  switch (kind) {
    case 'subscription': {
      const items: Obj[] = Array.isArray(object.items?.data) ? object.items.data : [];
      candidates = times(
        object.created,
        object.start_date,
        object.trial_start,
        object.trial_end,
        object.canceled_at,
        object.ended_at,
        object.cancel_at,
        object.current_period_start,
        object.billing_cycle_anchor,
        ...items.flatMap((i) => [i.created, i.current_period_start]),
      );
      break;
    }
    case 'invoice': {
      const st: Obj = object.status_transitions ?? {};
      candidates = times(object.created, object.effective_at, st.finalized_at, st.paid_at, st.voided_at, st.marked_uncollectible_at);
      break;
    }
    case 'charge': {
      const refunds: Obj[] = Array.isArray(object.refunds?.data) ? object.refunds.data : [];
      candidates = times(object.created, ...refunds.map((r) => r.created));
      break;
    }
    case 'dispute': {
      const movements: Obj[] = Array.isArray(object.balance_transactions) ? object.balance_transactions : [];
      candidates = times(object.created, ...movements.map((b) => b.created));
      break;
    }
    case 'credit_note':
      candidates = times(object.created, object.effective_at, object.voided_at);
      break;
    case 'subscription_schedule': {
      // a phase's start is a recorded change once it has begun (renewed commitments add phases)
      const phases: Obj[] = Array.isArray(object.phases) ? object.phases : [];
      candidates = times(object.created, object.released_at, object.canceled_at, object.completed_at, ...phases.map((p) => p.start_date));
      break;
    }
    default:
      candidates = times(object.created);
  }
  const past = candidates.filter((t) => t <= notAfter);
  return past.length ? Math.max(...past) : Math.min(notAfter, ...candidates);
}

/**
 * Wraps an object fetched from the Stripe API in an event envelope so it goes through the same
 * event store and order-safe projector as webhooks.
 *
 * - `created` is the object's own latest recorded time (snapshotDate), on Stripe's clock, not the
 *   fetch time: the fetch clock may be skewed (or the fetch slow), and a real event created in the
 *   same second as the fetch, or a little before it on a clock that runs ahead, describes a change
 *   the snapshot may not include. The projector also ranks every synthetic event below every real
 *   one at the same second (ordering.ts), so a real event wins a tie. A snapshot still beats a
 *   real event older than a change the object records (a late, stale webhook).
 * - The id is `evt_sync_<object id>_<hash of the object>`: deterministic, so re-running a
 *   backfill over unchanged objects stores nothing new, while a changed object yields a new
 *   snapshot event.
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
    created: snapshotDate(kind, object, options.fetchedAt),
    api_version: options.apiVersion ?? null,
    livemode: object.livemode === true,
    ...(options.account ? { account: options.account } : {}),
    data: { object },
    pending_webhooks: 0,
    request: { id: null, idempotency_key: null },
    churn_synthetic: 'backfill',
  };
}
