import { sql, type SQL } from 'drizzle-orm';
import { pgArray } from '../bulk.js';

/**
 * Set-based, point-in-time reads of the billing projections for churn features and labels.
 *
 * Every query takes a time `at` (unix seconds) and only looks at what was known then: versions with
 * `valid_from <= at`, failures with `failed_at <= at`, invoices by their status-transition times, and
 * so on. Each returns one row per customer (or per payment method) for ALL customers in scope at
 * once; callers never loop over customers. The SQL is plain PostgreSQL that PGlite runs unchanged.
 */

export const DAY_SECONDS = 86_400;

/** Statuses in which a subscription still bills (or will bill) the customer. */
export const LIVE_STATUSES = ['trialing', 'active', 'past_due', 'unpaid', 'paused', 'incomplete'] as const;
/** Statuses of a subscription that has ended for good. */
export const ENDED_STATUSES = ['canceled', 'incomplete_expired'] as const;

/**
 * Approximate US dollars per major unit, a fixed table (late-2026 ballpark) so MRR from different
 * currencies lands on one scale. It only needs to be roughly right: the model sees log(1 + MRR in USD),
 * where a 10% rate error moves the value by ~0.1. Unknown currencies count as 1 USD per major unit.
 */
export const USD_PER_MAJOR_UNIT: Record<string, number> = {
  usd: 1, eur: 1.08, gbp: 1.27, chf: 1.13, cad: 0.73, aud: 0.66, nzd: 0.6, jpy: 0.0067, cny: 0.14,
  hkd: 0.128, sgd: 0.74, inr: 0.012, brl: 0.18, mxn: 0.055, sek: 0.095, nok: 0.093, dkk: 0.145,
  pln: 0.25, czk: 0.043, huf: 0.0027, ron: 0.22, zar: 0.055, krw: 0.00073, twd: 0.031, thb: 0.028,
  myr: 0.22, idr: 0.000063, php: 0.017, ils: 0.27, aed: 0.27, sar: 0.27, try: 0.03, clp: 0.0011,
  cop: 0.00025, pen: 0.27, ars: 0.001, vnd: 0.00004, ugx: 0.00027, isk: 0.0073,
};

/** Currencies whose minor unit is the major unit (Stripe's zero-decimal list). */
export const ZERO_DECIMAL_CURRENCIES = new Set([
  'bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf', 'xof', 'xpf',
]);

/** USD per minor unit of a currency (what an amount column must be multiplied by). */
export function usdPerMinorUnit(currency: string | null | undefined): number {
  const c = (currency ?? 'usd').toLowerCase();
  const major = USD_PER_MAJOR_UNIT[c] ?? 1;
  return ZERO_DECIMAL_CURRENCIES.has(c) ? major : major / 100;
}

/** Which customers a query covers. */
export type FeatureScope =
  | { kind: 'all' }
  | { kind: 'accounts'; accounts: string[] }
  | { kind: 'customer'; account: string; customerId: string }
  /** a batch of one account's customers (the daily fan-out scores ~2,000 at a time) */
  | { kind: 'customers'; account: string; customerIds: readonly string[] };

/** The scope as a WHERE fragment on a table aliased `alias` with account and customer_id columns. */
export function scopeFilter(alias: string, scope: FeatureScope): SQL {
  const a = sql.raw(alias);
  if (scope.kind === 'all') return sql`true`;
  if (scope.kind === 'customer') return sql`(${a}.account = ${scope.account} and ${a}.customer_id = ${scope.customerId})`;
  // One array parameter, however large the batch.
  if (scope.kind === 'customers') return sql`(${a}.account = ${scope.account} and ${a}.customer_id = any(${pgArray(scope.customerIds)}::text[]))`;
  if (scope.accounts.length === 0) return sql`false`;
  return sql`${a}.account in (${sql.join(
    scope.accounts.map((x) => sql`${x}`),
    sql`, `,
  )})`;
}

function textList(values: readonly string[]): SQL {
  return sql.raw(values.map((v) => `'${v.replace(/'/g, "''")}'`).join(', '));
}

const LIVE_LIST = LIVE_STATUSES.map((v) => `'${v}'`).join(', ');
const ENDED = textList(ENDED_STATUSES);

