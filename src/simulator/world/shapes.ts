/**
 * Stripe object and event shapes for the two API versions the projector reads:
 * the pinned '2026-10-28.endive' (shapes since 2025-03-31.basil: invoice `parent`, periods on
 * subscription items, discounts as ids, discount `source.coupon`) and the older '2024-06-20'
 * (top-level `subscription`/`charge`/`payment_intent` on invoices, `current_period_*` and a single
 * `discount` on subscriptions, `coupon` on discounts, `invoice` on charges). Objects carry the
 * fields the projector and typical consumers read, in Stripe's own names, types and key order.
 * Fields that are always null or empty for this business (Connect fees, tax, shipping, quotes,
 * receipts) are left out of the high-volume objects (subscription, invoice, charge) so a
 * 100,000-customer, 24-month world stays a file of manageable size.
 */
import type { Catalog, CatalogPrice } from './catalog.js';
import { SubStatus, type CustomerState } from './state.js';

export const PINNED_API_VERSION = '2026-10-28.endive';
export const LEGACY_API_VERSION = '2024-06-20';

/** API versions before 2025-03-31.basil use the older invoice/subscription/discount shapes. */
export function isLegacyVersion(apiVersion: string): boolean {
  return apiVersion < '2025-03-31';
}

export interface StripeEventShape {
  id: string;
  object: 'event';
  account?: string;
  api_version: string;
  created: number;
  data: { object: Record<string, unknown>; previous_attributes?: Record<string, unknown> };
  livemode: false;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: string;
}

export function eventEnvelope(
  id: string,
  type: string,
  created: number,
  object: Record<string, unknown>,
  previous: Record<string, unknown> | undefined,
  account: string | null,
  apiVersion: string,
): StripeEventShape {
  // key order as Stripe sends it; `account` only for Connect accounts
  const event = account
    ? { id, object: 'event' as const, account, api_version: apiVersion, created, data: previous ? { object, previous_attributes: previous } : { object }, livemode: false as const, pending_webhooks: 1, request: { id: null, idempotency_key: null }, type }
    : { id, object: 'event' as const, api_version: apiVersion, created, data: previous ? { object, previous_attributes: previous } : { object }, livemode: false as const, pending_webhooks: 1, request: { id: null, idempotency_key: null }, type };
  return event;
}

/**
 * The same event as `eventEnvelope` would give, already as JSON text, around a data object that
 * was serialised once (the paid/payment_succeeded/updated trio shares one invoice snapshot).
 */
export function eventEnvelopeJson(
  id: string,
  type: string,
  created: number,
  objectJson: string,
  previous: Record<string, unknown> | undefined,
  account: string | null,
  apiVersion: string,
): string {
  const head = account
    ? `{"id":"${id}","object":"event","account":"${account}","api_version":"${apiVersion}","created":${created},"data":{"object":`
    : `{"id":"${id}","object":"event","api_version":"${apiVersion}","created":${created},"data":{"object":`;
  const prev = previous ? `,"previous_attributes":${JSON.stringify(previous)}` : '';
  return `${head}${objectJson}${prev}},"livemode":false,"pending_webhooks":1,"request":{"id":null,"idempotency_key":null},"type":"${type}"}`;
}

const STATUS_NAMES: Record<SubStatus, string> = {
  [SubStatus.NotStarted]: 'incomplete',
  [SubStatus.Trialing]: 'trialing',
  [SubStatus.Active]: 'active',
  [SubStatus.PastDue]: 'past_due',
  [SubStatus.Canceled]: 'canceled',
};

export function subscriptionStatusName(state: CustomerState, now: number): string {
  if (state.status === SubStatus.Active && state.actionTrialEnd > now) return 'trialing';
  return STATUS_NAMES[state.status];
}

export function productObject(catalog: Catalog, tier: number): Record<string, unknown> {
  const p = catalog.products[tier]!;
  return {
    id: p.id, object: 'product', active: true, created: catalog.created, default_price: catalog.prices[tier]![0]!.id,
    description: null, images: [], livemode: false, marketing_features: [], metadata: {}, name: p.name,
    package_dimensions: null, shippable: null, statement_descriptor: null, tax_code: null, type: 'service',
    unit_label: tier > 0 ? 'seat' : null, updated: catalog.created, url: null,
  };
}

