/**
 * Which snapshot of a Stripe object is the newest?
 *
 * Webhooks arrive in any order, and `created` has one-second resolution: one successful payment
 * emits invoice.paid, invoice.payment_succeeded and invoice.updated in the same second, and a
 * renewal that fails emits two customer.subscription.updated in the same second. Comparing
 * timestamps alone keeps whichever arrived last. The rule here is a total order on
 *
 *     (event.created, rank, event.id)
 *
 * where `rank` encodes lifecycle precedence within one second: a later lifecycle state beats an
 * earlier one (draft < open < paid/void for invoices; created < updated < deleted and
 * active < past_due < canceled for subscriptions; more attempts beat fewer). Because the order
 * is total, applying a set of events in any order leaves the same rows, which is what makes
 * `churn rebuild` reproduce incremental projections exactly. `event.id` only breaks exact ties
 * (same second, same lifecycle position), where both snapshots describe the same state.
 *
 * Events made by backfill rank below every real event (orderRank): a real event wins a tie.
 */

import { isSyntheticEventId } from '../sync/synthetic.js';

type Obj = Record<string, any>;

/**
 * Synthetic events (backfill snapshots and rebuilt history, ids `evt_sync_…`) sit this far below
 * every real event's rank, so in the same second any real Stripe event wins over anything backfill
 * made, whatever their lifecycle positions. Between synthetic events the lifecycle rank still decides.
 */
export const SYNTHETIC_RANK_OFFSET = -1_000_000;

/** The rank an event's snapshot is ordered by: its lifecycle rank, moved below all real events if synthetic. */
export function orderRank(eventId: string, lifecycleRank: number): number {
  return isSyntheticEventId(eventId) ? lifecycleRank + SYNTHETIC_RANK_OFFSET : lifecycleRank;
}

const SUBSCRIPTION_STATUS: Record<string, number> = {
  incomplete: 0,
  trialing: 1,
  active: 2,
  paused: 3,
  past_due: 4,
  unpaid: 5,
  canceled: 8,
  incomplete_expired: 8,
};

const INVOICE_STATUS: Record<string, number> = { draft: 0, open: 1, uncollectible: 2, paid: 3, void: 3 };

const CHARGE_STATUS: Record<string, number> = { pending: 0, failed: 1, succeeded: 1 };

const DISPUTE_STATUS: Record<string, number> = {
  warning_needs_response: 0,
  needs_response: 0,
  warning_under_review: 1,
  under_review: 1,
  warning_closed: 2,
  won: 2,
  lost: 2,
};

function eventVerbRank(type: string): number {
  if (type.endsWith('.deleted') || type.endsWith('.detached')) return 2;
  if (type.endsWith('.created') || type.endsWith('.attached')) return 0;
  return 1;
}

export function subscriptionRank(type: string, sub: Obj): number {
  // Deletion dominates everything; then lifecycle status; then created < updated.
  return eventVerbRank(type) * 100 + (SUBSCRIPTION_STATUS[sub.status] ?? 2) * 10 + Math.min(eventVerbRank(type), 1);
}

export function invoiceRank(type: string, inv: Obj): number {
  const status = INVOICE_STATUS[inv.status] ?? 0;
  const attempts = Math.min(Math.max(Number(inv.attempt_count) || 0, 0), 99);
  return status * 1000 + attempts * 10 + (eventVerbRank(type) === 0 ? 0 : 1);
}

export function customerRank(type: string): number {
  return eventVerbRank(type);
}

export function paymentMethodRank(type: string): number {
  return eventVerbRank(type);
}

export function chargeRank(type: string, ch: Obj): number {
  const status = CHARGE_STATUS[ch.status] ?? 0;
  const refunded = Number(ch.amount_refunded) > 0 ? 1 : 0;
  return status * 100 + refunded * 10 + (ch.disputed ? 5 : 0) + (eventVerbRank(type) === 0 ? 0 : 1);
}

export function disputeRank(type: string, d: Obj): number {
  return (DISPUTE_STATUS[d.status] ?? 1) * 10 + (eventVerbRank(type) === 0 ? 0 : 1);
}

export function discountRank(type: string): number {
  return eventVerbRank(type);
}

export interface VersionKey {
  created: number;
  rank: number;
  eventId: string;
}

/** Total order of snapshots; > 0 when a is newer than b. Mirrors the SQL row comparison. */
export function compareVersions(a: VersionKey, b: VersionKey): number {
  if (a.created !== b.created) return a.created - b.created;
  if (a.rank !== b.rank) return a.rank - b.rank;
  return a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0;
}
