import { sql, type SQL } from 'drizzle-orm';
import { DAY_SECONDS, ENDED_STATUSES, LIVE_STATUSES, scopeFilter, subscriptionStatesAt, type FeatureScope } from './features.sql.js';

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
const CANCELLING = sql.raw(`(s.cancel_at_period_end or s.cancel_at is not null)`);

function keeps(moment: ChurnMoment): SQL {
  return moment === 'request' ? sql`(s.status in (${LIVE}) and not ${CANCELLING})` : sql`(s.status in (${LIVE}))`;
}

/** When a subscription that no longer keeps the customer was let go (null while it keeps them). */
function goneAt(moment: ChurnMoment): SQL {
  return moment === 'request'
    ? sql`(case when s.status in (${ENDED}) then coalesce(s.canceled_at, s.ended_at, s.valid_from)
        when s.status in (${LIVE}) and ${CANCELLING} then coalesce(s.canceled_at, s.valid_from) end)`
    : sql`(case when s.status in (${ENDED}) then coalesce(s.ended_at, s.canceled_at, s.valid_from) end)`;
}

export interface CustomerStandingRow {
  account: string;
  customer_id: string;
  /** a live subscription (in 'request' mode: one not set to cancel) exists at the time asked */
  kept: boolean;
  live: boolean;
  /** newest moment a subscription let the customer go, at or before the time asked */
  last_gone: number | null;
  /** cancellation reason of that subscription */
  reason: string | null;
  ended_at: number | null;
}

/**
 * Every customer's standing at `at` from their subscriptions' states then: still kept, and when and
 * why the last subscription let them go. One relation, grouped by customer (no joins: see
 * features.sql.ts on stale planner estimates after bulk loads).
 */
export function customerStandingQuery(at: number, scope: FeatureScope, moment: ChurnMoment): SQL {
  const gone = goneAt(moment);
  return sql`select s.account, s.customer_id,
      coalesce(bool_or(${keeps(moment)}), false) as kept,
      coalesce(bool_or(s.status in (${LIVE})), false) as live,
      max(${gone})::float8 as last_gone,
      (array_agg(s.cancellation_reason order by ${gone} desc, s.subscription_id) filter (where ${gone} is not null))[1] as reason,
      (max(s.ended_at) filter (where s.status in (${ENDED})))::float8 as ended_at
    from (${subscriptionStatesAt(at, scope)}) s
    group by s.account, s.customer_id
    order by s.account, s.customer_id`;
}

export interface FailureWindowRow {
  account: string;
  customer_id: string;
  failed_at: number;
  /** when the failed invoice was paid (null: never) */
  paid_at: number | null;
}

/** Failed attempts in (from, to], with when their invoice was paid. */
export function failuresBetweenQuery(from: number, to: number, scope: FeatureScope): SQL {
  return sql`select pf.account, pf.customer_id, pf.failed_at::float8 as failed_at,
      i.paid_at::float8 as paid_at
    from payment_failures pf
    left join invoices i on i.account = pf.account and i.id = pf.invoice_id
    where pf.failed_at > ${Math.floor(from)}::bigint and pf.failed_at <= ${Math.floor(to)}::bigint
      and pf.customer_id is not null and ${scopeFilter('pf', scope)}`;
}

export const DUNNING_LOOKBACK_SECONDS = 45 * DAY_SECONDS;
