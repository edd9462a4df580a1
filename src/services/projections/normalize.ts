/**
 * Stripe objects -> the projection's one internal shape, whatever API version the webhook
 * endpoint is pinned to. Since 2025-03-31 (basil) an invoice names its subscription under
 * `parent.subscription_details` and a subscription's billing period lives on its items; before,
 * both were top-level (`invoice.subscription`, `subscription.current_period_*`). Discounts moved
 * from `discount.coupon` to `discount.source.coupon`, and a subscription's single `discount`
 * became a `discounts` list of ids. Every reader here accepts both.
 */

type Obj = Record<string, any>;

export function idOf(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as Obj).id === 'string') return (value as Obj).id;
  return null;
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function int(value: unknown, fallback = 0): number {
  return typeof value === 'number' && Number.isFinite(value) ? Math.trunc(value) : fallback;
}

function str(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null;
}

function metadata(value: unknown): Record<string, string> | null {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, string>) : null;
}

export interface NormalizedCustomer {
  id: string;
  email: string | null;
  name: string | null;
  currency: string | null;
  created: number | null;
  delinquent: boolean | null;
  balance: number | null;
  defaultPaymentMethod: string | null;
  country: string | null;
  metadata: Record<string, string> | null;
}

export function normalizeCustomer(c: Obj): NormalizedCustomer {
  return {
    id: c.id,
    email: str(c.email),
    name: str(c.name),
    currency: str(c.currency),
    created: num(c.created),
    delinquent: typeof c.delinquent === 'boolean' ? c.delinquent : null,
    balance: num(c.balance),
    defaultPaymentMethod: idOf(c.invoice_settings?.default_payment_method) ?? idOf(c.default_source),
    country: str(c.address?.country),
    metadata: metadata(c.metadata),
  };
}

export interface NormalizedItem {
  id: string;
  priceId: string | null;
  productId: string | null;
  quantity: number;
  unitAmount: number | null;
  currency: string | null;
  interval: string | null;
  intervalCount: number | null;
  usageType: string | null;
  currentPeriodStart: number | null;
  currentPeriodEnd: number | null;
}

/** Months in one billing interval of a recurring price. */
export function intervalMonths(interval: string | null, count: number | null): number {
  const n = count && count > 0 ? count : 1;
  switch (interval) {
    case 'day':
      return (n * 12) / 365;
    case 'week':
      return (n * 12) / 52;
    case 'month':
      return n;
    case 'year':
      return n * 12;
    default:
      return 1;
  }
}

/** Monthly recurring revenue of one item in minor units (metered items count as 0). */
export function itemMrr(item: NormalizedItem): number {
  if (item.usageType === 'metered' || item.unitAmount === null) return 0;
  return Math.round((item.unitAmount * item.quantity) / intervalMonths(item.interval, item.intervalCount));
}

function normalizeItem(i: Obj, sub: Obj): NormalizedItem {
  const price = i.price ?? i.plan ?? {};
  const recurring = price.recurring ?? (i.plan ? { interval: i.plan.interval, interval_count: i.plan.interval_count, usage_type: i.plan.usage_type } : {});
  const unitAmount = num(price.unit_amount) ?? (typeof price.unit_amount_decimal === 'string' ? Math.round(Number(price.unit_amount_decimal)) : null) ?? num(price.amount);
  return {
    id: i.id,
    priceId: idOf(price),
    productId: idOf(price.product),
    quantity: int(i.quantity, 1),
    unitAmount,
    currency: str(price.currency) ?? str(sub.currency),
    interval: str(recurring?.interval),
    intervalCount: num(recurring?.interval_count),
    usageType: str(recurring?.usage_type),
    currentPeriodStart: num(i.current_period_start) ?? num(sub.current_period_start),
    currentPeriodEnd: num(i.current_period_end) ?? num(sub.current_period_end),
  };
}

export interface NormalizedDiscount {
  id: string;
  customerId: string | null;
  subscriptionId: string | null;
  couponId: string | null;
  percentOff: number | null;
  amountOff: number | null;
  start: number | null;
  end: number | null;
}