export function priceObject(catalog: Catalog, price: CatalogPrice): Record<string, unknown> {
  return {
    id: price.id, object: 'price', active: true, billing_scheme: 'per_unit', created: catalog.created,
    currency: catalog.currency, custom_unit_amount: null, livemode: false, lookup_key: null, metadata: {},
    nickname: price.nickname, product: price.product,
    recurring: { interval: price.interval, interval_count: 1, meter: null, trial_period_days: null, usage_type: 'licensed' },
    tax_behavior: 'unspecified', tiers_mode: null, transform_quantity: null, type: 'recurring',
    unit_amount: price.unitAmount, unit_amount_decimal: String(price.unitAmount),
  };
}

/** The price as embedded in subscription items: the fields consumers read, without catalog noise. */
function itemPrice(catalog: Catalog, price: CatalogPrice): Record<string, unknown> {
  return {
    id: price.id, object: 'price', active: true, billing_scheme: 'per_unit', created: catalog.created,
    currency: catalog.currency, livemode: false, metadata: {}, nickname: price.nickname, product: price.product,
    recurring: { interval: price.interval, interval_count: 1, usage_type: 'licensed' }, type: 'recurring',
    unit_amount: price.unitAmount, unit_amount_decimal: String(price.unitAmount),
  };
}

function planObject(catalog: Catalog, price: CatalogPrice): Record<string, unknown> {
  return {
    id: price.id, object: 'plan', active: true, amount: price.unitAmount, amount_decimal: String(price.unitAmount),
    billing_scheme: 'per_unit', created: catalog.created, currency: catalog.currency, interval: price.interval,
    interval_count: 1, livemode: false, metadata: {}, meter: null, nickname: price.nickname, product: price.product,
    tiers_mode: null, transform_usage: null, trial_period_days: null, usage_type: 'licensed',
  };
}

export function couponObject(coupon: Catalog['introCoupon']): Record<string, unknown> {
  return {
    id: coupon.id, object: 'coupon', amount_off: null, created: coupon.created, currency: null, duration: 'repeating',
    duration_in_months: coupon.durationInMonths, livemode: false, max_redemptions: null, metadata: {},
    name: `Introductory ${coupon.percentOff}% off`, percent_off: coupon.percentOff, redeem_by: null,
    times_redeemed: 0, valid: true,
  };
}

export function customerObject(state: CustomerState, catalog: Catalog, delinquent: boolean): Record<string, unknown> {
  return {
    id: state.id, object: 'customer',
    address: { city: null, country: state.country, line1: null, line2: null, postal_code: null, state: null },
    balance: 0, created: state.signupAt, currency: catalog.currency, default_source: null, delinquent,
    description: null, discount: null, email: state.email, invoice_prefix: state.id.slice(4, 12).toUpperCase(),
    invoice_settings: { custom_fields: null, default_payment_method: state.pmId || null, footer: null, rendering_options: null },
    livemode: false, metadata: {}, name: state.name, phone: null, preferred_locales: [], shipping: null,
    tax_exempt: 'none', test_clock: null,
  };
}

export function paymentMethodObject(state: CustomerState, attached: boolean): Record<string, unknown> {
  return {
    id: state.pmId, object: 'payment_method', allow_redisplay: 'unspecified',
    billing_details: { address: { city: null, country: state.country, line1: null, line2: null, postal_code: null, state: null }, email: state.email, name: state.name, phone: null, tax_id: null },
    card: {
      brand: state.brand, checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: 'pass' },
      country: state.country, display_brand: state.brand, exp_month: state.expMonth, exp_year: state.expYear,
      fingerprint: state.pmId.slice(3, 19), funding: state.funding, generated_from: null, last4: state.last4,
      networks: { available: [state.brand], preferred: null }, regulated_status: 'unregulated',
      three_d_secure_usage: { supported: true }, wallet: null,
    },
    created: state.pmCreated, customer: attached ? state.id : null, customer_account: null, livemode: false,
    metadata: {}, type: 'card',
  };
}

export function discountObject(state: CustomerState, catalog: Catalog, apiVersion: string): Record<string, unknown> {
  const base = {
    id: state.discountId, object: 'discount', checkout_session: null, customer: state.id, customer_account: null,
    end: state.discountEnd, invoice: null, invoice_item: null, promotion_code: null, start: state.discountStart,
    subscription: state.subId, subscription_item: null,
  };
  if (isLegacyVersion(apiVersion)) return { ...base, coupon: couponObject(catalog.introCoupon) };
  return { ...base, source: { coupon: catalog.introCoupon.id, type: 'coupon' } };
}

