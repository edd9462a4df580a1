import { bigint, boolean, index, integer, jsonb, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';

/**
 * Projections of Stripe objects, keyed by (account, Stripe id). Times are Stripe's unix
 * seconds; money is integer minor units beside its currency.
 *
 * Each projected row remembers which event produced it (`srcCreated`, `srcRank`, `srcEventId`),
 * so an older or same-second-but-earlier snapshot can never overwrite a newer one
 * (see src/services/projections/ordering.ts for the rule).
 */
const version = {
  srcCreated: bigint('src_created', { mode: 'number' }).notNull(),
  srcRank: integer('src_rank').notNull(),
  srcEventId: text('src_event_id').notNull(),
};

export const customers = pgTable(
  'customers',
  {
    account: text('account').notNull(),
    id: text('id').notNull(),
    email: text('email'),
    name: text('name'),
    currency: text('currency'),
    created: bigint('created', { mode: 'number' }),
    delinquent: boolean('delinquent'),
    balance: bigint('balance', { mode: 'number' }),
    defaultPaymentMethod: text('default_payment_method'),
    country: text('country'),
    metadata: jsonb('metadata').$type<Record<string, string>>(),
    deleted: boolean('deleted').notNull().default(false),
    ...version,
  },
  (t) => [primaryKey({ columns: [t.account, t.id] })],
);

/** Normalised subscription columns shared by the current row and its history. */
function subscriptionColumns() {
  return {
    customerId: text('customer_id').notNull(),
    status: text('status').notNull(),
    currency: text('currency'),
    created: bigint('created', { mode: 'number' }),
    startDate: bigint('start_date', { mode: 'number' }),
    currentPeriodStart: bigint('current_period_start', { mode: 'number' }),
    currentPeriodEnd: bigint('current_period_end', { mode: 'number' }),
    cancelAtPeriodEnd: boolean('cancel_at_period_end').notNull().default(false),
    cancelAt: bigint('cancel_at', { mode: 'number' }),
    canceledAt: bigint('canceled_at', { mode: 'number' }),
    endedAt: bigint('ended_at', { mode: 'number' }),
    trialStart: bigint('trial_start', { mode: 'number' }),
    trialEnd: bigint('trial_end', { mode: 'number' }),
    collectionMethod: text('collection_method'),
    defaultPaymentMethod: text('default_payment_method'),
    pauseBehavior: text('pause_behavior'),
    pauseResumesAt: bigint('pause_resumes_at', { mode: 'number' }),
    /** coupon ids of the active discounts */
    discountCoupons: jsonb('discount_coupons').$type<string[]>(),
    discountEnd: bigint('discount_end', { mode: 'number' }),
    cancellationReason: text('cancellation_reason'),
    cancellationFeedback: text('cancellation_feedback'),
    /** monthly recurring revenue in minor units of `currency`, before discounts */
    mrr: bigint('mrr', { mode: 'number' }).notNull().default(0),
    quantity: integer('quantity').notNull().default(0),
    /** main price (largest MRR item) for features and readable segments */
    priceId: text('price_id'),
    productId: text('product_id'),
    interval: text('interval'),
    intervalCount: integer('interval_count'),
    itemCount: integer('item_count').notNull().default(0),
    metadata: jsonb('metadata').$type<Record<string, string>>(),
  };
}

export const subscriptions = pgTable(
  'subscriptions',
  {
    account: text('account').notNull(),
    id: text('id').notNull(),
    ...subscriptionColumns(),
    deleted: boolean('deleted').notNull().default(false),
    ...version,
  },
  (t) => [primaryKey({ columns: [t.account, t.id] }), index('subscriptions_customer_idx').on(t.account, t.customerId)],
);

/**
 * Every state a subscription was seen in, one row per event: point-in-time features read
 * "the newest version at or before asOf" from here instead of the current row.
 */
export const subscriptionVersions = pgTable(
  'subscription_versions',
  {
    account: text('account').notNull(),
    subscriptionId: text('subscription_id').notNull(),
    eventId: text('event_id').notNull(),
    validFrom: bigint('valid_from', { mode: 'number' }).notNull(),
    rank: integer('rank').notNull(),
    ...subscriptionColumns(),
  },
  (t) => [
    primaryKey({ columns: [t.account, t.subscriptionId, t.eventId] }),
    index('subscription_versions_customer_idx').on(t.account, t.customerId, t.validFrom),
  ],
);

export const subscriptionItems = pgTable(
  'subscription_items',
  {
    account: text('account').notNull(),
    id: text('id').notNull(),
    subscriptionId: text('subscription_id').notNull(),
    priceId: text('price_id'),
    productId: text('product_id'),
    quantity: integer('quantity').notNull().default(1),
    unitAmount: bigint('unit_amount', { mode: 'number' }),
    currency: text('currency'),
    interval: text('interval'),
    intervalCount: integer('interval_count'),
    usageType: text('usage_type'),
    currentPeriodStart: bigint('current_period_start', { mode: 'number' }),
    currentPeriodEnd: bigint('current_period_end', { mode: 'number' }),
    deleted: boolean('deleted').notNull().default(false),
    ...version,
  },
  (t) => [primaryKey({ columns: [t.account, t.id] }), index('subscription_items_sub_idx').on(t.account, t.subscriptionId)],
);

export const invoices = pgTable(
  'invoices',
  {
    account: text('account').notNull(),
    id: text('id').notNull(),
    customerId: text('customer_id'),
    subscriptionId: text('subscription_id'),
    status: text('status'),
    billingReason: text('billing_reason'),
    collectionMethod: text('collection_method'),
    currency: text('currency'),
    amountDue: bigint('amount_due', { mode: 'number' }).notNull().default(0),
    amountPaid: bigint('amount_paid', { mode: 'number' }).notNull().default(0),
    amountRemaining: bigint('amount_remaining', { mode: 'number' }).notNull().default(0),
    total: bigint('total', { mode: 'number' }).notNull().default(0),
    attemptCount: integer('attempt_count').notNull().default(0),
    nextPaymentAttempt: bigint('next_payment_attempt', { mode: 'number' }),
    created: bigint('created', { mode: 'number' }),
    dueDate: bigint('due_date', { mode: 'number' }),
    periodStart: bigint('period_start', { mode: 'number' }),
    periodEnd: bigint('period_end', { mode: 'number' }),
    finalizedAt: bigint('finalized_at', { mode: 'number' }),
    paidAt: bigint('paid_at', { mode: 'number' }),
    voidedAt: bigint('voided_at', { mode: 'number' }),
    markedUncollectibleAt: bigint('marked_uncollectible_at', { mode: 'number' }),
    ...version,
  },
  (t) => [primaryKey({ columns: [t.account, t.id] }), index('invoices_customer_idx').on(t.account, t.customerId, t.created)],
);

/** One row per failed collection attempt (invoice.payment_failed or a failed charge). */
export const paymentFailures = pgTable(
  'payment_failures',
  {
    account: text('account').notNull(),
    eventId: text('event_id').notNull(),
    customerId: text('customer_id'),
    invoiceId: text('invoice_id'),
    subscriptionId: text('subscription_id'),
    amount: bigint('amount', { mode: 'number' }),
    currency: text('currency'),
    attempt: integer('attempt'),
    failureCode: text('failure_code'),
    declineCode: text('decline_code'),
    failedAt: bigint('failed_at', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.account, t.eventId] }), index('payment_failures_customer_idx').on(t.account, t.customerId, t.failedAt)],
);