export function normalizeDiscount(d: Obj): NormalizedDiscount {
  const coupon = d.source?.coupon ?? d.coupon ?? null;
  return {
    id: d.id,
    customerId: idOf(d.customer),
    subscriptionId: idOf(d.subscription),
    couponId: idOf(coupon),
    percentOff: coupon && typeof coupon === 'object' ? num(coupon.percent_off) : null,
    amountOff: coupon && typeof coupon === 'object' ? num(coupon.amount_off) : null,
    start: num(d.start),
    end: num(d.end),
  };
}

export interface NormalizedSubscription {
  id: string;
  customerId: string;
  status: string;
  currency: string | null;
  created: number | null;
  startDate: number | null;
  currentPeriodStart: number | null;
  currentPeriodEnd: number | null;
  cancelAtPeriodEnd: boolean;
  cancelAt: number | null;
  canceledAt: number | null;
  endedAt: number | null;
  trialStart: number | null;
  trialEnd: number | null;
  collectionMethod: string | null;
  defaultPaymentMethod: string | null;
  pauseBehavior: string | null;
  pauseResumesAt: number | null;
  discountCoupons: string[];
  discountEnd: number | null;
  cancellationReason: string | null;
  cancellationFeedback: string | null;
  mrr: number;
  quantity: number;
  priceId: string | null;
  productId: string | null;
  interval: string | null;
  intervalCount: number | null;
  itemCount: number;
  metadata: Record<string, string> | null;
  items: NormalizedItem[];
  /** discounts expanded in the payload (old `discount`, or `discounts` with objects) */
  expandedDiscounts: NormalizedDiscount[];
}

export function normalizeSubscription(s: Obj): NormalizedSubscription {
  const items: NormalizedItem[] = Array.isArray(s.items?.data) ? s.items.data.map((i: Obj) => normalizeItem(i, s)) : [];
  const licensed = items.filter((i) => i.usageType !== 'metered');
  const main = [...items].sort((a, b) => itemMrr(b) - itemMrr(a))[0];
  const maxOf = (xs: (number | null)[]) => {
    const v = xs.filter((x): x is number => x !== null);
    return v.length ? Math.max(...v) : null;
  };
  const minOf = (xs: (number | null)[]) => {
    const v = xs.filter((x): x is number => x !== null);
    return v.length ? Math.min(...v) : null;
  };
  const rawDiscounts: unknown[] = Array.isArray(s.discounts) ? s.discounts : s.discount ? [s.discount] : [];
  const expanded = rawDiscounts.filter((d): d is Obj => !!d && typeof d === 'object').map(normalizeDiscount);
  const couponIds = expanded.map((d) => d.couponId).filter((c): c is string => !!c);
  const discountIds = rawDiscounts.map(idOf).filter((d): d is string => !!d);
  const pause = s.pause_collection && typeof s.pause_collection === 'object' ? s.pause_collection : null;
  return {
    id: s.id,
    customerId: idOf(s.customer) ?? '',
    status: str(s.status) ?? 'unknown',
    currency: str(s.currency) ?? main?.currency ?? null,
    created: num(s.created),
    startDate: num(s.start_date),
    currentPeriodStart: num(s.current_period_start) ?? minOf(items.map((i) => i.currentPeriodStart)),
    currentPeriodEnd: num(s.current_period_end) ?? maxOf(items.map((i) => i.currentPeriodEnd)),
    cancelAtPeriodEnd: s.cancel_at_period_end === true,
    cancelAt: num(s.cancel_at),
    canceledAt: num(s.canceled_at),
    endedAt: num(s.ended_at),
    trialStart: num(s.trial_start),
    trialEnd: num(s.trial_end),
    collectionMethod: str(s.collection_method),
    defaultPaymentMethod: idOf(s.default_payment_method) ?? idOf(s.default_source),
    pauseBehavior: pause ? str(pause.behavior) : null,
    pauseResumesAt: pause ? num(pause.resumes_at) : null,
    // Webhooks on current versions carry discount ids only; coupons arrive via customer.discount.* events.
    discountCoupons: couponIds.length ? couponIds : discountIds,
    discountEnd: maxOf(expanded.map((d) => d.end)),
    cancellationReason: str(s.cancellation_details?.reason),
    cancellationFeedback: str(s.cancellation_details?.feedback),
    mrr: licensed.reduce((sum, i) => sum + itemMrr(i), 0),
    quantity: licensed.reduce((sum, i) => sum + i.quantity, 0),
    priceId: main?.priceId ?? null,
    productId: main?.productId ?? null,
    interval: main?.interval ?? null,
    intervalCount: main?.intervalCount ?? null,
    itemCount: items.length,
    metadata: metadata(s.metadata),
    items,
    expandedDiscounts: expanded,
  };
}

