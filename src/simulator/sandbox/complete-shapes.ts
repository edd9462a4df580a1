import type { StripeObject } from './store.js';

/**
 * The world generator leaves out fields that are always null or empty for its business (Connect fees,
 * tax, shipping, quotes) to keep 100k-customer histories small. The API answers with Stripe's full
 * shapes anyway: on the way out, a missing top-level field gets the value Stripe sends when the
 * feature is unused. Fields present on the object are never touched.
 */

type Defaults = Record<string, unknown>;

const CUSTOMER: Defaults = {
  address: null,
  balance: 0,
  currency: null,
  customer_account: null,
  default_source: null,
  delinquent: false,
  description: null,
  discount: null,
  email: null,
  invoice_prefix: null,
  invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
  livemode: false,
  metadata: {},
  name: null,
  next_invoice_sequence: 1,
  phone: null,
  preferred_locales: [],
  shipping: null,
  tax_exempt: 'none',
  test_clock: null,
};

const SUBSCRIPTION: Defaults = {
  application: null,
  application_fee_percent: null,
  automatic_tax: { disabled_reason: null, enabled: false, liability: null },
  billing_cycle_anchor_config: null,
  billing_mode: { flexible: null, type: 'classic' },
  billing_schedules: [],
  billing_thresholds: null,
  cancel_at: null,
  cancel_at_period_end: false,
  canceled_at: null,
  cancellation_details: { comment: null, feedback: null, reason: null },
  collection_method: 'charge_automatically',
  customer_account: null,
  days_until_due: null,
  default_payment_method: null,
  default_source: null,
  default_tax_rates: [],
  description: null,
  discounts: [],
  ended_at: null,
  invoice_settings: { account_tax_ids: null, issuer: { type: 'self' } },
  latest_invoice: null,
  livemode: false,
  managed_payments: null,
  metadata: {},
  next_pending_invoice_item_invoice: null,
  on_behalf_of: null,
  pause_collection: null,
  payment_settings: { payment_method_options: null, payment_method_types: null, save_default_payment_method: 'off' },
  pending_invoice_item_interval: null,
  pending_setup_intent: null,
  pending_update: null,
  schedule: null,
  test_clock: null,
  transfer_data: null,
  trial_end: null,
  trial_settings: { end_behavior: { missing_payment_method: 'create_invoice' } },
  trial_start: null,
};

const SUBSCRIPTION_ITEM: Defaults = { billing_thresholds: null, discounts: [], metadata: {}, quantity: 1, tax_rates: [] };

const PRICE: Defaults = {
  active: true,
  billing_scheme: 'per_unit',
  custom_unit_amount: null,
  livemode: false,
  lookup_key: null,
  metadata: {},
  nickname: null,
  tax_behavior: 'unspecified',
  tiers_mode: null,
  transform_quantity: null,
  type: 'recurring',
};

const INVOICE: Defaults = {
  account_country: null,
  account_name: null,
  account_tax_ids: null,
  amount_overpaid: 0,
  amount_shipping: 0,
  application: null,
  automatic_tax: { disabled_reason: null, enabled: false, liability: null, provider: null, status: null },
  automatically_finalizes_at: null,
  custom_fields: null,
  customer_account: null,
  customer_address: null,
  customer_email: null,
  customer_name: null,
  customer_phone: null,
  customer_shipping: null,
  customer_tax_exempt: 'none',
  customer_tax_ids: [],
  default_payment_method: null,
  default_source: null,
  default_tax_rates: [],
  description: null,
  discounts: [],
  due_date: null,
  ending_balance: 0,
  footer: null,
  from_invoice: null,
  hosted_invoice_url: null,
  invoice_pdf: null,
  issuer: { type: 'self' },
  last_finalization_error: null,
  latest_revision: null,
  livemode: false,
  metadata: {},
  next_payment_attempt: null,
  number: null,
  on_behalf_of: null,
  payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
  post_payment_credit_notes_amount: 0,
  pre_payment_credit_notes_amount: 0,
  receipt_number: null,
  rendering: null,
  shipping_cost: null,
  shipping_details: null,
  starting_balance: 0,
  statement_descriptor: null,
  test_clock: null,
  total_discount_amounts: [],
  total_pretax_credit_amounts: [],
  total_taxes: [],
  webhooks_delivered_at: null,
};