/** `fx(currency, usd_per_minor)`: the rate table as an inline VALUES list (same SQL on both engines). */
function fxTable(): SQL {
  const rows = Object.keys(USD_PER_MAJOR_UNIT).map((c) => `('${c}', ${usdPerMinorUnit(c)}::float8)`);
  return sql.raw(`(values ${rows.join(', ')}) as fx(currency, usd_per_minor)`);
}

/** USD per minor unit for column `col` given a joined fx alias; unknown currency = 1 USD per 100 units. */
function usd(amount: SQL, fxAlias: string): SQL {
  return sql`(${amount})::float8 * coalesce(${sql.raw(fxAlias)}.usd_per_minor, 0.01)`;
}

function ts(at: number): SQL {
  return sql`${Math.floor(at)}::bigint`;
}

/** Interval of a price in months (fractional for day/week prices). */
const INTERVAL_MONTHS = sql.raw(`(case interval
  when 'month' then coalesce(nullif(interval_count, 0), 1)::float8
  when 'year' then 12.0 * coalesce(nullif(interval_count, 0), 1)
  when 'week' then coalesce(nullif(interval_count, 0), 1) * 12.0 / 52
  when 'day' then coalesce(nullif(interval_count, 0), 1) * 12.0 / 365
  else null end)`);

/** Each subscription's newest version at or before `at`, scope applied. */
export function subscriptionStatesAt(at: number, scope: FeatureScope): SQL {
  return sql`select distinct on (sv.account, sv.subscription_id) sv.*
    from subscription_versions sv
    where sv.valid_from <= ${ts(at)} and ${scopeFilter('sv', scope)}
    order by sv.account, sv.subscription_id, sv.valid_from desc, sv.rank desc, sv.event_id desc`;
}

/** Current state of a customer's subscriptions at `at` (one row per customer with any subscription). */
export interface SubscriptionStateRow {
  account: string;
  customer_id: string;
  live_subscriptions: number;
  mrr_usd: number | null;
  quantity: number | null;
  item_count: number | null;
  interval_months: number | null;
  any_cancel_at_period_end: boolean | null;
  any_trialing: boolean | null;
  trial_end: number | null;
  any_past_due: boolean | null;
  any_unpaid: boolean | null;
  any_paused: boolean | null;
  any_send_invoice: boolean | null;
  period_end: number | null;
  discount_active: boolean | null;
  discount_end: number | null;
  oldest_live_start: number | null;
  default_payment_methods: string[] | null;
  first_start: number | null;
  ended_subscriptions: number;
}

/**
 * Every customer's subscriptions as they stood at `at`: aggregates over their live subscriptions and
 * lifetime counts. Customers with `live_subscriptions = 0` are not live at `at`.
 *
 * Each query in this file reads one relation (plus the tiny fx VALUES list) and groups by customer;
 * the per-customer rows are joined in memory. Joins between large intermediate results are left out
 * on purpose: right after a bulk ingest the planner's row estimates are stale and it would pick
 * nested loops over them, which turns a one-second query into a quadratic one.
 */
export function subscriptionStateQuery(at: number, scope: FeatureScope): SQL {
  const t = ts(at);
  const live = sql.raw(`cur.status in (${LIVE_LIST})`);
  return sql`select cur.account, cur.customer_id,
      (count(*) filter (where ${live}))::float8 as live_subscriptions,
      (sum(${usd(sql`cur.mrr`, 'fx')}) filter (where ${live}))::float8 as mrr_usd,
      (sum(cur.quantity) filter (where ${live}))::float8 as quantity,
      (sum(cur.item_count) filter (where ${live}))::float8 as item_count,
      ((array_agg(${INTERVAL_MONTHS} order by cur.mrr desc, cur.subscription_id) filter (where ${live}))[1])::float8 as interval_months,
      bool_or(cur.cancel_at_period_end or (cur.cancel_at is not null and cur.cancel_at > ${t})) filter (where ${live}) as any_cancel_at_period_end,
      bool_or(cur.status = 'trialing') filter (where ${live}) as any_trialing,
      (max(cur.trial_end) filter (where cur.status = 'trialing'))::float8 as trial_end,
      bool_or(cur.status = 'past_due') filter (where ${live}) as any_past_due,
      bool_or(cur.status = 'unpaid') filter (where ${live}) as any_unpaid,
      bool_or(cur.status = 'paused' or cur.pause_behavior is not null) filter (where ${live}) as any_paused,
      bool_or(cur.collection_method = 'send_invoice') filter (where ${live}) as any_send_invoice,
      (min(cur.current_period_end) filter (where ${live} and cur.current_period_end > ${t}))::float8 as period_end,
      bool_or(coalesce(jsonb_array_length(cur.discount_coupons), 0) > 0 and (cur.discount_end is null or cur.discount_end > ${t})) filter (where ${live}) as discount_active,
      (min(cur.discount_end) filter (where ${live} and cur.discount_end > ${t}))::float8 as discount_end,
      (min(coalesce(cur.start_date, cur.created)) filter (where ${live}))::float8 as oldest_live_start,
      array_agg(cur.default_payment_method) filter (where ${live} and cur.default_payment_method is not null) as default_payment_methods,
      min(coalesce(cur.start_date, cur.created, cur.valid_from))::float8 as first_start,
      (count(*) filter (where cur.status in (${ENDED})))::float8 as ended_subscriptions
    from (${subscriptionStatesAt(at, scope)}) cur
    left join ${fxTable()} on fx.currency = lower(cur.currency)
    group by cur.account, cur.customer_id
    order by cur.account, cur.customer_id`;
}

