import type { Database } from '../db/client.js';
import { DAY_SECONDS, type FeatureScope } from '../db/queries/features.sql.js';
import {
  customerStandingQuery,
  DUNNING_LOOKBACK_SECONDS,
  failuresBetweenQuery,
  type ChurnMoment,
  type CustomerStandingRow,
  type FailureWindowRow,
} from '../db/queries/labels.sql.js';

export type { ChurnMoment };
import type { CustomerKey } from './features.js';

/**
 * Churn labels: did a customer who was live at `asOf` stop being a customer within the horizon?
 *
 * A customer churns when their last live subscription goes and nothing live remains at the
 * horizon's end. By default ('request') the churn moment is the cancellation request: Stripe sets
 * `canceled_at` when cancel_at_period_end is requested, and that is when the customer decided (and
 * when the synthetic world's truth says they churned); the subscription itself may run on for a
 * month or a year. Customers already set to cancel at asOf have churned already and are not in the
 * population. With `churnMoment: 'end'` the moment is the end of the last subscription (status
 * canceled or incomplete_expired, `ended_at` inside (asOf, asOf + horizon]). Involuntary
 * churn is churn the customer did not choose: Stripe's cancellation reason 'payment_failed' (or
 * 'payment_disputed'), or an end without an explicit cancellation request that came while invoices
 * were failing (the preceding dunning). Everything else is voluntary.
 */

export const DEFAULT_HORIZON_DAYS = 30;

export type ChurnType = 'none' | 'voluntary' | 'involuntary';
/** the numeric codes LabelledData.churnType uses */
export const CHURN_TYPE_CODE: Record<ChurnType, 0 | 1 | 2> = { none: 0, voluntary: 1, involuntary: 2 };

export interface ChurnLabel extends CustomerKey {
  churned: boolean;
  churnType: ChurnType;
  /** the churn moment (unix seconds), for churners */
  churnedAt: number | null;
  /** when the last subscription ended, if it has by the horizon's end */
  endedAt: number | null;
  cancellationReason: string | null;
}

const INVOLUNTARY_REASONS = new Set(['payment_failed', 'payment_disputed']);

/** Voluntary or involuntary, from the cancellation reason and the failures before the churn moment. */
export function churnTypeOf(churned: boolean, reason: string | null, dunningFailures: number): ChurnType {
  if (!churned) return 'none';
  if (reason && INVOLUNTARY_REASONS.has(reason)) return 'involuntary';
  if (reason !== 'cancellation_requested' && dunningFailures > 0) return 'involuntary';
  return 'voluntary';
}

export interface LabelOptions {
  horizonDays?: number;
  accounts?: string[];
  churnMoment?: ChurnMoment;
}

const keyOf = (account: string, customerId: string) => `${account}\u0001${customerId}`;
const truthy = (v: unknown) => v === true || v === 't';

/**
 * Labels for every customer in the population at `asOf` (optionally of some accounts), ordered by
 * account, customer. Three set-based reads: standing at asOf (the population), standing at the
 * horizon's end (the outcome), failed payments in between (the churn type).
 */
export async function churnLabelsAt(database: Database, asOf: number, options: LabelOptions = {}): Promise<ChurnLabel[]> {
  const horizonDays = options.horizonDays ?? DEFAULT_HORIZON_DAYS;
  if (!(horizonDays > 0)) throw new Error('horizonDays must be positive');
  const moment = options.churnMoment ?? 'request';
  const scope: FeatureScope = options.accounts ? { kind: 'accounts', accounts: options.accounts } : { kind: 'all' };
  const until = asOf + horizonDays * DAY_SECONDS;
  const [before, after, failures] = await Promise.all([
    database.query<CustomerStandingRow>(customerStandingQuery(asOf, scope, moment)),
    database.query<CustomerStandingRow>(customerStandingQuery(until, scope, moment)),
    database.query<FailureWindowRow>(failuresBetweenQuery(asOf - DUNNING_LOOKBACK_SECONDS, until, scope)),
  ]);
  const outcome = new Map(after.map((r) => [keyOf(r.account, r.customer_id), r]));
  const failuresOf = new Map<string, FailureWindowRow[]>();
  for (const f of failures) {
    const k = keyOf(f.account, f.customer_id);
    const list = failuresOf.get(k);
    if (list) list.push(f);
    else failuresOf.set(k, [f]);
  }
  const labels: ChurnLabel[] = [];
  for (const b of before) {
    // the population: live at asOf, and (counting at the request) not already set to cancel
    if (!truthy(b.live) || !truthy(b.kept)) continue;
    const k = keyOf(b.account, b.customer_id);
    const o = outcome.get(k);
    const gone = o?.last_gone == null ? null : Number(o.last_gone);
    const churned = !!o && !truthy(o.kept) && gone !== null && gone > asOf && gone <= until;
    // failed attempts in the dunning before the churn moment, on invoices not paid by then
    const dunning = churned
      ? (failuresOf.get(k) ?? []).filter((f) => f.failed_at > gone! - DUNNING_LOOKBACK_SECONDS && f.failed_at <= gone! && (f.paid_at === null || f.paid_at > gone!)).length
      : 0;
    labels.push({
      account: b.account,
      customerId: b.customer_id,
      churned,
      churnType: churnTypeOf(churned, o?.reason ?? null, dunning),
      churnedAt: churned ? gone : null,
      endedAt: churned && o?.ended_at != null ? Number(o.ended_at) : null,
      cancellationReason: churned ? (o?.reason ?? null) : null,
    });
  }
  return labels;
}
