import { sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { LIVE_STATUSES, type FeatureScope } from '../db/queries/features.sql.js';
import { featureMatrixForScope } from '../ml/features.js';
import type { ChurnModel } from '../ml/model.js';
import { scoreWithDrivers } from '../ml/predict.js';
import type { RiskBand } from '../ml/types.js';
import { storeScores, type ScoredCustomer } from '../services/scoring/score-all-customers.js';

/**
 * Scoring for part of the customer base (one customer after a Stripe event, one slice of the daily
 * fan-out) with the same pieces scoreAllCustomers composes for everyone: point-in-time features,
 * probabilities with drivers, and one stored row per customer tagged with the model version.
 */

export interface ScopeScoreSummary {
  asOf: number;
  modelVersion: string;
  scored: number;
  /** per customer, small enough to return from a step */
  customers: Array<{ account: string; customerId: string; probability: number; band: RiskBand }>;
}

export async function scoreScope(database: Database, input: { asOf: number; model: ChurnModel; scope: FeatureScope }): Promise<ScopeScoreSummary> {
  const modelName = input.model.metadata.name ?? 'churn';
  const modelVersion = input.model.metadata.version ?? 'unregistered';
  const features = await featureMatrixForScope(database, input.asOf, input.scope, { vocabulary: input.model.metadata.vocabulary });
  const scored = features.matrix.rows === 0 ? [] : scoreWithDrivers(input.model, features.matrix, { top: 3 });
  const customers: ScoredCustomer[] = scored.map((s, i) => ({ ...features.keys[i]!, probability: s.probability, band: s.band, drivers: s.drivers }));
  if (customers.length) await storeScores(database, { asOf: input.asOf, modelName, modelVersion, customers });
  return {
    asOf: input.asOf,
    modelVersion,
    scored: customers.length,
    customers: customers.map((c) => ({ account: c.account, customerId: c.customerId, probability: c.probability, band: c.band })),
  };
}

const LIVE = sql.raw(LIVE_STATUSES.map((s) => `'${s}'`).join(', '));

export interface CustomerSlice {
  account: string;
  afterCustomerId: string | null;
  throughCustomerId: string | null;
  planned: number;
}

/**
 * Splits every account's customers with a live subscription (as the projections stand now) into
 * consecutive id ranges of at most `size`. The first range of an account is open below and the last
 * open above, so together they cover every id, including customers who arrive after the plan.
 */
export async function planCustomerSlices(database: Database, size: number): Promise<CustomerSlice[]> {
  const rows = await database.query<{ account: string; slice: number; last_id: string; n: number }>(
    sql`with live as (
          select distinct account, customer_id from subscriptions where status in (${LIVE}) and customer_id is not null
        ), numbered as (
          select account, customer_id, ((row_number() over (partition by account order by customer_id)) - 1) / ${size} as slice from live
        )
        select account, slice::int as slice, max(customer_id) as last_id, count(*)::int as n
        from numbered group by account, slice order by account, slice`,
  );
  const slices: CustomerSlice[] = [];
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    const first = i === 0 || rows[i - 1]!.account !== r.account;
    const last = i === rows.length - 1 || rows[i + 1]!.account !== r.account;
    slices.push({
      account: r.account,
      afterCustomerId: first ? null : rows[i - 1]!.last_id,
      throughCustomerId: last ? null : r.last_id,
      planned: Number(r.n),
    });
  }
  return slices;
}

/** The ids of one slice's customers with a live subscription now, in id order. */
export async function customersInSlice(database: Database, slice: Omit<CustomerSlice, 'planned'>): Promise<string[]> {
  const after = slice.afterCustomerId === null ? sql`true` : sql`customer_id > ${slice.afterCustomerId}`;
  const through = slice.throughCustomerId === null ? sql`true` : sql`customer_id <= ${slice.throughCustomerId}`;
  const rows = await database.query<{ customer_id: string }>(
    sql`select distinct customer_id from subscriptions
        where account = ${slice.account} and status in (${LIVE}) and customer_id is not null and ${after} and ${through}
        order by customer_id`,
  );
  return rows.map((r) => r.customer_id);
}