export interface SubscriptionChangesRow {
  account: string;
  customer_id: string;
  upgrades_90d: number;
  downgrades_90d: number;
  seat_changes_90d: number;
  plan_changes: number;
  last_plan_change: number | null;
  status_changes_90d: number;
  downgrades_60d: number;
  upgrades_60d: number;
  seat_decreases_60d: number;
  discount_ended_at: number | null;
  /** lifetime sums of version-to-version changes while live: net seats and MRR (USD) gained since the start */
  seat_delta_total: number;
  mrr_usd_delta_total: number;
  upgrades_total: number;
  downgrades_total: number;
}

/** Plan, price, seat and status changes between consecutive subscription versions up to `at`. */
export function subscriptionChangesQuery(at: number, scope: FeatureScope): SQL {
  const t90 = ts(at - 90 * DAY_SECONDS);
  const t60 = ts(at - 60 * DAY_SECONDS);
  const stillLive = sql`(v.prev_status is not null and v.status not in (${ENDED}) and v.prev_status not in (${ENDED}))`;
  return sql`with v as (
      select sv.account, sv.customer_id, sv.valid_from, sv.status, sv.mrr, sv.quantity, sv.price_id, sv.discount_end, sv.currency,
        lag(sv.mrr) over w as prev_mrr, lag(sv.quantity) over w as prev_quantity,
        lag(sv.price_id) over w as prev_price, lag(sv.status) over w as prev_status
      from subscription_versions sv
      where sv.valid_from <= ${ts(at)} and ${scopeFilter('sv', scope)}
      window w as (partition by sv.account, sv.subscription_id order by sv.valid_from, sv.rank, sv.event_id)
    )
    select v.account, v.customer_id,
      (count(*) filter (where v.valid_from > ${t90} and v.prev_mrr is not null and v.mrr > v.prev_mrr
        and v.status not in (${ENDED}) and v.prev_status not in (${ENDED})))::float8 as upgrades_90d,
      (count(*) filter (where v.valid_from > ${t90} and v.prev_mrr is not null and v.mrr < v.prev_mrr
        and v.status not in (${ENDED}) and v.prev_status not in (${ENDED})))::float8 as downgrades_90d,
      (count(*) filter (where v.valid_from > ${t90} and v.prev_quantity is not null and v.quantity <> v.prev_quantity
        and v.status not in (${ENDED})))::float8 as seat_changes_90d,
      (count(*) filter (where v.prev_price is not null and v.price_id is distinct from v.prev_price))::float8 as plan_changes,
      (max(v.valid_from) filter (where v.status not in (${ENDED}) and ((v.prev_price is not null and v.price_id is distinct from v.prev_price)
        or (v.prev_mrr is not null and v.mrr <> v.prev_mrr))))::float8 as last_plan_change,
      (count(*) filter (where v.valid_from > ${t90} and v.prev_status is not null and v.status <> v.prev_status))::float8 as status_changes_90d,
      (count(*) filter (where v.valid_from > ${t60} and v.prev_mrr is not null and v.mrr < v.prev_mrr
        and v.status not in (${ENDED}) and v.prev_status not in (${ENDED})))::float8 as downgrades_60d,
      (count(*) filter (where v.valid_from > ${t60} and v.prev_mrr is not null and v.mrr > v.prev_mrr
        and v.status not in (${ENDED}) and v.prev_status not in (${ENDED})))::float8 as upgrades_60d,
      (count(*) filter (where v.valid_from > ${t60} and v.prev_quantity is not null and v.quantity < v.prev_quantity
        and v.status not in (${ENDED})))::float8 as seat_decreases_60d,
      (max(v.discount_end) filter (where v.discount_end <= ${ts(at)}))::float8 as discount_ended_at,
      coalesce(sum(v.quantity - v.prev_quantity) filter (where ${stillLive}), 0)::float8 as seat_delta_total,
      coalesce(sum(${usd(sql`v.mrr - v.prev_mrr`, 'fx')}) filter (where ${stillLive}), 0)::float8 as mrr_usd_delta_total,
      (count(*) filter (where ${stillLive} and v.mrr > v.prev_mrr))::float8 as upgrades_total,
      (count(*) filter (where ${stillLive} and v.mrr < v.prev_mrr))::float8 as downgrades_total
    from v left join ${fxTable()} on fx.currency = lower(v.currency)
    group by v.account, v.customer_id`;
}