export const paymentMethods = pgTable(
  'payment_methods',
  {
    account: text('account').notNull(),
    id: text('id').notNull(),
    customerId: text('customer_id'),
    type: text('type'),
    cardBrand: text('card_brand'),
    cardFunding: text('card_funding'),
    expMonth: integer('exp_month'),
    expYear: integer('exp_year'),
    created: bigint('created', { mode: 'number' }),
    attachedAt: bigint('attached_at', { mode: 'number' }),
    detachedAt: bigint('detached_at', { mode: 'number' }),
    ...version,
  },
  (t) => [primaryKey({ columns: [t.account, t.id] }), index('payment_methods_customer_idx').on(t.account, t.customerId)],
);

export const charges = pgTable(
  'charges',
  {
    account: text('account').notNull(),
    id: text('id').notNull(),
    customerId: text('customer_id'),
    invoiceId: text('invoice_id'),
    paymentMethodType: text('payment_method_type'),
    amount: bigint('amount', { mode: 'number' }).notNull().default(0),
    amountRefunded: bigint('amount_refunded', { mode: 'number' }).notNull().default(0),
    currency: text('currency'),
    status: text('status'),
    failureCode: text('failure_code'),
    disputed: boolean('disputed').notNull().default(false),
    created: bigint('created', { mode: 'number' }),
    ...version,
  },
  (t) => [primaryKey({ columns: [t.account, t.id] }), index('charges_customer_idx').on(t.account, t.customerId, t.created)],
);

