import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { ChurnError } from '../../lib/errors.js';
import type { Driver, RiskBand } from '../../ml/types.js';

/** One customer as the growth team looks at it: who, how risky and why, what they paid, what we did. */
export interface CustomerDetail {
  account: string;
  customerId: string;
  email: string | null;
  name: string | null;
  created: number | null;
  delinquent: boolean | null;
  latestScore: { asOf: number; modelVersion: string; probability: number; band: RiskBand; drivers: string[] } | null;
  scoreHistory: { asOf: number; modelVersion: string; probability: number; band: RiskBand }[];
  subscriptions: { id: string; status: string; mrr: number; currency: string | null; cancelAtPeriodEnd: boolean }[];
  invoices: { id: string; status: string | null; amountDue: number; amountPaid: number; currency: string | null; created: number | null }[];
  events: { id: string; type: string; created: number; objectId: string | null }[];
  interventions: { id: string; policyId: string; policyVersion: number; arm: string; action: string; status: string; decidedAt: number; outcome: string | null }[];
}

const n = (v: unknown): number => Number(v);
const nn = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export async function customerDetail(database: Database, account: string, customerId: string): Promise<CustomerDetail> {
  const [customer] = await database.query<{ email: string | null; name: string | null; created: unknown; delinquent: boolean | null }>(
    sql`select email, name, created, delinquent from customers where account = ${account} and id = ${customerId}`,
  );
  const scores = await database.query<{ as_of: unknown; model_version: string; probability: number; band: RiskBand; drivers: Driver[] }>(
    sql`select as_of, model_version, probability, band, drivers from scores where account = ${account} and customer_id = ${customerId} order by as_of desc, created_at desc limit 100`,
  );
  if (!customer && scores.length === 0) throw new ChurnError('NOT_FOUND', `no customer ${customerId} in account ${account}`);
  const [subs, invoices, events, interventions] = await Promise.all([
    database.query<{ id: string; status: string; mrr: unknown; currency: string | null; cancel_at_period_end: boolean }>(
      sql`select id, status, mrr, currency, cancel_at_period_end from subscriptions where account = ${account} and customer_id = ${customerId} and not deleted order by created desc nulls last, id`,
    ),
    database.query<{ id: string; status: string | null; amount_due: unknown; amount_paid: unknown; currency: string | null; created: unknown }>(
      sql`select id, status, amount_due, amount_paid, currency, created from invoices where account = ${account} and customer_id = ${customerId} order by created desc nulls last, id limit 50`,
    ),
    // the timeline is the Stripe events about the customer itself, its subscriptions and its invoices
    database.query<{ id: string; type: string; created: unknown; object_id: string | null }>(sql`
      select e.id, e.type, e.created, e.object_id from stripe_events e
      where e.account = ${account} and (e.object_id = ${customerId}
        or e.object_id in (select id from subscriptions where account = ${account} and customer_id = ${customerId})
        or e.object_id in (select id from invoices where account = ${account} and customer_id = ${customerId}))
      order by e.created desc, e.id limit 100`),
    database.query<{ id: string; policy_id: string; policy_version: number; arm: string; action: string; status: string; decided_at: unknown; outcome: string | null }>(
      sql`select id, policy_id, policy_version, arm, action, status, decided_at, outcome from interventions where account = ${account} and customer_id = ${customerId} order by decided_at desc, id`,
    ),
  ]);
  const latest = scores[0];
  return {
    account,
    customerId,
    email: customer?.email ?? null,
    name: customer?.name ?? null,
    created: nn(customer?.created),
    delinquent: customer?.delinquent ?? null,
    latestScore: latest
      ? { asOf: n(latest.as_of), modelVersion: latest.model_version, probability: n(latest.probability), band: latest.band, drivers: (latest.drivers ?? []).map((d) => d.sentence) }
      : null,
    scoreHistory: scores.map((s) => ({ asOf: n(s.as_of), modelVersion: s.model_version, probability: n(s.probability), band: s.band })),
    subscriptions: subs.map((s) => ({ id: s.id, status: s.status, mrr: n(s.mrr), currency: s.currency, cancelAtPeriodEnd: s.cancel_at_period_end })),
    invoices: invoices.map((i) => ({ id: i.id, status: i.status, amountDue: n(i.amount_due), amountPaid: n(i.amount_paid), currency: i.currency, created: nn(i.created) })),
    events: events.map((e) => ({ id: e.id, type: e.type, created: n(e.created), objectId: e.object_id })),
    interventions: interventions.map((i) => ({ id: i.id, policyId: i.policy_id, policyVersion: Number(i.policy_version), arm: i.arm, action: i.action, status: i.status, decidedAt: n(i.decided_at), outcome: i.outcome })),
  };
}
