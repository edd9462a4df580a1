import type { Database } from '../../src/db/client.js';
import {
  charges,
  disputes,
  discounts,
  invoices,
  paymentFailures,
  paymentMethods,
  refunds,
  stripeEvents,
  subscriptionVersions,
} from '../../src/db/schema/index.js';

/**
 * Writes projection rows directly, the way the projector leaves them, so feature and label SQL can be
 * tested on hand-made histories (and on edge cases a simulator rarely produces).
 */

export const DAY = 86_400;
/** 2026-06-30T00:00:00Z */
export const T = Date.UTC(2026, 5, 30) / 1000;

let seq = 0;
const nextId = (p: string) => `${p}_${(++seq).toString(36).padStart(6, '0')}`;

export interface SubState {
  account?: string;
  customerId: string;
  subscriptionId: string;
  at: number;
  status?: string;
  currency?: string;
  mrr?: number;
  quantity?: number;
  priceId?: string;
  interval?: string;
  intervalCount?: number;
  itemCount?: number;
  startDate?: number;
  currentPeriodEnd?: number;
  cancelAtPeriodEnd?: boolean;
  endedAt?: number | null;
  canceledAt?: number | null;
  trialEnd?: number | null;
  collectionMethod?: string;
  defaultPaymentMethod?: string | null;
  pauseBehavior?: string | null;
  discountCoupons?: string[] | null;
  discountEnd?: number | null;
  cancellationReason?: string | null;
}

/** One subscription version (one event's view of the subscription), valid from `at`. */
export async function subVersion(database: Database, s: SubState): Promise<void> {
  await database.db.insert(subscriptionVersions).values({
    account: s.account ?? 'platform',
    subscriptionId: s.subscriptionId,
    eventId: nextId('evt'),
    validFrom: s.at,
    rank: s.status === 'canceled' ? 280 : 121,
    customerId: s.customerId,
    status: s.status ?? 'active',
    currency: s.currency ?? 'usd',
    created: s.startDate ?? s.at,
    startDate: s.startDate ?? s.at,
    currentPeriodStart: (s.currentPeriodEnd ?? s.at + 30 * DAY) - 30 * DAY,
    currentPeriodEnd: s.currentPeriodEnd ?? s.at + 30 * DAY,
    cancelAtPeriodEnd: s.cancelAtPeriodEnd ?? false,
    canceledAt: s.canceledAt ?? (s.status === 'canceled' ? s.at : null),
    endedAt: s.endedAt ?? (s.status === 'canceled' ? s.at : null),
    trialStart: s.trialEnd ? s.at : null,
    trialEnd: s.trialEnd ?? null,
    collectionMethod: s.collectionMethod ?? 'charge_automatically',
    defaultPaymentMethod: s.defaultPaymentMethod ?? null,
    pauseBehavior: s.pauseBehavior ?? null,
    discountCoupons: s.discountCoupons ?? [],
    discountEnd: s.discountEnd ?? null,
    cancellationReason: s.cancellationReason ?? null,
    mrr: s.mrr ?? 5000,
    quantity: s.quantity ?? 1,
    priceId: s.priceId ?? 'price_basic',
    productId: 'prod_app',
    interval: s.interval ?? 'month',
    intervalCount: s.intervalCount ?? 1,
    itemCount: s.itemCount ?? 1,
  });
}

export async function invoice(
  database: Database,
  i: { account?: string; customerId: string; id?: string; amount: number; currency?: string; finalizedAt: number; paidAt?: number | null; voidedAt?: number | null; dueDate?: number | null },
): Promise<string> {
  const id = i.id ?? nextId('in');
  await database.db.insert(invoices).values({
    account: i.account ?? 'platform',
    id,
    customerId: i.customerId,
    status: i.paidAt ? 'paid' : 'open',
    currency: i.currency ?? 'usd',
    amountDue: i.amount,
    amountPaid: i.paidAt ? i.amount : 0,
    amountRemaining: i.paidAt ? 0 : i.amount,
    total: i.amount,
    created: i.finalizedAt - 3600,
    finalizedAt: i.finalizedAt,
    paidAt: i.paidAt ?? null,
    voidedAt: i.voidedAt ?? null,
    dueDate: i.dueDate ?? null,
    srcCreated: i.paidAt ?? i.finalizedAt,
    srcRank: 1,
    srcEventId: nextId('evt'),
  });
  return id;
}