export interface PaymentFailureFactsRow {
  account: string;
  customer_id: string;
  failures_30d: number;
  failures_60d: number;
  failures_90d: number;
  failures_365d: number;
  last_failed_at: number | null;
  dunning_attempt: number | null;
}

/**
 * Failed collection attempts known at `at`. The current dunning attempt counts failures in the last
 * 45 days on invoices still unpaid (not paid, voided or written off) at `at`.
 */
export function paymentFailureFactsQuery(at: number, scope: FeatureScope): SQL {
  const t = ts(at);
  const open = sql`(i.id is not null and (i.paid_at is null or i.paid_at > ${t}) and (i.voided_at is null or i.voided_at > ${t})
    and (i.marked_uncollectible_at is null or i.marked_uncollectible_at > ${t}))`;
  return sql`select pf.account, pf.customer_id,
      (count(*) filter (where pf.failed_at > ${ts(at - 30 * DAY_SECONDS)}))::float8 as failures_30d,
      (count(*) filter (where pf.failed_at > ${ts(at - 60 * DAY_SECONDS)}))::float8 as failures_60d,
      (count(*) filter (where pf.failed_at > ${ts(at - 90 * DAY_SECONDS)}))::float8 as failures_90d,
      (count(*) filter (where pf.failed_at > ${ts(at - 365 * DAY_SECONDS)}))::float8 as failures_365d,
      max(pf.failed_at)::float8 as last_failed_at,
      greatest(max(pf.attempt) filter (where pf.failed_at > ${ts(at - 45 * DAY_SECONDS)} and ${open}),
        count(*) filter (where pf.failed_at > ${ts(at - 45 * DAY_SECONDS)} and ${open}))::float8 as dunning_attempt
    from payment_failures pf
    left join invoices i on i.account = pf.account and i.id = pf.invoice_id
    where pf.failed_at <= ${t} and pf.customer_id is not null and ${scopeFilter('pf', scope)}
    group by pf.account, pf.customer_id`;
}

export interface InvoiceFactsRow {
  account: string;
  customer_id: string;
  open_amount_usd: number | null;
  open_invoices: number;
  max_days_open: number | null;
  median_days_to_pay: number | null;
  late_paid_share: number | null;
  /** amount due on the newest finalized invoice */
  last_amount: number | null;
  /** amounts due on up to three earlier invoices that were paid by `at` and not zero, newest first */
  previous_paid_amounts: number[] | null;
  uncollectible_365d: number;
  invoices_365d: number;
}

/**
 * Invoices finalized at or before `at`, judged by their status-transition times, so an invoice paid
 * after `at` still counts as open at `at`.
 */
