import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { LIVE_STATUSES, subscriptionStatesAt, type FeatureScope } from '../../db/queries/features.sql.js';
import { DAY } from '../../lib/clock.js';
import { featureIndex, featureMatrixForScope, type FeatureMatrix } from '../../ml/features.js';
import type { ScoredCustomer } from '../scoring/score-all-customers.js';
import { customerKey } from './decide.js';
import type { DecisionCandidate } from './types.js';
import type { PriorOffers } from './decide.js';

/**
 * What the decision function is given about each scored customer, as of the score's asOf: the
 * main live subscription (largest MRR) from the subscription history, and the billing facts the
 * features already computed (tenure, payment trouble). The feature rows come back aligned with
 * the candidates, for the uplift effect model.
 */

interface MainSubscriptionRow {
  account: string;
  customer_id: string;
  subscription_id: string;
  status: string;
  currency: string | null;
  mrr: string | number;
  interval: string | null;
  interval_count: number | null;
  product_id: string | null;
  price_id: string | null;
  cancel_at_period_end: boolean;
  cancel_at: string | number | null;
  discount_coupons: string[] | null;
  discount_end: string | number | null;
}

const LIVE = sql.raw(LIVE_STATUSES.map((s) => `'${s}'`).join(', '));

function mainSubscriptionsQuery(asOf: number, scope: FeatureScope) {
  return sql`select distinct on (cur.account, cur.customer_id) cur.account, cur.customer_id, cur.subscription_id, cur.status,
      cur.currency, cur.mrr, cur.interval, cur.interval_count, cur.product_id, cur.price_id, cur.cancel_at_period_end,
      cur.cancel_at, cur.discount_coupons, cur.discount_end
    from (${subscriptionStatesAt(asOf, scope)}) cur
    where cur.status in (${LIVE})
    order by cur.account, cur.customer_id, cur.mrr desc, cur.subscription_id`;
}

function intervalMonths(interval: string | null, count: number | null): number {
  const n = count && count > 0 ? count : 1;
  if (interval === 'year') return 12 * n;
  if (interval === 'week') return Math.max(1, Math.round((n * 12) / 52));
  if (interval === 'day') return Math.max(1, Math.round((n * 12) / 365));
  return n;
}

export interface CandidateSet {
  asOf: number;
  candidates: DecisionCandidate[];
  /** feature rows of `candidates`, same order */
  features: FeatureMatrix;
}

export async function loadCandidates(
  database: Database,
  input: { asOf: number; scored: ScoredCustomer[]; modelVersion: string | null; scope?: FeatureScope },
): Promise<CandidateSet> {
  const scope = input.scope ?? { kind: 'all' };
  const [features, subs] = await Promise.all([
    featureMatrixForScope(database, input.asOf, scope),
    database.query<MainSubscriptionRow>(mainSubscriptionsQuery(input.asOf, scope)),
  ]);
  const subByKey = new Map(subs.map((s) => [customerKey(s.account, s.customer_id), s]));
  const rowByKey = new Map(features.keys.map((k, r) => [customerKey(k.account, k.customerId), r]));
  const cols = features.matrix.cols;
  const col = {
    tenure: featureIndex('tenure_days'),
    failed30: featureIndex('failed_payments_30d'),
    openInvoices: featureIndex('open_invoices'),
    pastDue: featureIndex('past_due'),
    expiresBeforeRenewal: featureIndex('card_expires_before_renewal'),
  };
  const candidates: DecisionCandidate[] = [];
  const rows: number[] = [];
  for (const s of input.scored) {
    const key = customerKey(s.account, s.customerId);
    const r = rowByKey.get(key);
    if (r === undefined) continue; // not live at asOf any more
    const sub = subByKey.get(key);
    const v = (c: number) => features.matrix.data[r * cols + c]!;
    const discountEnd = sub?.discount_end == null ? null : Number(sub.discount_end);
    candidates.push({
      account: s.account,
      customerId: s.customerId,
      subscriptionId: sub?.subscription_id ?? null,
      subscriptionStatus: sub?.status ?? null,
      probability: s.probability,
      band: s.band,
      modelVersion: input.modelVersion,
      mrr: sub ? Number(sub.mrr) : 0,
      currency: (sub?.currency ?? 'usd').toLowerCase(),
      intervalMonths: intervalMonths(sub?.interval ?? null, sub?.interval_count ?? null),
      productIds: sub?.product_id ? [sub.product_id] : [],
      priceIds: sub?.price_id ? [sub.price_id] : [],
      tenureDays: v(col.tenure),
      cancelAtPeriodEnd: !!sub && (sub.cancel_at_period_end === true || (sub.cancel_at != null && Number(sub.cancel_at) > input.asOf)),
      discounted: !!sub && (sub.discount_coupons?.length ?? 0) > 0 && (discountEnd === null || discountEnd > input.asOf),
      involuntaryRisk: v(col.failed30) > 0 || v(col.openInvoices) > 0 || v(col.pastDue) > 0 || v(col.expiresBeforeRenewal) > 0,
    });
    rows.push(r);
  }
  const data = new Float32Array(rows.length * cols);
  rows.forEach((r, i) => data.set(features.matrix.data.subarray(r * cols, (r + 1) * cols), i * cols));
  return {
    asOf: input.asOf,
    candidates,
    features: { ...features, keys: candidates.map((c) => ({ account: c.account, customerId: c.customerId })), matrix: { data, rows: rows.length, cols } },
  };
}

/** Offers and decisions before `asOf` (last 365 days), per customer, for cooldown and the yearly cap. */
export async function loadPriorOffers(database: Database, asOf: number): Promise<Map<string, PriorOffers>> {
  const rows = await database.query<{ account: string; customer_id: string; policy_id: string; decided_at: string | number; arm: string; status: string }>(
    sql`select account, customer_id, policy_id, decided_at, arm, status from interventions
        where decided_at > ${asOf - 365 * DAY} and decided_at <= ${asOf} and status in ('decided', 'applying', 'applied', 'holdout')`,
  );
  const out = new Map<string, PriorOffers>();
  for (const r of rows) {
    const key = customerKey(r.account, r.customer_id);
    let prior = out.get(key);
    if (!prior) out.set(key, (prior = { offeredAt: [], decidedByPolicy: new Map() }));
    const at = Number(r.decided_at);
    if (r.arm === 'treatment') prior.offeredAt.push(at);
    prior.decidedByPolicy.set(r.policy_id, Math.max(prior.decidedByPolicy.get(r.policy_id) ?? 0, at));
  }
  return out;
}
