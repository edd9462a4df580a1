import type Stripe from 'stripe';
import { DAY, type UnixSeconds } from '../../lib/clock.js';
import { addMonths, buildCardPaymentMethod, buildCustomer, buildInvoice, buildPrice, buildSubscription } from './objects.js';
import type { SandboxStore, StripeObject } from './store.js';

/**
 * A small, deterministic Stripe account built from the sandbox's own object builders: customers with a
 * card, one monthly subscription each (some trialing, some past due, some canceled) and their paid
 * invoices, recorded as the events Stripe would have sent. For tests and for a sandbox started without
 * the world generator; the world (src/simulator/world) is the realistic source.
 */
export interface SampleAccountOptions {
  customers: number;
  seed: number;
  /** `acct_…` for a connected account; omitted = the platform account. */
  account?: string;
  /** How many months of history before the store's current time. */
  months?: number;
}

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZabcdefghjkmnpqrstvwxyz';

/** mulberry32: tiny, seeded, good enough for fixtures. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SampleAccountSummary {
  customers: number;
  subscriptions: number;
  invoices: number;
  events: number;
}

export function seedSampleAccount(store: SandboxStore, options: SampleAccountOptions): SampleAccountSummary {
  const random = seededRandom(options.seed);
  const id = (prefix: string, length = 14) => {
    let out = `${prefix}_`;
    for (let i = 0; i < length; i++) out += ALPHABET[Math.floor(random() * ALPHABET.length)];
    return out;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const end = store.now();
  const months = options.months ?? 6;
  const start = addMonths(end, -months);
  const account = options.account;
  const eventsBefore = store.eventIndex(account)?.list.length ?? 0;
  // Each customer's story is written in its own time order; the account's events are then recorded in
  // one time order across customers, as Stripe lists them.
  const pending: Stripe.Event[] = [];
  const emitAt = (at: UnixSeconds, type: string, object: StripeObject, previous?: Record<string, unknown>) => {
    pending.push(store.buildEvent(account, type, object, previous, { id: null, idempotency_key: null }, at));
  };

  const productId = id('prod');
  const prices = [
    buildPrice({ id: id('price', 24), product: productId, unitAmount: 1900, currency: 'usd', interval: 'month', created: start }),
    buildPrice({ id: id('price', 24), product: productId, unitAmount: 4900, currency: 'usd', interval: 'month', created: start }),
  ];
  for (const price of prices) store.putObject(account, price);

  let subscriptions = 0;
  let invoices = 0;
  for (let n = 0; n < options.customers; n++) {
    const created = start + Math.floor(random() * (end - start - DAY));
    const customerId = id('cus');
    const pmId = id('pm', 24);
    const country = pick(['US', 'GB', 'DE', 'FR', 'CA']);
    const customer = buildCustomer({ id: customerId, created, email: `customer${n}@example.com`, name: `Customer ${n}`, currency: 'usd', country, defaultPaymentMethod: null });
    emitAt(created, 'customer.created', customer);
    const pm = buildCardPaymentMethod({
      id: pmId,
      created,
      customer: customerId,
      brand: pick(['visa', 'mastercard', 'amex']),
      funding: pick(['credit', 'debit']),
      last4: String(1000 + Math.floor(random() * 9000)),
      expMonth: 1 + Math.floor(random() * 12),
      expYear: 2027 + Math.floor(random() * 4),
      country,
    });
    emitAt(created, 'payment_method.attached', pm);
    const withPm = { ...customer, invoice_settings: { ...(customer.invoice_settings as object), default_payment_method: pmId } };
    emitAt(created, 'customer.updated', withPm, { invoice_settings: customer.invoice_settings });

    const price = pick(prices);
    const trialing = random() < 0.15;
    const subscriptionId = id('sub', 24);
    let periodStart = created;
    let periodEnd = trialing ? created + 14 * DAY : addMonths(created, 1);
    let subscription = buildSubscription({
      id: subscriptionId,
      itemId: id('si'),
      customer: customerId,
      price,
      created,
      periodStart,
      periodEnd,
      defaultPaymentMethod: pmId,
      status: trialing ? 'trialing' : 'active',
      trialStart: trialing ? created : null,
      trialEnd: trialing ? periodEnd : null,
    });
    emitAt(created, 'customer.subscription.created', subscription);
    subscriptions++;

    const churnMonth = random() < 0.3 ? 1 + Math.floor(random() * months) : Infinity;
    let invoiceNumber = 1;
    for (let cycle = 0; periodStart <= end; cycle++) {
      if (trialing && cycle === 0) {
        if (periodEnd > end) break;
      } else {
        const invoiceId = id('in', 24);
        const amount = price.unit_amount as number;
        const failed = cycle === churnMonth;
        const base = {
          id: invoiceId,
          customer,
          subscription,
          created: periodStart,
          periodStart,
          periodEnd,
          amount,
          currency: 'usd',
          billingReason: cycle === 0 ? 'subscription_create' : 'subscription_cycle',
          number: `${String(customer.invoice_prefix)}-${String(invoiceNumber++).padStart(4, '0')}`,
        };
        const open = buildInvoice({ ...base, status: 'open', attemptCount: 0, paidAt: null });
        emitAt(periodStart, 'invoice.created', { ...open, status: 'draft' });
        emitAt(periodStart, 'invoice.finalized', open);
        if (failed) {
          const unpaid = buildInvoice({ ...base, status: 'open', attemptCount: 1, paidAt: null });
          emitAt(periodStart, 'invoice.payment_failed', { ...unpaid, next_payment_attempt: periodStart + 3 * DAY });
          const pastDue = { ...subscription, status: 'past_due', latest_invoice: invoiceId };
          emitAt(periodStart, 'customer.subscription.updated', pastDue, { status: subscription.status, latest_invoice: subscription.latest_invoice });
          subscription = pastDue;
          invoices++;
          const endedAt = periodStart + 14 * DAY;
          if (endedAt <= end) {
            const uncollectible = buildInvoice({ ...base, status: 'uncollectible', attemptCount: 4, paidAt: null });
            emitAt(endedAt, 'invoice.marked_uncollectible', uncollectible);
            const canceled = {
              ...subscription,
              status: 'canceled',
              canceled_at: endedAt,
              ended_at: endedAt,
              cancellation_details: { comment: null, feedback: null, reason: 'payment_failed' },
            };
            emitAt(endedAt, 'customer.subscription.deleted', canceled);
            subscription = canceled;
          }
          break;
        }
        const paid = buildInvoice({ ...base, status: 'paid', attemptCount: 1, paidAt: periodStart });
        // Stripe sends these three in the same second for one successful payment.
        emitAt(periodStart, 'invoice.paid', paid);
        emitAt(periodStart, 'invoice.payment_succeeded', paid);
        emitAt(periodStart, 'invoice.updated', paid, { status: 'open', amount_paid: 0, amount_remaining: paid.amount_due });
        invoices++;
        if (subscription.latest_invoice !== invoiceId || subscription.status === 'trialing') {
          const next = { ...subscription, latest_invoice: invoiceId, status: 'active' };
          emitAt(periodStart, 'customer.subscription.updated', next, { latest_invoice: subscription.latest_invoice, ...(subscription.status !== 'active' ? { status: subscription.status } : {}) });
          subscription = next;
        }
      }
      periodStart = periodEnd;
      periodEnd = addMonths(periodStart, 1);
      if (periodStart > end) break;
      const rolled = structuredClone(subscription);
      const item = (rolled.items as { data: { current_period_start: number; current_period_end: number }[] }).data[0]!;
      item.current_period_start = periodStart;
      item.current_period_end = periodEnd;
      emitAt(periodStart, 'customer.subscription.updated', rolled, { items: subscription.items });
      subscription = rolled;
    }
  }
  pending.sort((a, b) => a.created - b.created);
  for (const event of pending) store.applyEvent(event);
  return {
    customers: options.customers,
    subscriptions,
    invoices,
    events: (store.eventIndex(account)?.list.length ?? 0) - eventsBefore,
  };
}