export function invoiceFactsQuery(at: number, scope: FeatureScope): SQL {
  const t = ts(at);
  const t365 = ts(at - 365 * DAY_SECONDS);
  const open = sql`((i.paid_at is null or i.paid_at > ${t}) and (i.voided_at is null or i.voided_at > ${t})
    and (i.marked_uncollectible_at is null or i.marked_uncollectible_at > ${t}))`;
  const paid = sql`(i.paid_at is not null and i.paid_at <= ${t})`;
  return sql`with i as (
      select inv.*, row_number() over (partition by inv.account, inv.customer_id order by inv.finalized_at desc, inv.id desc) as rn
      from invoices inv
      where inv.finalized_at is not null and inv.finalized_at <= ${t} and inv.customer_id is not null and ${scopeFilter('inv', scope)}
    )
    select i.account, i.customer_id,
      sum(${usd(sql`i.amount_due`, 'fx')}) filter (where ${open} and i.amount_due > 0)::float8 as open_amount_usd,
      (count(*) filter (where ${open} and i.amount_due > 0))::float8 as open_invoices,
      max((${t} - coalesce(i.due_date, i.finalized_at)) / 86400.0) filter (where ${open} and i.amount_due > 0)::float8 as max_days_open,
      (percentile_cont(0.5) within group (order by (i.paid_at - i.finalized_at) / 86400.0)
        filter (where ${paid} and i.finalized_at > ${t365}))::float8 as median_days_to_pay,
      ((count(*) filter (where ${paid} and i.finalized_at > ${t365} and i.paid_at - i.finalized_at > 7 * 86400))::float8
        / nullif(count(*) filter (where ${paid} and i.finalized_at > ${t365}), 0))::float8 as late_paid_share,
      max(i.amount_due) filter (where i.rn = 1)::float8 as last_amount,
      -- the base of invoice_amount_trend: earlier invoices the customer actually paid, so a $0 trial
      -- invoice or one never paid is no base
      (array_agg(i.amount_due::float8 order by i.finalized_at desc, i.id desc) filter (where i.rn >= 2 and i.amount_due > 0 and ${paid}))[1:3] as previous_paid_amounts,
      (count(*) filter (where i.marked_uncollectible_at is not null and i.marked_uncollectible_at <= ${t}
        and i.marked_uncollectible_at > ${t365}))::float8 as uncollectible_365d,
      (count(*) filter (where i.finalized_at > ${t365}))::float8 as invoices_365d
    from i left join ${fxTable()} on fx.currency = lower(i.currency)
    group by i.account, i.customer_id`;
}

export interface PaymentMethodRow {
  account: string;
  customer_id: string;
  id: string;
  type: string | null;
  card_funding: string | null;
  card_brand: string | null;
  card_wallet: string | null;
  exp_month: number | null;
  exp_year: number | null;
  attached_at: number;
  detached_at: number | null;
  src_created: number;
  /** the row shows a backfill snapshot (fetched now), not an event of its time */
  from_snapshot: boolean;
}

/**
 * Among one method's events at the same second, a backfill snapshot (the object as fetched, dated
 * at its `created`) ranks below real and rebuilt-history events, which tell the card as it was then.
 */
const SNAPSHOT_LAST = sql.raw(`(left(e.id, 9) = 'evt_sync_' and left(e.id, 11) <> 'evt_sync_h_')`);

/** Every payment method attached at or before `at` (detached ones too, for change counts). */
export function paymentMethodsQuery(at: number, scope: FeatureScope): SQL {
  const t = ts(at);
  // The wallet (Apple Pay, Google Pay...) is not projected: read it from the newest payment-method event
  // at or before `at` (the partial index on payment_method events by object makes this one probe each).
  return sql`select pm.account, pm.customer_id, pm.id, pm.type, pm.card_funding, pm.card_brand, pm.exp_month::float8 as exp_month,
      pm.exp_year::float8 as exp_year, coalesce(pm.attached_at, pm.created)::float8 as attached_at,
      pm.detached_at::float8 as detached_at, pm.src_created::float8 as src_created,
      (left(pm.src_event_id, 9) = 'evt_sync_' and left(pm.src_event_id, 11) <> 'evt_sync_h_') as from_snapshot,
      (select e.payload->'data'->'object'->'card'->'wallet'->>'type' from stripe_events e
        where e.account = pm.account and e.object_id = pm.id and e.type like 'payment_method.%' and e.created <= ${t}
        order by e.created desc, ${SNAPSHOT_LAST}, e.id desc limit 1) as card_wallet
    from payment_methods pm
    where pm.customer_id is not null and coalesce(pm.attached_at, pm.created) <= ${t} and ${scopeFilter('pm', scope)}`;
}