export function currentPrice(state: CustomerState, catalog: Catalog): CatalogPrice {
  return catalog.prices[state.tier]![state.annual ? 1 : 0]!;
}

export function subscriptionObject(state: CustomerState, catalog: Catalog, apiVersion: string, now: number): Record<string, unknown> {
  const legacy = isLegacyVersion(apiVersion);
  const price = currentPrice(state, catalog);
  const introActive = state.discountId !== '' && state.discountEnd > now;
  const discounts = introActive ? [state.discountId, ...state.actionDiscountIds] : [...state.actionDiscountIds];
  const trialEnd = Math.max(state.trialEnd, state.actionTrialEnd) || null;
  const item: Record<string, unknown> = {
    id: state.itemId, object: 'subscription_item', created: state.subCreated,
    current_period_end: state.periodEnd, current_period_start: state.periodStart, discounts: [], metadata: {},
    price: itemPrice(catalog, price), quantity: state.quantity, subscription: state.subId,
  };
  if (legacy) item.plan = planObject(catalog, price);
  const subscription: Record<string, unknown> = {
    id: state.subId, object: 'subscription',
    billing_cycle_anchor: state.anchor,
    cancel_at: state.cancelAtPeriodEnd ? state.periodEnd : null, cancel_at_period_end: state.cancelAtPeriodEnd,
    canceled_at: state.canceledAt || null,
    cancellation_details: {
      comment: null,
      feedback: state.cancelFeedback || null,
      reason: state.cancelReason || null,
    },
    collection_method: 'charge_automatically', created: state.subCreated, currency: catalog.currency,
    customer: state.id, default_payment_method: null, discounts, ended_at: state.endedAt || null,
    items: { object: 'list', data: [item], has_more: false, total_count: 1, url: `/v1/subscription_items?subscription=${state.subId}` },
    latest_invoice: state.latestInvoice || null, livemode: false, metadata: {},
    pause_collection: state.pauseBehavior ? { behavior: state.pauseBehavior, resumes_at: state.pauseResumesAt || null } : null,
    schedule: null, start_date: state.subCreated, status: subscriptionStatusName(state, now),
    trial_end: trialEnd, trial_start: state.trialStart || (state.actionTrialEnd > 0 ? state.periodStart : null),
  };
  if (legacy) {
    subscription.current_period_start = state.periodStart;
    subscription.current_period_end = state.periodEnd;
    subscription.discount = introActive ? discountObject(state, catalog, apiVersion) : null;
    subscription.plan = planObject(catalog, price);
    subscription.quantity = state.quantity;
  }
  return subscription;
}

export interface InvoiceFacts {
  id: string;
  number: string;
  created: number;
  status: 'draft' | 'open' | 'paid' | 'void' | 'uncollectible';
  billingReason: 'subscription_create' | 'subscription_cycle';
  subtotal: number;
  discountAmount: number;
  amountPaid: number;
  attemptCount: number;
  nextPaymentAttempt: number | null;
  periodStart: number;
  periodEnd: number;
  linePeriodStart: number;
  linePeriodEnd: number;
  chargeId: string | null;
  paymentIntentId: string | null;
  finalizedAt: number | null;
  paidAt: number | null;
  voidedAt: number | null;
  uncollectibleAt: number | null;
}

