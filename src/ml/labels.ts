import type { Database } from '../db/client.js';
import { DAY_SECONDS, type FeatureScope } from '../db/queries/features.sql.js';
import { churnLabelsQuery, type ChurnLabelRow, type ChurnMoment } from '../db/queries/labels.sql.js';

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

/** Voluntary or involuntary, from the cancellation reason and the failures before the end. */
export function churnTypeOf(row: Pick<ChurnLabelRow, 'churned' | 'cancellation_reason' | 'dunning_failures'>): ChurnType {
  if (!row.churned) return 'none';
  if (row.cancellation_reason && INVOLUNTARY_REASONS.has(row.cancellation_reason)) return 'involuntary';
  if (row.cancellation_reason !== 'cancellation_requested' && Number(row.dunning_failures) > 0) return 'involuntary';
  return 'voluntary';
}

export interface LabelOptions {
  horizonDays?: number;
  accounts?: string[];
  churnMoment?: ChurnMoment;
}

/** Labels for every customer in the population at `asOf` (optionally of some accounts), ordered by account, customer. */
export async function churnLabelsAt(database: Database, asOf: number, options: LabelOptions = {}): Promise<ChurnLabel[]> {
  const horizonDays = options.horizonDays ?? DEFAULT_HORIZON_DAYS;
  if (!(horizonDays > 0)) throw new Error('horizonDays must be positive');
  const scope: FeatureScope = options.accounts ? { kind: 'accounts', accounts: options.accounts } : { kind: 'all' };
  const rows = await database.query<ChurnLabelRow>(churnLabelsQuery(asOf, horizonDays * DAY_SECONDS, scope, options.churnMoment ?? 'request'));
  return rows.map((r) => {
    const churned = r.churned === true || (r.churned as unknown) === 't';
    return {
      account: r.account,
      customerId: r.customer_id,
      churned,
      churnType: churnTypeOf({ ...r, churned }),
      churnedAt: churned && r.churned_at !== null ? Number(r.churned_at) : null,
      endedAt: churned && r.ended_at !== null ? Number(r.ended_at) : null,
      cancellationReason: churned ? r.cancellation_reason : null,
    };
  });
}
