import { sql, type SQL } from 'drizzle-orm';
import { DAY_SECONDS, ENDED_STATUSES, LIVE_STATUSES, scopeFilter, subscriptionStatesAt, type FeatureScope } from './features.sql.js';

export interface ChurnLabelRow {
  account: string;
  customer_id: string;
  churned: boolean;
  ended_at: number | null;
  cancellation_reason: string | null;
  /** failed attempts in the 45 days before the end on invoices still unpaid when it ended */
  dunning_failures: number;
}

function list(values: readonly string[]): SQL {
  return sql.raw(values.map((v) => `'${v}'`).join(', '));
}

/**
 * For every customer with a live subscription at `asOf`: did they churn by `asOf + horizon`? A
 * customer churns when they have no live subscription left at the horizon's end and one of their
 * subscriptions ended inside (asOf, asOf + horizon]. Someone who cancels and re-subscribes within the
 * horizon did not churn. The subscription that ended last gives the reason.
 */
export function churnLabelsQuery(asOf: number, horizonSeconds: number, scope: FeatureScope): SQL {
  const t0 = sql`${Math.floor(asOf)}::bigint`;
  const t1 = sql`${Math.floor(asOf + horizonSeconds)}::bigint`;
  const LIVE = list(LIVE_STATUSES);
  const ENDED = list(ENDED_STATUSES);
  return sql`with s0 as (${subscriptionStatesAt(asOf, scope)}),
    live0 as (select distinct s0.account, s0.customer_id from s0 where s0.status in (${LIVE})),
    s1 as (
      select s.*, coalesce(s.ended_at, s.canceled_at, s.valid_from) as end_time
      from (${subscriptionStatesAt(asOf + horizonSeconds, scope)}) s
      join live0 l on l.account = s.account and l.customer_id = s.customer_id
    ),
    agg as (
      select s1.account, s1.customer_id, bool_or(s1.status in (${LIVE})) as any_live,
        max(s1.end_time) filter (where s1.status in (${ENDED}) and s1.end_time > ${t0} and s1.end_time <= ${t1}) as last_end,
        (array_agg(s1.cancellation_reason order by s1.end_time desc, s1.subscription_id)
          filter (where s1.status in (${ENDED}) and s1.end_time > ${t0} and s1.end_time <= ${t1}))[1] as reason
      from s1 group by s1.account, s1.customer_id
    ),
    churners as (select * from agg where not agg.any_live and agg.last_end is not null),
    fails as (
      select c.account, c.customer_id, count(*)::float8 as n
      from churners c
      join payment_failures pf on pf.account = c.account and pf.customer_id = c.customer_id
      left join invoices i on i.account = pf.account and i.id = pf.invoice_id
      where pf.failed_at > c.last_end - ${45 * DAY_SECONDS} and pf.failed_at <= c.last_end
        and (i.id is null or i.paid_at is null or i.paid_at > c.last_end)
      group by c.account, c.customer_id
    )
    select l.account, l.customer_id, (c.account is not null) as churned, c.last_end::float8 as ended_at,
      c.reason as cancellation_reason, coalesce(f.n, 0)::float8 as dunning_failures
    from live0 l
    left join churners c on c.account = l.account and c.customer_id = l.customer_id
    left join fails f on f.account = l.account and f.customer_id = l.customer_id
    where ${scopeFilter('l', scope)}
    order by l.account, l.customer_id`;
}