export function invoiceObject(state: CustomerState, catalog: Catalog, facts: InvoiceFacts, apiVersion: string): Record<string, unknown> {
  const legacy = isLegacyVersion(apiVersion);
  const price = currentPrice(state, catalog);
  const total = facts.subtotal - facts.discountAmount;
  const due = facts.status === 'void' ? 0 : total;
  const discountIds = facts.discountAmount > 0 ? [state.discountId] : [];
  const line: Record<string, unknown> = {
    id: `il_${facts.id.slice(3)}`, object: 'line_item', amount: facts.subtotal, currency: catalog.currency,
    description: `${state.quantity} x ${price.nickname}`, discount_amounts: facts.discountAmount > 0 ? [{ amount: facts.discountAmount, discount: state.discountId }] : [],
    discounts: discountIds, invoice: facts.id, period: { end: facts.linePeriodEnd, start: facts.linePeriodStart }, quantity: state.quantity,
  };
  if (legacy) {
    Object.assign(line, {
      plan: null, price: { id: price.id, object: 'price', product: price.product, unit_amount: price.unitAmount, currency: catalog.currency, recurring: { interval: price.interval, interval_count: 1, usage_type: 'licensed' }, type: 'recurring' },
      proration: false, subscription: state.subId, subscription_item: state.itemId, type: 'subscription',
    });
  } else {
    Object.assign(line, {
      parent: { subscription_item_details: { proration: false, subscription: state.subId, subscription_item: state.itemId }, type: 'subscription_item_details' },
      pricing: { price_details: { price: price.id, product: price.product }, type: 'price_details', unit_amount_decimal: String(price.unitAmount) },
      subtotal: facts.subtotal,
    });
  }
  const paid = facts.status === 'paid';
  const invoice: Record<string, unknown> = {
    id: facts.id, object: 'invoice', account_country: catalog.country,
    amount_due: due, amount_paid: facts.amountPaid, amount_remaining: paid || facts.status === 'void' ? 0 : due - facts.amountPaid,
    attempt_count: facts.attemptCount, attempted: facts.attemptCount > 0 || paid,
    auto_advance: facts.status === 'open' || facts.status === 'draft', billing_reason: facts.billingReason,
    collection_method: 'charge_automatically', created: facts.created, currency: catalog.currency, customer: state.id,
    customer_email: state.email, discounts: discountIds, due_date: null, effective_at: facts.finalizedAt,
    lines: { object: 'list', data: [line], has_more: false, total_count: 1 },
    livemode: false, metadata: {}, next_payment_attempt: facts.nextPaymentAttempt, number: facts.finalizedAt ? facts.number : null,
    period_end: facts.periodEnd, period_start: facts.periodStart, status: facts.status,
    status_transitions: { finalized_at: facts.finalizedAt, marked_uncollectible_at: facts.uncollectibleAt, paid_at: facts.paidAt, voided_at: facts.voidedAt },
    subtotal: facts.subtotal, total,
    total_discount_amounts: facts.discountAmount > 0 ? [{ amount: facts.discountAmount, discount: state.discountId }] : [],
  };
  if (legacy) {
    Object.assign(invoice, {
      charge: facts.chargeId, discount: null, paid, payment_intent: facts.paymentIntentId,
      subscription: state.subId, subscription_details: { metadata: {} },
    });
  } else {
    invoice.parent = { quote_details: null, subscription_details: { metadata: {}, subscription: state.subId }, type: 'subscription_details' };
  }
  return invoice;
}

export interface ChargeFacts {
  id: string;
  paymentIntentId: string;
  invoiceId: string;
  created: number;
  amount: number;
  succeeded: boolean;
  failureCode: string | null;
  amountRefunded: number;
  disputed: boolean;
  description: string;
}

const DECLINE_MESSAGES: Record<string, string> = {
  expired_card: 'Your card has expired.',
  card_declined: 'Your card was declined.',
  insufficient_funds: 'Your card has insufficient funds.',
};

export function chargeObject(state: CustomerState, catalog: Catalog, facts: ChargeFacts, apiVersion: string): Record<string, unknown> {
  const ok = facts.succeeded;
  const charge: Record<string, unknown> = {
    id: facts.id, object: 'charge', amount: facts.amount, amount_captured: ok ? facts.amount : 0,
    amount_refunded: facts.amountRefunded, balance_transaction: ok ? `txn_${facts.id.slice(3)}` : null,
    captured: ok, created: facts.created, currency: catalog.currency,
    customer: state.id, description: facts.description, disputed: facts.disputed, failure_code: facts.failureCode,
    failure_message: facts.failureCode ? DECLINE_MESSAGES[facts.failureCode] ?? 'Your card was declined.' : null,
    livemode: false, metadata: {},
    outcome: ok
      ? { network_status: 'approved_by_network', reason: null, risk_level: 'normal', seller_message: 'Payment complete.', type: 'authorized' }
      : { network_status: 'declined_by_network', reason: facts.failureCode === 'expired_card' ? 'expired_card' : 'generic_decline', risk_level: 'normal', seller_message: 'The bank did not return any further details with this decline.', type: 'issuer_declined' },
    paid: ok, payment_intent: facts.paymentIntentId, payment_method: state.pmId,
    payment_method_details: {
      card: { brand: state.brand, country: state.country, exp_month: state.expMonth, exp_year: state.expYear, funding: state.funding, last4: state.last4, network: state.brand },
      type: 'card',
    },
    refunded: facts.amountRefunded >= facts.amount && facts.amount > 0, status: ok ? 'succeeded' : 'failed',
  };
  if (isLegacyVersion(apiVersion)) charge.invoice = facts.invoiceId;
  return charge;
}

