import type { UnixSeconds } from '../../lib/clock.js';
import type { StripeObject } from './store.js';

/**
 * Builders for the objects the sandbox itself creates, field for field as the pinned API version
 * (`2026-10-28.endive`) returns them. Objects the world generator produces arrive complete and are
 * stored as they are.
 */

export type Metadata = Record<string, string>;

export interface CouponFields {
  id: string;
  created: UnixSeconds;
  percent_off: number | null;
  amount_off: number | null;
  currency: string | null;
  duration: 'once' | 'repeating' | 'forever';
  duration_in_months: number | null;
  name: string | null;
  max_redemptions: number | null;
  redeem_by: UnixSeconds | null;
  metadata: Metadata;
}

export function buildCoupon(fields: CouponFields): StripeObject {
  return {
    id: fields.id,
    object: 'coupon',
    amount_off: fields.amount_off,
    created: fields.created,
    currency: fields.currency,
    duration: fields.duration,
    duration_in_months: fields.duration_in_months,
    livemode: false,
    max_redemptions: fields.max_redemptions,
    metadata: fields.metadata,
    name: fields.name,
    percent_off: fields.percent_off,
    redeem_by: fields.redeem_by,
    times_redeemed: 0,
    valid: true,
  };
}

/** Adds whole calendar months in UTC, clamping the day (Jan 31 + 1 month = Feb 28/29), as Stripe does. */
export function addMonths(unix: UnixSeconds, months: number): UnixSeconds {
  const date = new Date(unix * 1000);
  const day = date.getUTCDate();
  const target = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + months, 1, date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(day, lastDay));
  return Math.floor(target.getTime() / 1000);
}

export function buildDiscount(fields: {
  id: string;
  coupon: StripeObject;
  customer: string | null;
  subscription: string | null;
  start: UnixSeconds;
}): StripeObject {
  const months = typeof fields.coupon.duration_in_months === 'number' ? fields.coupon.duration_in_months : null;
  return {
    id: fields.id,
    object: 'discount',
    checkout_session: null,
    customer: fields.customer,
    customer_account: null,
    end: fields.coupon.duration === 'repeating' && months !== null ? addMonths(fields.start, months) : null,
    invoice: null,
    invoice_item: null,
    promotion_code: null,
    source: { coupon: fields.coupon.id, type: 'coupon' },
    start: fields.start,
    subscription: fields.subscription,
    subscription_item: null,
  };
}

export function buildCustomer(fields: {
  id: string;
  created: UnixSeconds;
  email: string | null;
  name: string | null;
  description?: string | null;
  phone?: string | null;
  currency?: string | null;
  country?: string | null;
  defaultPaymentMethod?: string | null;
  metadata?: Metadata;
}): StripeObject {
  return {
    id: fields.id,
    object: 'customer',
    address: fields.country ? { city: null, country: fields.country, line1: null, line2: null, postal_code: null, state: null } : null,
    balance: 0,
    created: fields.created,
    currency: fields.currency ?? null,
    customer_account: null,
    default_source: null,
    delinquent: false,
    description: fields.description ?? null,
    discount: null,
    email: fields.email,
    invoice_prefix: fields.id.slice(4, 12).toUpperCase(),
    invoice_settings: { custom_fields: null, default_payment_method: fields.defaultPaymentMethod ?? null, footer: null, rendering_options: null },
    livemode: false,
    metadata: fields.metadata ?? {},
    name: fields.name,
    next_invoice_sequence: 1,
    phone: fields.phone ?? null,
    preferred_locales: [],
    shipping: null,
    tax_exempt: 'none',
    test_clock: null,
  };
}