const PAYMENT_METHOD: Defaults = {
  allow_redisplay: 'unspecified',
  billing_details: { address: null, email: null, name: null, phone: null, tax_id: null },
  customer_account: null,
  livemode: false,
  metadata: {},
};

const CARD: Defaults = {
  checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: null },
  country: null,
  fingerprint: null,
  generated_from: null,
  regulated_status: 'unregulated',
  three_d_secure_usage: { supported: true },
  wallet: null,
};

const COUPON: Defaults = { amount_off: null, currency: null, duration_in_months: null, livemode: false, max_redemptions: null, metadata: {}, name: null, percent_off: null, redeem_by: null, times_redeemed: 0, valid: true };

const DISCOUNT: Defaults = { checkout_session: null, customer_account: null, end: null, invoice: null, invoice_item: null, promotion_code: null, subscription_item: null };

const CHARGE: Defaults = {
  application: null,
  application_fee: null,
  application_fee_amount: null,
  billing_details: { address: { city: null, country: null, line1: null, line2: null, postal_code: null, state: null }, email: null, name: null, phone: null, tax_id: null },
  calculated_statement_descriptor: null,
  failure_balance_transaction: null,
  fraud_details: {},
  on_behalf_of: null,
  receipt_email: null,
  receipt_number: null,
  receipt_url: null,
  review: null,
  shipping: null,
  source: null,
  source_transfer: null,
  statement_descriptor: null,
  statement_descriptor_suffix: null,
  transfer_data: null,
  transfer_group: null,
};

const REFUND: Defaults = {
  customer_account: null,
  destination_details: null,
  metadata: {},
  payment_method: null,
  reason: null,
  receipt_number: null,
  source_transfer_reversal: null,
  transfer_reversal: null,
};

const DISPUTE_EVIDENCE_FIELDS = [
  'access_activity_log', 'billing_address', 'cancellation_policy', 'cancellation_policy_disclosure', 'cancellation_rebuttal',
  'customer_communication', 'customer_email_address', 'customer_name', 'customer_purchase_ip', 'customer_signature',
  'duplicate_charge_documentation', 'duplicate_charge_explanation', 'duplicate_charge_id', 'product_description', 'receipt',
  'refund_policy', 'refund_policy_disclosure', 'refund_refusal_explanation', 'service_date', 'service_documentation',
  'shipping_address', 'shipping_carrier', 'shipping_date', 'shipping_documentation', 'shipping_tracking_number',
  'uncategorized_file', 'uncategorized_text',
];

const DISPUTE: Defaults = {
  balance_transactions: [],
  enhanced_eligibility_types: [],
  evidence: { ...Object.fromEntries(DISPUTE_EVIDENCE_FIELDS.map((f) => [f, null])), enhanced_evidence: {} },
  evidence_details: { due_by: null, enhanced_eligibility: {}, has_evidence: false, past_due: false, submission_count: 0 },
  is_charge_refundable: false,
  livemode: false,
  metadata: {},
  payment_method_details: null,
};

function fill(object: Record<string, unknown>, defaults: Defaults): Record<string, unknown> {
  let out: Record<string, unknown> | null = null;
  for (const key in defaults) {
    if (!(key in object)) {
      out ??= { ...object };
      out[key] = structuredClone(defaults[key]);
    }
  }
  return out ?? object;
}