export async function failure(database: Database, f: { account?: string; customerId: string; invoiceId: string; at: number; attempt: number }): Promise<void> {
  await database.db.insert(paymentFailures).values({
    account: f.account ?? 'platform',
    eventId: nextId('evt'),
    customerId: f.customerId,
    invoiceId: f.invoiceId,
    amount: 5000,
    currency: 'usd',
    attempt: f.attempt,
    failureCode: 'card_declined',
    failedAt: f.at,
  });
}

export async function card(
  database: Database,
  p: { account?: string; customerId: string; id?: string; attachedAt: number; detachedAt?: number | null; expMonth: number; expYear: number; type?: string; funding?: string; srcCreated?: number },
): Promise<string> {
  const id = p.id ?? nextId('pm');
  await database.db.insert(paymentMethods).values({
    account: p.account ?? 'platform',
    id,
    customerId: p.customerId,
    type: p.type ?? 'card',
    cardBrand: 'visa',
    cardFunding: p.funding ?? 'credit',
    expMonth: p.expMonth,
    expYear: p.expYear,
    created: p.attachedAt,
    attachedAt: p.attachedAt,
    detachedAt: p.detachedAt ?? null,
    srcCreated: p.srcCreated ?? p.detachedAt ?? p.attachedAt,
    srcRank: 0,
    srcEventId: nextId('evt'),
  });
  return id;
}

/** A stored payment_method event, the way the event store keeps it (whole event as payload). */
export async function paymentMethodEvent(database: Database, e: { account?: string; id: string; customerId: string; at: number; type: string; expMonth: number; expYear: number }): Promise<void> {
  const evtId = nextId('evt');
  await database.db.insert(stripeEvents).values({
    id: evtId,
    account: e.account ?? 'platform',
    type: e.type,
    created: e.at,
    objectId: e.id,
    source: 'ingest',
    payload: {
      id: evtId,
      object: 'event',
      type: e.type,
      created: e.at,
      data: { object: { id: e.id, object: 'payment_method', type: 'card', customer: e.customerId, card: { brand: 'visa', funding: 'credit', exp_month: e.expMonth, exp_year: e.expYear, last4: '4242' } } },
    },
  });
}

export async function refund(database: Database, r: { account?: string; customerId: string; at: number; amount: number }): Promise<void> {
  await database.db.insert(refunds).values({ account: r.account ?? 'platform', id: nextId('re'), customerId: r.customerId, amount: r.amount, currency: 'usd', status: 'succeeded', created: r.at });
}

export async function dispute(database: Database, d: { account?: string; customerId: string; at: number }): Promise<void> {
  await database.db.insert(disputes).values({
    account: d.account ?? 'platform', id: nextId('dp'), customerId: d.customerId, amount: 5000, currency: 'usd', status: 'needs_response', reason: 'fraudulent', created: d.at,
    srcCreated: d.at, srcRank: 0, srcEventId: nextId('evt'),
  });
}

export async function charge(database: Database, c: { account?: string; customerId: string; at: number; method: string; status?: string }): Promise<void> {
  await database.db.insert(charges).values({
    account: c.account ?? 'platform', id: nextId('ch'), customerId: c.customerId, paymentMethodType: c.method, amount: 5000, currency: 'usd', status: c.status ?? 'succeeded', created: c.at,
    srcCreated: c.at, srcRank: 0, srcEventId: nextId('evt'),
  });
}

export async function discount(database: Database, d: { account?: string; customerId: string; start: number; end: number | null; deletedAt?: number | null; percentOff?: number }): Promise<void> {
  await database.db.insert(discounts).values({
    account: d.account ?? 'platform', id: nextId('di'), customerId: d.customerId, couponId: 'SAVE20', percentOff: d.percentOff ?? 20, start: d.start, end: d.end, deletedAt: d.deletedAt ?? null,
    srcCreated: d.deletedAt ?? d.start, srcRank: 0, srcEventId: nextId('evt'),
  });
}
