import { sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import type { StripeEventEnvelope } from '../services/events/parse.js';

/**
 * Which stored Stripe event concerns which customer. `stripe/*` Inngest events carry only a
 * reference ({id, account, type, created}); the customer is read from the stored event, and where
 * the object does not name one (refunds, disputes, a detached card) through the charge, invoice or
 * payment method it points at, in the projections.
 */

/** Stripe event types after which a customer's churn risk may have moved. */
export const RISK_EVENT_TYPES = [
  'invoice.payment_failed',
  'customer.subscription.updated',
  // attached, detached, updated, automatically_updated (and the legacy card_automatically_updated)
  'payment_method.*',
  // cards and sources about to expire (Stripe sends it for cards too)
  'customer.source.expiring',
  'charge.dispute.created',
  'charge.refunded',
  'refund.created',
] as const;

export type CustomerReference =
  | { kind: 'customer'; customerId: string }
  | { kind: 'via'; table: 'charges' | 'invoices' | 'payment_methods'; id: string }
  | { kind: 'none' };

const idOf = (value: unknown): string | null => {
  if (typeof value === 'string' && value.length > 0) return value;
  if (value && typeof value === 'object' && typeof (value as { id?: unknown }).id === 'string') return (value as { id: string }).id;
  return null;
};

/**
 * Pure: where an event's customer is. The object's `customer` (an id, or an expanded object),
 * the object itself for customer.* events, the customer a payment method was detached from
 * (`previous_attributes.customer`), else the charge / invoice / payment method it refers to.
 */
export function customerReference(event: Pick<StripeEventEnvelope, 'type' | 'data'>): CustomerReference {
  const object = event.data.object;
  const own = idOf(object.customer);
  if (own?.startsWith('cus_')) return { kind: 'customer', customerId: own };
  if (object.object === 'customer' && typeof object.id === 'string' && object.id.startsWith('cus_')) return { kind: 'customer', customerId: object.id };
  const previous = idOf(event.data.previous_attributes?.customer);
  if (previous?.startsWith('cus_')) return { kind: 'customer', customerId: previous };
  const charge = idOf(object.charge);
  if (charge?.startsWith('ch_') || charge?.startsWith('py_')) return { kind: 'via', table: 'charges', id: charge };
  const invoice = idOf(object.invoice);
  if (invoice?.startsWith('in_')) return { kind: 'via', table: 'invoices', id: invoice };
  if (object.object === 'payment_method' && typeof object.id === 'string') return { kind: 'via', table: 'payment_methods', id: object.id };
  const paymentMethod = idOf(object.payment_method);
  if (paymentMethod?.startsWith('pm_') || paymentMethod?.startsWith('card_')) return { kind: 'via', table: 'payment_methods', id: paymentMethod };
  return { kind: 'none' };
}

/** The stored event with this Stripe id (the payload as received), or null. */
export async function readStoredEvent(database: Database, id: string): Promise<{ account: string; event: StripeEventEnvelope } | null> {
  const [row] = await database.query<{ account: string; payload: StripeEventEnvelope | string }>(
    sql`select account, payload from stripe_events where id = ${id}`,
  );
  if (!row) return null;
  const event = typeof row.payload === 'string' ? (JSON.parse(row.payload) as StripeEventEnvelope) : row.payload;
  return { account: row.account, event };
}

const LOOKUP_TABLES = { charges: sql.raw('charges'), invoices: sql.raw('invoices'), payment_methods: sql.raw('payment_methods') } as const;

/** The customer a stored event concerns, or null when neither it nor what it points at names one. */
export async function customerOfStoredEvent(database: Database, account: string, event: StripeEventEnvelope): Promise<string | null> {
  const ref = customerReference(event);
  if (ref.kind === 'customer') return ref.customerId;
  if (ref.kind === 'none') return null;
  const [row] = await database.query<{ customer_id: string | null }>(
    sql`select customer_id from ${LOOKUP_TABLES[ref.table]} where account = ${account} and id = ${ref.id}`,
  );
  return row?.customer_id ?? null;
}