export interface CardAtRow {
  account: string;
  id: string;
  exp_month: number | null;
  exp_year: number | null;
  funding: string | null;
}

/**
 * The card details of payment methods as their newest event at or before `at` described them. Used
 * only for payment methods whose projection row was rewritten later (e.g. an automatic card update
 * changed the expiry) or shows a backfill snapshot (dated at the method's creation but fetched
 * now): the row shows the new card, the event store still has the old one (for a backfilled
 * account, as rebuilt from the charges made with it).
 */
export function cardsAtQuery(at: number, keys: { account: string; id: string }[]): SQL {
  return sql`select distinct on (e.account, e.object_id) e.account, e.object_id as id,
      (e.payload->'data'->'object'->'card'->>'exp_month')::float8 as exp_month,
      (e.payload->'data'->'object'->'card'->>'exp_year')::float8 as exp_year,
      e.payload->'data'->'object'->'card'->>'funding' as funding
    from json_to_recordset(${JSON.stringify(keys)}::json) as k(account text, id text)
    join stripe_events e on e.account = k.account and e.object_id = k.id
    where e.created <= ${ts(at)} and e.type like 'payment_method.%'
    order by e.account, e.object_id, e.created desc, ${SNAPSHOT_LAST}, e.id desc`;
}

export interface RefundFactsRow {
  account: string;
  customer_id: string;
  refunds_60d: number;
  refunds_90d: number;
  refunded_usd_90d: number;
}

export function refundFactsQuery(at: number, scope: FeatureScope): SQL {
  const t90 = ts(at - 90 * DAY_SECONDS);
  return sql`select rf.account, rf.customer_id, (count(*) filter (where rf.created > ${ts(at - 60 * DAY_SECONDS)}))::float8 as refunds_60d,
      (count(*) filter (where rf.created > ${t90}))::float8 as refunds_90d,
      coalesce(sum(${usd(sql`rf.amount`, 'fx')}) filter (where rf.created > ${t90}), 0)::float8 as refunded_usd_90d
    from refunds rf left join ${fxTable()} on fx.currency = lower(rf.currency)
    where rf.created <= ${ts(at)} and rf.customer_id is not null and ${scopeFilter('rf', scope)}
    group by rf.account, rf.customer_id`;
}

export interface CreditNoteFactsRow {
  account: string;
  customer_id: string;
  credit_notes_90d: number;
  credited_usd_90d: number;
}

/** Credit notes issued in the 90 days to `at` and not voided by then (a voided note credited nothing). */
export function creditNoteFactsQuery(at: number, scope: FeatureScope): SQL {
  return sql`select cn.account, cn.customer_id, count(*)::float8 as credit_notes_90d,
      coalesce(sum(${usd(sql`cn.amount`, 'fx')}), 0)::float8 as credited_usd_90d
    from credit_notes cn left join ${fxTable()} on fx.currency = lower(cn.currency)
    where cn.created <= ${ts(at)} and cn.created > ${ts(at - 90 * DAY_SECONDS)} and (cn.voided_at is null or cn.voided_at > ${ts(at)})
      and cn.customer_id is not null and ${scopeFilter('cn', scope)}
    group by cn.account, cn.customer_id`;
}

export interface CommitmentFactsRow {
  account: string;
  customer_id: string;
  commitment_end: number;
}

/**
 * When the customer's contract commitment in force at `at` ends: the end of the current phase of a
 * subscription schedule that was managing a subscription then (created by `at`, not yet released,
 * canceled or completed), else a live subscription's fixed end (`cancel_at` with no cancellation
 * request: neither cancel_at_period_end nor canceled_at, which mark a customer who asked to leave).
 * The latest such end when several.
 */