function planOf(price: Record<string, unknown>): Record<string, unknown> {
  const recurring = (price.recurring ?? {}) as { interval?: string; interval_count?: number; usage_type?: string; meter?: string | null };
  return {
    id: price.id,
    object: 'plan',
    active: price.active ?? true,
    amount: price.unit_amount ?? null,
    amount_decimal: price.unit_amount === null || price.unit_amount === undefined ? null : String(price.unit_amount),
    billing_scheme: price.billing_scheme ?? 'per_unit',
    created: price.created ?? null,
    currency: price.currency,
    interval: recurring.interval ?? 'month',
    interval_count: recurring.interval_count ?? 1,
    livemode: false,
    metadata: {},
    meter: recurring.meter ?? null,
    nickname: price.nickname ?? null,
    product: price.product,
    tiers_mode: null,
    transform_usage: null,
    trial_period_days: null,
    usage_type: recurring.usage_type ?? 'licensed',
  };
}

function completePrice(price: Record<string, unknown>): Record<string, unknown> {
  const filled = fill(price, PRICE);
  const recurring = filled.recurring as Record<string, unknown> | null | undefined;
  if (!recurring) return filled;
  const completedRecurring = fill(recurring, { meter: null, trial_period_days: null });
  return completedRecurring === recurring ? filled : { ...filled, recurring: completedRecurring };
}

function completeItem(item: Record<string, unknown>, subscriptionId: string): Record<string, unknown> {
  const price = item.price && typeof item.price === 'object' ? completePrice(item.price as Record<string, unknown>) : item.price;
  const withPrice = price === item.price ? item : { ...item, price };
  const completed = fill(withPrice, { ...SUBSCRIPTION_ITEM, subscription: subscriptionId });
  if ((completed.plan === undefined || completed.plan === null) && price && typeof price === 'object') {
    return { ...completed, plan: planOf(price as Record<string, unknown>) };
  }
  return completed;
}

/** The object with Stripe's values for the fields it leaves out; the same object when nothing is missing. */
export function completeStripeObject<T>(value: T): T {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
  const object = value as unknown as StripeObject;
  switch (object.object) {
    case 'customer':
      return (object.deleted === true ? object : fill(object, CUSTOMER)) as T;
    case 'subscription': {
      const filled = fill(object, SUBSCRIPTION);
      const items = filled.items as { data?: Record<string, unknown>[] } | undefined;
      if (!items?.data) return filled as T;
      return { ...filled, items: { ...items, data: items.data.map((item) => completeItem(item, object.id)) } } as T;
    }
    case 'invoice': {
      const derived: Defaults = {
        subtotal_excluding_tax: object.subtotal ?? null,
        total_excluding_tax: object.total ?? null,
        effective_at: (object.status_transitions as { finalized_at?: number | null } | undefined)?.finalized_at ?? null,
      };
      const filled = fill(object, { ...INVOICE, ...derived });
      const lines = filled.lines as Record<string, unknown> | undefined;
      if (!lines || typeof lines !== 'object') return filled as T;
      const completedLines = fill(lines, { object: 'list', data: [], has_more: false, url: `/v1/invoices/${object.id}/lines` });
      return (completedLines === lines ? filled : { ...filled, lines: completedLines }) as T;
    }
    case 'payment_method': {
      const filled = fill(object, PAYMENT_METHOD);
      const card = filled.card as Record<string, unknown> | undefined;
      if (!card) return filled as T;
      const brand = card.brand ?? null;
      const completedCard = fill(card, { ...CARD, display_brand: brand, networks: { available: brand ? [brand] : [], preferred: null } });
      return (completedCard === card ? filled : { ...filled, card: completedCard }) as T;
    }
    case 'price':
      return completePrice(object) as T;
    case 'coupon':
      return fill(object, COUPON) as T;
    case 'discount':
      return fill(object, DISCOUNT) as T;
    case 'charge':
      return fill(object, { ...CHARGE, refunds: { object: 'list', data: [], has_more: false, total_count: 0, url: `/v1/charges/${object.id}/refunds` } }) as T;
    case 'refund':
      return fill(object, REFUND) as T;
    case 'dispute':
      return fill(object, DISPUTE) as T;
    default:
      return value;
  }
}

/** An event as served (API and webhooks): its object completed, the envelope untouched. */
export function completeEvent<T extends { data: { object: unknown } }>(event: T): T {
  const object = completeStripeObject(event.data.object);
  return object === event.data.object ? event : { ...event, data: { ...event.data, object } };
}