export function buildCardPaymentMethod(fields: {
  id: string;
  created: UnixSeconds;
  customer: string | null;
  brand: string;
  funding: string;
  last4: string;
  expMonth: number;
  expYear: number;
  country: string | null;
}): StripeObject {
  return {
    id: fields.id,
    object: 'payment_method',
    allow_redisplay: 'unspecified',
    billing_details: { address: null, email: null, name: null, phone: null, tax_id: null },
    card: {
      brand: fields.brand,
      checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: 'pass' },
      country: fields.country,
      display_brand: fields.brand,
      exp_month: fields.expMonth,
      exp_year: fields.expYear,
      fingerprint: fields.id.slice(3, 19),
      funding: fields.funding,
      generated_from: null,
      last4: fields.last4,
      networks: { available: [fields.brand], preferred: null },
      regulated_status: 'unregulated',
      three_d_secure_usage: { supported: true },
      wallet: null,
    },
    created: fields.created,
    customer: fields.customer,
    customer_account: null,
    livemode: false,
    metadata: {},
    type: 'card',
  };
}

export interface PriceFields {
  id: string;
  product: string;
  unitAmount: number;
  currency: string;
  interval: 'month' | 'year';
  created: UnixSeconds;
}

export function buildPrice(fields: PriceFields): StripeObject {
  return {
    id: fields.id,
    object: 'price',
    active: true,
    billing_scheme: 'per_unit',
    created: fields.created,
    currency: fields.currency,
    custom_unit_amount: null,
    livemode: false,
    lookup_key: null,
    metadata: {},
    nickname: null,
    product: fields.product,
    recurring: { interval: fields.interval, interval_count: 1, meter: null, trial_period_days: null, usage_type: 'licensed' },
    tax_behavior: 'unspecified',
    tiers_mode: null,
    transform_quantity: null,
    type: 'recurring',
    unit_amount: fields.unitAmount,
    unit_amount_decimal: String(fields.unitAmount),
  };
}

export function buildSubscription(fields: {
  id: string;
  itemId: string;
  customer: string;
  price: StripeObject;
  created: UnixSeconds;
  periodStart: UnixSeconds;
  periodEnd: UnixSeconds;
  defaultPaymentMethod: string | null;
  status: string;
  trialStart?: UnixSeconds | null;
  trialEnd?: UnixSeconds | null;
  latestInvoice?: string | null;
  metadata?: Metadata;
}): StripeObject {
  const price = fields.price;
  const recurring = price.recurring as { interval: string; interval_count: number; usage_type: string };
  return {
    id: fields.id,
    object: 'subscription',
    application: null,
    application_fee_percent: null,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null },
    billing_cycle_anchor: fields.periodStart,
    billing_cycle_anchor_config: null,
    billing_mode: { flexible: null, type: 'classic' },
    billing_schedules: [],
    billing_thresholds: null,
    cancel_at: null,
    cancel_at_period_end: false,
    canceled_at: null,
    cancellation_details: { comment: null, feedback: null, reason: null },
    collection_method: 'charge_automatically',
    created: fields.created,
    currency: price.currency,
    customer: fields.customer,
    customer_account: null,
    days_until_due: null,
    default_payment_method: fields.defaultPaymentMethod,
    default_source: null,
    default_tax_rates: [],
    description: null,
    discounts: [],
    ended_at: null,
    invoice_settings: { account_tax_ids: null, issuer: { type: 'self' } },
    items: {
      object: 'list',
      data: [
        {
          id: fields.itemId,
          object: 'subscription_item',
          billing_thresholds: null,
          created: fields.created,
          current_period_end: fields.periodEnd,
          current_period_start: fields.periodStart,
          discounts: [],
          metadata: {},
          plan: {
            id: price.id,
            object: 'plan',
            active: true,
            amount: price.unit_amount,
            amount_decimal: price.unit_amount_decimal,
            billing_scheme: 'per_unit',
            created: price.created,
            currency: price.currency,
            interval: recurring.interval,
            interval_count: recurring.interval_count,
            livemode: false,
            metadata: {},
            meter: null,
            nickname: null,
            product: price.product,
            tiers_mode: null,
            transform_usage: null,
            trial_period_days: null,
            usage_type: recurring.usage_type,
          },
          price,
          quantity: 1,
          subscription: fields.id,
          tax_rates: [],
        },
      ],
      has_more: false,
      total_count: 1,
      url: `/v1/subscription_items?subscription=${fields.id}`,
    },
    latest_invoice: fields.latestInvoice ?? null,
    livemode: false,
    managed_payments: null,
    metadata: fields.metadata ?? {},
    next_pending_invoice_item_invoice: null,
    on_behalf_of: null,
    pause_collection: null,
    payment_settings: { payment_method_options: null, payment_method_types: null, save_default_payment_method: 'off' },
    pending_invoice_item_interval: null,
    pending_setup_intent: null,
    pending_update: null,
    schedule: null,
    start_date: fields.created,
    status: fields.status,
    test_clock: null,
    transfer_data: null,
    trial_end: fields.trialEnd ?? null,
    trial_settings: { end_behavior: { missing_payment_method: 'create_invoice' } },
    trial_start: fields.trialStart ?? null,
  };
}

