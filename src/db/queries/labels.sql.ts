import { sql, type SQL } from 'drizzle-orm';
import { DAY_SECONDS, ENDED_STATUSES, LIVE_STATUSES, scopeFilter, subscriptionStatesAt, type FeatureScope } from './features.sql.js';

export interface ChurnLabelRow {
  account: string;
  customer_id: string;
  churned: boolean;
  /** the churn moment (unix seconds), for churners */
  churned_at: number | null;
  ended_at: number | null;
  cancellation_reason: string | null;
  /** failed attempts in the 45 days before the churn moment on invoices still unpaid then */
  dunning_failures: number;
}

/**
 * When a customer counts as gone:
 * - 'request': when their last live subscription was cancelled — the cancellation request
 *   (`canceled_at`, which Stripe sets when cancel_at_period_end is requested, not at the period end),
 *   or the end itself when nobody asked (dunning deletion, an incomplete subscription expiring).
 *   Customers whose every live subscription is already set to cancel at asOf have churned already
 *   and are left out of the population.
 * - 'end': when their last live subscription actually ends (`ended_at`).
 */
export type ChurnMoment = 'request' | 'end';

function list(values: readonly string[]): SQL {
  return sql.raw(values.map((v) => `'${v}'`).join(', '));
}

const LIVE = list(LIVE_STATUSES);
const ENDED = list(ENDED_STATUSES);
const CANCELLING = sql.raw(`(cancel_at_period_end or cancel_at is not null)`);

/**
 * For every customer in the population at `asOf`: did they churn by `asOf + horizon`? A customer
 * churns when no subscription that is live (and, in 'request' mode, not set to cancel) is left at
 * the horizon's end, and the moment the last one went falls inside (asOf, asOf + horizon]. Someone
 * who cancels and re-subscribes (or withdraws the cancellation) within the horizon did not churn.
 */
export function churnLabelsQuery(asOf: number, horizonSeconds: number, scope: FeatureScope, moment: ChurnMoment = 'request'): SQL {
  const t0 = sql`${Math.floor(asOf)}::bigint`;
  const t1 = sql`${Math.floor(asOf + horizonSeconds)}::bigint`;
  const request = moment === 'request';
  // a subscription still counting as a customer relationship
  const keeps = request ? sql`(s.status in (${LIVE}) and not ${CANCELLING})` : sql`(s.status in (${LIVE}))`;
  // when a subscription that no longer keeps the customer was let go
  const goneAt = request
    ? sql`(case when s.status in (${ENDED}) then coalesce(s.canceled_at, s.ended_at, s.valid_from)
        when s.status in (${LIVE}) and ${CANCELLING} then coalesce(s.canceled_at, s.valid_from) end)`
    : sql`(case when s.status in (${ENDED}) then coalesce(s.ended_at, s.canceled_at, s.valid_from) end)`;
  return sql`with s0 as (${subscriptionStatesAt(asOf, scope)}),
    population as (
      select s.account, s.customer_id from s0 s
      group by s.account, s.customer_id
      having bool_or(s.status in (${LIVE})) ${request ? sql`and bool_or(${keeps})` : sql``}
    ),
    s1 as (
      select s.account, s.customer_id, s.subscription_id, s.status, s.ended_at, s.cancellation_reason,
        ${keeps} as keeps, ${goneAt} as gone_at
      from (${subscriptionStatesAt(asOf + horizonSeconds, scope)}) s
      join population p on p.account = s.account and p.customer_id = s.customer_id
    ),
    agg as (
      select s1.account, s1.customer_id, bool_or(s1.keeps) as any_kept,
        max(s1.gone_at) as last_gone,
        (array_agg(s1.cancellation_reason order by s1.gone_at desc, s1.subscription_id) filter (where s1.gone_at is not null))[1] as reason,
        max(s1.ended_at) filter (where s1.status in (${ENDED})) as ended_at
      from s1 group by s1.account, s1.customer_id
    ),
    churners as (select * from agg where not agg.any_kept and agg.last_gone > ${t0} and agg.last_gone <= ${t1}),
    fails as (
      select c.account, c.customer_id, count(*)::float8 as n
      from churners c
      join payment_failures pf on pf.account = c.account and pf.customer_id = c.customer_id
      left join invoices i on i.account = pf.account and i.id = pf.invoice_id
      where pf.failed_at > c.last_gone - ${45 * DAY_SECONDS} and pf.failed_at <= c.last_gone
        and (i.id is null or i.paid_at is null or i.paid_at > c.last_gone)
      group by c.account, c.customer_id
    )
    select p.account, p.customer_id, (c.account is not null) as churned, c.last_gone::float8 as churned_at,
      c.ended_at::float8 as ended_at, c.reason as cancellation_reason, coalesce(f.n, 0)::float8 as dunning_failures
    from population p
    left join churners c on c.account = p.account and c.customer_id = p.customer_id
    left join fails f on f.account = p.account and f.customer_id = p.customer_id
    order by p.account, p.customer_id`;
}
