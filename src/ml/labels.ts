import type { Database } from '../db/client.js';
import { DAY_SECONDS, type FeatureScope } from '../db/queries/features.sql.js';
import { churnLabelsQuery, type ChurnLabelRow } from '../db/queries/labels.sql.js';
import type { CustomerKey } from './features.js';

/**
 * Churn labels: did a customer who was live at `asOf` stop being a customer within the horizon?
 *
 * A customer churns when their last live subscription ends (status canceled or incomplete_expired,
 * ended inside (asOf, asOf + horizon]) and nothing live remains at the horizon's end. Involuntary
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
  /** when the last subscription ended (unix seconds), for churners */
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
}

/** Labels for every customer live at `asOf` (optionally of some accounts), ordered by account, customer. */
export async function churnLabelsAt(database: Database, asOf: number, options: LabelOptions = {}): Promise<ChurnLabel[]> {
  const horizonDays = options.horizonDays ?? DEFAULT_HORIZON_DAYS;
  if (!(horizonDays > 0)) throw new Error('horizonDays must be positive');
  const scope: FeatureScope = options.accounts ? { kind: 'accounts', accounts: options.accounts } : { kind: 'all' };
  const rows = await database.query<ChurnLabelRow>(churnLabelsQuery(asOf, horizonDays * DAY_SECONDS, scope));
  return rows.map((r) => ({
    account: r.account,
    customerId: r.customer_id,
    churned: r.churned === true || (r.churned as unknown) === 't',
    churnType: churnTypeOf({ ...r, churned: r.churned === true || (r.churned as unknown) === 't' }),
    endedAt: r.ended_at === null ? null : Number(r.ended_at),
    cancellationReason: r.cancellation_reason,
  }));
}