export function buildInvoice(fields: {
  id: string;
  customer: StripeObject;
  subscription: StripeObject;
  created: UnixSeconds;
  periodStart: UnixSeconds;
  periodEnd: UnixSeconds;
  amount: number;
  currency: string;
  status: 'draft' | 'open' | 'paid' | 'uncollectible' | 'void';
  billingReason: string;
  attemptCount: number;
  paidAt: UnixSeconds | null;
  number: string;
}): StripeObject {
  const paid = fields.status === 'paid';
  return {
    id: fields.id,
    object: 'invoice',
    account_country: 'US',
    account_name: 'Churn Sandbox',
    account_tax_ids: null,
    amount_due: fields.amount,
    amount_overpaid: 0,
    amount_paid: paid ? fields.amount : 0,
    amount_remaining: paid ? 0 : fields.amount,
    amount_shipping: 0,
    application: null,
    attempt_count: fields.attemptCount,
    attempted: fields.attemptCount > 0,
    auto_advance: !paid,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null, provider: null, status: null },
    automatically_finalizes_at: null,
    billing_reason: fields.billingReason,
    collection_method: 'charge_automatically',
    created: fields.created,
    currency: fields.currency,
    custom_fields: null,
    customer: fields.customer.id,
    customer_account: null,
    customer_address: fields.customer.address ?? null,
    customer_email: fields.customer.email ?? null,
    customer_name: fields.customer.name ?? null,
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
    effective_at: fields.created,
    ending_balance: 0,
    footer: null,
    from_invoice: null,
    issuer: { type: 'self' },
    last_finalization_error: null,
    latest_revision: null,
    lines: {
      object: 'list',
      data: [],
      has_more: false,
      total_count: 0,
      url: `/v1/invoices/${fields.id}/lines`,
    },
    livemode: false,
    metadata: {},
    next_payment_attempt: null,
    number: fields.number,
    on_behalf_of: null,
    parent: {
      quote_details: null,
      subscription_details: { metadata: {}, subscription: fields.subscription.id },
      type: 'subscription_details',
    },
    payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
    period_end: fields.periodEnd,
    period_start: fields.periodStart,
    post_payment_credit_notes_amount: 0,
    pre_payment_credit_notes_amount: 0,
    receipt_number: null,
    rendering: null,
    shipping_cost: null,
    shipping_details: null,
    starting_balance: 0,
    statement_descriptor: null,
    status: fields.status,
    status_transitions: {
      finalized_at: fields.status === 'draft' ? null : fields.created,
      marked_uncollectible_at: fields.status === 'uncollectible' ? fields.created : null,
      paid_at: fields.paidAt,
      voided_at: fields.status === 'void' ? fields.created : null,
    },
    subtotal: fields.amount,
    subtotal_excluding_tax: fields.amount,
    test_clock: null,
    total: fields.amount,
    total_discount_amounts: [],
    total_excluding_tax: fields.amount,
    total_pretax_credit_amounts: [],
    total_taxes: [],
    webhooks_delivered_at: fields.created,
  };
}