export interface NormalizedInvoice {
  id: string;
  customerId: string | null;
  subscriptionId: string | null;
  status: string | null;
  billingReason: string | null;
  collectionMethod: string | null;
  currency: string | null;
  amountDue: number;
  amountPaid: number;
  amountRemaining: number;
  total: number;
  attemptCount: number;
  nextPaymentAttempt: number | null;
  created: number | null;
  dueDate: number | null;
  periodStart: number | null;
  periodEnd: number | null;
  finalizedAt: number | null;
  paidAt: number | null;
  voidedAt: number | null;
  markedUncollectibleAt: number | null;
  /** old versions only: the charge that paid or failed */
  chargeId: string | null;
}

export function invoiceSubscriptionId(inv: Obj): string | null {
  return (
    idOf(inv.parent?.subscription_details?.subscription) ??
    idOf(inv.subscription) ??
    idOf(inv.subscription_details?.subscription) ??
    null
  );
}

export function normalizeInvoice(inv: Obj): NormalizedInvoice {
  const st = inv.status_transitions ?? {};
  return {
    id: inv.id,
    customerId: idOf(inv.customer),
    subscriptionId: invoiceSubscriptionId(inv),
    status: str(inv.status),
    billingReason: str(inv.billing_reason),
    collectionMethod: str(inv.collection_method),
    currency: str(inv.currency),
    amountDue: int(inv.amount_due),
    amountPaid: int(inv.amount_paid),
    amountRemaining: int(inv.amount_remaining),
    total: int(inv.total),
    attemptCount: int(inv.attempt_count),
    nextPaymentAttempt: num(inv.next_payment_attempt),
    created: num(inv.created),
    dueDate: num(inv.due_date),
    periodStart: num(inv.period_start),
    periodEnd: num(inv.period_end),
    finalizedAt: num(st.finalized_at),
    paidAt: num(st.paid_at),
    voidedAt: num(st.voided_at),
    markedUncollectibleAt: num(st.marked_uncollectible_at),
    chargeId: idOf(inv.charge),
  };
}

export interface NormalizedPaymentMethod {
  id: string;
  customerId: string | null;
  type: string | null;
  cardBrand: string | null;
  cardFunding: string | null;
  expMonth: number | null;
  expYear: number | null;
  created: number | null;
}

export function normalizePaymentMethod(pm: Obj): NormalizedPaymentMethod {
  const card = pm.card ?? (pm.object === 'card' ? pm : null);
  return {
    id: pm.id,
    customerId: idOf(pm.customer),
    type: str(pm.type) ?? (pm.object === 'card' ? 'card' : null),
    cardBrand: card ? str(card.brand) : null,
    cardFunding: card ? str(card.funding) : null,
    expMonth: card ? num(card.exp_month) : null,
    expYear: card ? num(card.exp_year) : null,
    created: num(pm.created),
  };
}

export interface NormalizedCharge {
  id: string;
  customerId: string | null;
  invoiceId: string | null;
  paymentMethodType: string | null;
  amount: number;
  amountRefunded: number;
  currency: string | null;
  status: string | null;
  failureCode: string | null;
  disputed: boolean;
  created: number | null;
}

export function normalizeCharge(ch: Obj): NormalizedCharge {
  return {
    id: ch.id,
    customerId: idOf(ch.customer),
    invoiceId: idOf(ch.invoice),
    paymentMethodType: str(ch.payment_method_details?.type),
    amount: int(ch.amount),
    amountRefunded: int(ch.amount_refunded),
    currency: str(ch.currency),
    status: str(ch.status),
    failureCode: str(ch.failure_code),
    disputed: ch.disputed === true,
    created: num(ch.created),
  };
}