export function commitmentFactsQuery(at: number, scope: FeatureScope): SQL {
  return sql`select account, customer_id, max(commitment_end)::float8 as commitment_end from (
      select ss.account, ss.customer_id, (p->>'end')::bigint as commitment_end
      from subscription_schedules ss cross join lateral jsonb_array_elements(coalesce(ss.phases, '[]'::jsonb)) p
      where ss.created <= ${ts(at)} and coalesce(ss.released_at, ss.canceled_at, ss.completed_at, ${ts(at + 1)}) > ${ts(at)}
        and (p->>'start')::bigint <= ${ts(at)} and (p->>'end')::bigint > ${ts(at)}
        and ss.customer_id is not null and ${scopeFilter('ss', scope)}
      union all
      select sv.account, sv.customer_id, sv.cancel_at from (
        select distinct on (sv.account, sv.subscription_id) sv.account, sv.customer_id, sv.cancel_at, sv.status, sv.cancel_at_period_end, sv.canceled_at
        from subscription_versions sv where sv.valid_from <= ${ts(at)} and ${scopeFilter('sv', scope)}
        order by sv.account, sv.subscription_id, sv.valid_from desc, sv.rank desc, sv.event_id desc) sv
      where sv.cancel_at > ${ts(at)} and sv.status in ('active', 'trialing', 'past_due') and not sv.cancel_at_period_end and sv.canceled_at is null
    ) c group by account, customer_id`;
}

export interface DisputeFactsRow {
  account: string;
  customer_id: string;
  disputes_90d: number;
  disputes_ever: number;
}

export function disputeFactsQuery(at: number, scope: FeatureScope): SQL {
  return sql`select dp.account, dp.customer_id, (count(*) filter (where dp.created > ${ts(at - 90 * DAY_SECONDS)}))::float8 as disputes_90d,
      count(*)::float8 as disputes_ever
    from disputes dp
    where dp.created <= ${ts(at)} and dp.customer_id is not null and ${scopeFilter('dp', scope)}
    group by dp.account, dp.customer_id`;
}

export interface ChargeFactsRow {
  account: string;
  customer_id: string;
  last_charge_method: string | null;
  failed_charges_90d: number;
}

/** The payment method type of the latest charge (when no payment method object is known) and failed charges. */
export function chargeFactsQuery(at: number, scope: FeatureScope): SQL {
  return sql`select ch.account, ch.customer_id,
      (array_agg(ch.payment_method_type order by ch.created desc, ch.id desc) filter (where ch.payment_method_type is not null))[1] as last_charge_method,
      (count(*) filter (where ch.created > ${ts(at - 90 * DAY_SECONDS)} and ch.status = 'failed'))::float8 as failed_charges_90d
    from charges ch
    where ch.created <= ${ts(at)} and ch.customer_id is not null and ${scopeFilter('ch', scope)}
    group by ch.account, ch.customer_id`;
}

export interface DiscountFactsRow {
  account: string;
  customer_id: string;
  active_discounts: number;
  discount_end: number | null;
  max_percent_off: number | null;
  /** newest time a discount ran out or was removed, at or before asOf */
  last_discount_ended: number | null;
}

/** Discounts in force at `at` (started, not ended, not removed), and when the last one ran out. */
export function discountFactsQuery(at: number, scope: FeatureScope): SQL {
  const t = ts(at);
  const active = sql`(dc."end" is null or dc."end" > ${t}) and (dc.deleted_at is null or dc.deleted_at > ${t})`;
  const endedAt = sql`least(dc."end", dc.deleted_at)`;
  return sql`select dc.account, dc.customer_id, (count(*) filter (where ${active}))::float8 as active_discounts,
      (min(dc."end") filter (where ${active} and dc."end" > ${t}))::float8 as discount_end,
      (max(dc.percent_off) filter (where ${active}))::float8 as max_percent_off,
      (max(${endedAt}) filter (where ${endedAt} <= ${t}))::float8 as last_discount_ended
    from discounts dc
    where dc.customer_id is not null and coalesce(dc.start, dc.src_created) <= ${t} and ${scopeFilter('dc', scope)}
    group by dc.account, dc.customer_id`;
}

/** Newest time the data knows about: the latest stored event, else the latest projected version. */
export function dataEndQuery(accounts?: string[]): SQL {
  const scope: FeatureScope = accounts ? { kind: 'accounts', accounts } : { kind: 'all' };
  const ev = accounts ? sql`e.account in (${sql.join(accounts.map((a) => sql`${a}`), sql`, `)})` : sql`true`;
  return sql`select greatest(
      (select max(e.created) from stripe_events e where ${ev}),
      (select max(sv.valid_from) from subscription_versions sv where ${scopeFilter('sv', scope)})
    )::float8 as data_end,
    least(
      (select min(e.created) from stripe_events e where ${ev}),
      (select min(sv.valid_from) from subscription_versions sv where ${scopeFilter('sv', scope)})
    )::float8 as data_start`;
}