export const refunds = pgTable(
  'refunds',
  {
    account: text('account').notNull(),
    id: text('id').notNull(),
    chargeId: text('charge_id'),
    customerId: text('customer_id'),
    amount: bigint('amount', { mode: 'number' }).notNull().default(0),
    currency: text('currency'),
    status: text('status'),
    created: bigint('created', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.account, t.id] }), index('refunds_customer_idx').on(t.account, t.customerId, t.created)],
);

export const disputes = pgTable(
  'disputes',
  {
    account: text('account').notNull(),
    id: text('id').notNull(),
    chargeId: text('charge_id'),
    customerId: text('customer_id'),
    amount: bigint('amount', { mode: 'number' }).notNull().default(0),
    currency: text('currency'),
    status: text('status'),
    reason: text('reason'),
    created: bigint('created', { mode: 'number' }).notNull(),
    ...version,
  },
  (t) => [primaryKey({ columns: [t.account, t.id] }), index('disputes_customer_idx').on(t.account, t.customerId, t.created)],
);

/** Discounts (coupon applications), from customer.discount.* events or expanded subscription discounts. */
export const discounts = pgTable(
  'discounts',
  {
    account: text('account').notNull(),
    id: text('id').notNull(),
    customerId: text('customer_id'),
    subscriptionId: text('subscription_id'),
    couponId: text('coupon_id'),
    percentOff: integer('percent_off'),
    amountOff: bigint('amount_off', { mode: 'number' }),
    start: bigint('start', { mode: 'number' }),
    end: bigint('end', { mode: 'number' }),
    deletedAt: bigint('deleted_at', { mode: 'number' }),
    ...version,
  },
  (t) => [primaryKey({ columns: [t.account, t.id] }), index('discounts_customer_idx').on(t.account, t.customerId)],
);

/** Payment intents: one per invoice collection (or one-off payment); the latest failure's codes. */
export const paymentIntents = pgTable(
  'payment_intents',
  {
    account: text('account').notNull(),
    id: text('id').notNull(),
    customerId: text('customer_id'),
    amount: bigint('amount', { mode: 'number' }).notNull().default(0),
    currency: text('currency'),
    status: text('status'),
    latestChargeId: text('latest_charge_id'),
    failureCode: text('failure_code'),
    declineCode: text('decline_code'),
    created: bigint('created', { mode: 'number' }),
    ...version,
  },
  (t) => [primaryKey({ columns: [t.account, t.id] }), index('payment_intents_customer_idx').on(t.account, t.customerId, t.created)],
);

/** Credit notes: credits and refunds issued against invoices. */
export const creditNotes = pgTable(
  'credit_notes',
  {
    account: text('account').notNull(),
    id: text('id').notNull(),
    customerId: text('customer_id'),
    invoiceId: text('invoice_id'),
    amount: bigint('amount', { mode: 'number' }).notNull().default(0),
    currency: text('currency'),
    status: text('status'),
    reason: text('reason'),
    type: text('type'),
    created: bigint('created', { mode: 'number' }).notNull(),
    voidedAt: bigint('voided_at', { mode: 'number' }),
    ...version,
  },
  (t) => [primaryKey({ columns: [t.account, t.id] }), index('credit_notes_customer_idx').on(t.account, t.customerId, t.created)],
);

/**
 * Subscription schedules: a contract commitment recorded as phases. `phases` keeps every phase's
 * start and end, so the commitment in force at any moment can be read back (point in time).
 */
export const subscriptionSchedules = pgTable(
  'subscription_schedules',
  {
    account: text('account').notNull(),
    id: text('id').notNull(),
    customerId: text('customer_id'),
    subscriptionId: text('subscription_id'),
    status: text('status'),
    endBehavior: text('end_behavior'),
    phases: jsonb('phases').$type<{ start: number; end: number | null }[]>(),
    created: bigint('created', { mode: 'number' }),
    releasedAt: bigint('released_at', { mode: 'number' }),
    canceledAt: bigint('canceled_at', { mode: 'number' }),
    completedAt: bigint('completed_at', { mode: 'number' }),
    ...version,
  },
  (t) => [primaryKey({ columns: [t.account, t.id] }), index('subscription_schedules_customer_idx').on(t.account, t.customerId)],
);