export interface NormalizedRefund {
  id: string;
  chargeId: string | null;
  amount: number;
  currency: string | null;
  status: string | null;
  created: number;
}

export function normalizeRefund(r: Obj, fallbackCreated: number): NormalizedRefund {
  return { id: r.id, chargeId: idOf(r.charge), amount: int(r.amount), currency: str(r.currency), status: str(r.status), created: num(r.created) ?? fallbackCreated };
}

export interface NormalizedDispute {
  id: string;
  chargeId: string | null;
  amount: number;
  currency: string | null;
  status: string | null;
  reason: string | null;
  created: number;
}

export function normalizeDispute(d: Obj, fallbackCreated: number): NormalizedDispute {
  return { id: d.id, chargeId: idOf(d.charge), amount: int(d.amount), currency: str(d.currency), status: str(d.status), reason: str(d.reason), created: num(d.created) ?? fallbackCreated };
}

/** Failure details of an invoice.payment_failed event (old versions name the charge). */
export function invoiceFailureCode(inv: Obj): { failureCode: string | null; declineCode: string | null } {
  const err = inv.last_finalization_error ?? inv.last_payment_error ?? null;
  return { failureCode: str(err?.code), declineCode: str(err?.decline_code) };
}

export interface NormalizedPaymentIntent {
  id: string;
  customerId: string | null;
  amount: number;
  currency: string | null;
  status: string | null;
  latestChargeId: string | null;
  failureCode: string | null;
  declineCode: string | null;
  created: number | null;
}

export function normalizePaymentIntent(p: Obj): NormalizedPaymentIntent {
  const error: Obj | null = p.last_payment_error && typeof p.last_payment_error === 'object' ? p.last_payment_error : null;
  return {
    id: p.id,
    customerId: idOf(p.customer),
    amount: int(p.amount),
    currency: str(p.currency),
    status: str(p.status),
    latestChargeId: idOf(p.latest_charge),
    failureCode: str(error?.code),
    declineCode: str(error?.decline_code),
    created: num(p.created),
  };
}

export interface NormalizedCreditNote {
  id: string;
  customerId: string | null;
  invoiceId: string | null;
  amount: number;
  currency: string | null;
  status: string | null;
  reason: string | null;
  type: string | null;
  created: number;
  voidedAt: number | null;
}

/** `amount` is the credit note's total including tax (what the customer was credited). */
export function normalizeCreditNote(n: Obj, fallbackCreated: number): NormalizedCreditNote {
  return {
    id: n.id,
    customerId: idOf(n.customer),
    invoiceId: idOf(n.invoice),
    amount: int(n.total ?? n.amount),
    currency: str(n.currency),
    status: str(n.status),
    reason: str(n.reason),
    type: str(n.type),
    created: num(n.created) ?? fallbackCreated,
    voidedAt: num(n.voided_at),
  };
}

export interface NormalizedSubscriptionSchedule {
  id: string;
  customerId: string | null;
  subscriptionId: string | null;
  status: string | null;
  endBehavior: string | null;
  phases: { start: number; end: number | null }[];
  created: number | null;
  releasedAt: number | null;
  canceledAt: number | null;
  completedAt: number | null;
}

export function normalizeSubscriptionSchedule(s: Obj): NormalizedSubscriptionSchedule {
  const phases = (Array.isArray(s.phases) ? s.phases : [])
    .map((p: Obj) => ({ start: num(p?.start_date), end: num(p?.end_date) }))
    .filter((p: { start: number | null }): p is { start: number; end: number | null } => p.start !== null);
  return {
    id: s.id,
    customerId: idOf(s.customer),
    subscriptionId: idOf(s.subscription) ?? idOf(s.released_subscription),
    status: str(s.status),
    endBehavior: str(s.end_behavior),
    phases,
    created: num(s.created),
    releasedAt: num(s.released_at),
    canceledAt: num(s.canceled_at),
    completedAt: num(s.completed_at),
  };
}