export function refundObject(state: CustomerState, catalog: Catalog, id: string, chargeId: string, paymentIntentId: string, amount: number, created: number): Record<string, unknown> {
  return {
    id, object: 'refund', amount, balance_transaction: `txn_${id.slice(3)}`, charge: chargeId, created,
    currency: catalog.currency, customer: state.id, destination_details: { card: { type: 'refund' }, type: 'card' },
    metadata: {}, payment_intent: paymentIntentId, reason: 'requested_by_customer', receipt_number: null,
    source_transfer_reversal: null, status: 'succeeded', transfer_reversal: null,
  };
}

export function disputeObject(catalog: Catalog, id: string, chargeId: string, paymentIntentId: string, amount: number, created: number, status: string, reason: string): Record<string, unknown> {
  return {
    id, object: 'dispute', amount, balance_transactions: [], charge: chargeId, created, currency: catalog.currency,
    enhanced_eligibility_types: [], evidence_details: { due_by: created + 7 * 86400, has_evidence: false, past_due: false, submission_count: 0 },
    is_charge_refundable: false, livemode: false, metadata: {}, payment_intent: paymentIntentId, reason, status,
  };
}

/** The payment intent behind an invoice's collection, as it stands after an attempt (Stripe's payment_intent shape). */
export function paymentIntentObject(
  state: CustomerState,
  catalog: Catalog,
  facts: { id: string; created: number; amount: number; chargeId: string; invoiceId: string; succeeded: boolean; failureCode: string | null },
): Record<string, unknown> {
  const ok = facts.succeeded;
  return {
    id: facts.id, object: 'payment_intent', amount: facts.amount, amount_capturable: 0, amount_received: ok ? facts.amount : 0,
    capture_method: 'automatic', confirmation_method: 'automatic', created: facts.created, currency: catalog.currency, customer: state.id,
    description: 'Subscription update', last_payment_error: ok || !facts.failureCode ? null : {
      charge: facts.chargeId, code: facts.failureCode === 'expired_card' ? 'expired_card' : 'card_declined',
      decline_code: facts.failureCode === 'expired_card' ? 'expired_card' : facts.failureCode,
      message: DECLINE_MESSAGES[facts.failureCode] ?? 'Your card was declined.', payment_method: { id: state.pmId, object: 'payment_method', type: 'card' }, type: 'card_error',
    },
    latest_charge: facts.chargeId, livemode: false, metadata: {}, payment_method: ok ? state.pmId : null, payment_method_types: ['card'],
    status: ok ? 'succeeded' : 'requires_payment_method',
  };
}

/** A credit note issued against a paid invoice, refunding `amount` to the card (Stripe's credit_note shape, type post_payment). */
export function creditNoteObject(
  state: CustomerState,
  catalog: Catalog,
  facts: { id: string; number: string; invoiceId: string; refundId: string; amount: number; reason: string; created: number },
): Record<string, unknown> {
  return {
    id: facts.id, object: 'credit_note', amount: facts.amount, amount_shipping: 0, created: facts.created, currency: catalog.currency, customer: state.id,
    customer_balance_transaction: null, discount_amount: 0, discount_amounts: [], effective_at: facts.created, invoice: facts.invoiceId,
    lines: { object: 'list', data: [{ id: `cnli_${facts.id.slice(3)}`, object: 'credit_note_line_item', amount: facts.amount, description: 'Refund', discount_amount: 0, discount_amounts: [], livemode: false, quantity: 1, type: 'custom_line_item', unit_amount: facts.amount, unit_amount_decimal: String(facts.amount) }], has_more: false, url: `/v1/credit_notes/${facts.id}/lines` },
    livemode: false, memo: null, metadata: {}, number: facts.number, out_of_band_amount: null, post_payment_amount: facts.amount, pre_payment_amount: 0,
    reason: facts.reason, refunds: [{ amount_refunded: facts.amount, refund: facts.refundId, type: 'refund' }], status: 'issued',
    subtotal: facts.amount, subtotal_excluding_tax: facts.amount, total: facts.amount, total_excluding_tax: facts.amount, type: 'post_payment', voided_at: null,
  };
}