/** One item of a live subscription at `at`, as the subscription's own event payload listed it. */
export interface CatalogueItemRow {
  account: string;
  customer_id: string;
  subscription_id: string;
  price_id: string | null;
  product_id: string | null;
  nickname: string | null;
  quantity: number | null;
  unit_amount: number | null;
  interval: string | null;
  interval_count: number | null;
  usage_type: string | null;
  currency: string | null;
}

/**
 * The items (price, product, quantity, amount) of every live subscription version at `at`, read from
 * the payload of the event that produced that version, so the item mix is point-in-time like the
 * rest (the subscription_items projection only holds the current items). The join is by the event's
 * primary key, one lookup per live subscription.
 */
export function catalogueItemsQuery(at: number, scope: FeatureScope): SQL {
  const product = sql.raw(`case when jsonb_typeof(it->'price'->'product') = 'object' then it->'price'->'product'->>'id'
      else coalesce(it->'price'->>'product', it->'plan'->>'product') end`);
  return sql`select cur.account, cur.customer_id, cur.subscription_id,
      coalesce(it->'price'->>'id', it->'plan'->>'id') as price_id, ${product} as product_id,
      coalesce(it->'price'->>'nickname', it->'plan'->>'nickname') as nickname,
      (it->>'quantity')::float8 as quantity,
      coalesce(it->'price'->>'unit_amount', it->'plan'->>'amount')::float8 as unit_amount,
      coalesce(it->'price'->'recurring'->>'interval', it->'plan'->>'interval') as interval,
      coalesce(it->'price'->'recurring'->>'interval_count', it->'plan'->>'interval_count')::float8 as interval_count,
      coalesce(it->'price'->'recurring'->>'usage_type', it->'plan'->>'usage_type') as usage_type,
      lower(coalesce(it->'price'->>'currency', cur.currency)) as currency
    from (${subscriptionStatesAt(at, scope)}) cur
    join stripe_events e on e.id = cur.event_id
    cross join lateral jsonb_array_elements(case when jsonb_typeof(e.payload->'data'->'object'->'items'->'data') = 'array'
      then e.payload->'data'->'object'->'items'->'data' else '[]'::jsonb end) it
    where cur.status in (${sql.raw(LIVE_LIST)})`;
}

export interface CustomerProfileRow {
  account: string;
  customer_id: string;
  country: string | null;
  tax_exempt: string | null;
  tax_ids: number | null;
}

/**
 * Country and tax status as the customer's newest invoice finalized at or before `at` recorded them
 * (Stripe freezes customer_address, customer_tax_exempt and customer_tax_ids on an invoice when it is
 * finalized, so this is point-in-time); the customers projection's country fills in when no invoice
 * carries an address.
 */
export function customerProfileQuery(at: number, scope: FeatureScope): SQL {
  return sql`select c.account, c.customer_id,
      coalesce(e.payload->'data'->'object'->'customer_address'->>'country', cu.country) as country,
      e.payload->'data'->'object'->>'customer_tax_exempt' as tax_exempt,
      (case when jsonb_typeof(e.payload->'data'->'object'->'customer_tax_ids') = 'array'
        then jsonb_array_length(e.payload->'data'->'object'->'customer_tax_ids') else 0 end)::float8 as tax_ids
    from (select distinct on (inv.account, inv.customer_id) inv.account, inv.customer_id, inv.src_event_id
        from invoices inv
        where inv.customer_id is not null and inv.finalized_at <= ${ts(at)} and ${scopeFilter('inv', scope)}
        order by inv.account, inv.customer_id, inv.finalized_at desc, inv.id desc) c
    join stripe_events e on e.id = c.src_event_id
    left join customers cu on cu.account = c.account and cu.id = c.customer_id`;
}

/** The newest name of each product, from product.* events (ids: a vocabulary's worth). */
export function productNamesQuery(productIds: readonly string[]): SQL {
  return sql`select distinct on (e.object_id) e.object_id as id, e.payload->'data'->'object'->>'name' as name
    from stripe_events e
    where e.type like 'product.%' and e.object_id = any(${pgArray(productIds)}::text[])
    order by e.object_id, e.created desc, e.id desc`;
}
