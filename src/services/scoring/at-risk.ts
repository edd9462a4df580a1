import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { LIVE_STATUSES, subscriptionStatesAt, type FeatureScope } from '../../db/queries/features.sql.js';
import type { ScoreAllResult, ScoredCustomer } from './score-all-customers.js';

/**
 * Scored customers as a customer-success person reads them: who (name, email), what they pay (MRR
 * at the scoring time, in their own currency), what is at risk, and why — riskiest first.
 */

export interface AtRiskCustomer extends ScoredCustomer {
  name: string | null;
  email: string | null;
  /** monthly recurring revenue of the live subscriptions at the scoring time, minor units of `currency` */
  mrr: number;
  currency: string | null;
  /** expected monthly revenue lost within the horizon: probability x MRR, minor units */
  revenueAtRisk: number;
}

const keyOf = (account: string, customerId: string) => `${account}\u0001${customerId}`;
const LIVE = sql.raw(LIVE_STATUSES.map((s) => `'${s}'`).join(', '));

/**
 * Adds names, emails and MRR at `result.asOf` to every scored customer and sorts them by risk
 * (probability, then revenue at risk, then id). A customer billed in several currencies is shown in
 * the one with the largest MRR.
 */
export async function rankAtRisk(database: Database, result: Pick<ScoreAllResult, 'asOf' | 'customers'>, accounts?: string[]): Promise<AtRiskCustomer[]> {
  const scope: FeatureScope = accounts ? { kind: 'accounts', accounts } : { kind: 'all' };
  const accountFilter = accounts ? sql`c.account in (${sql.join(accounts.map((a) => sql`${a}`), sql`, `)})` : sql`true`;
  const [people, money] = await Promise.all([
    database.query<{ account: string; id: string; name: string | null; email: string | null }>(sql`select c.account, c.id, c.name, c.email from customers c where ${accountFilter}`),
    database.query<{ account: string; customer_id: string; currency: string | null; mrr: number | string }>(
      sql`select cur.account, cur.customer_id, lower(cur.currency) as currency, sum(cur.mrr)::float8 as mrr
        from (${subscriptionStatesAt(result.asOf, scope)}) cur
        where cur.status in (${LIVE})
        group by cur.account, cur.customer_id, lower(cur.currency)`,
    ),
  ]);
  const who = new Map(people.map((p) => [keyOf(p.account, p.id), p]));
  const mrr = new Map<string, { mrr: number; currency: string | null }>();
  for (const m of money) {
    const k = keyOf(m.account, m.customer_id);
    const amount = Math.round(Number(m.mrr) || 0);
    const held = mrr.get(k);
    if (!held || amount > held.mrr) mrr.set(k, { mrr: amount, currency: m.currency });
  }
  const rows = result.customers.map((c): AtRiskCustomer => {
    const k = keyOf(c.account, c.customerId);
    const person = who.get(k);
    const billed = mrr.get(k) ?? { mrr: 0, currency: null };
    return { ...c, name: person?.name ?? null, email: person?.email ?? null, mrr: billed.mrr, currency: billed.currency, revenueAtRisk: Math.round(c.probability * billed.mrr) };
  });
  return rows.sort(
    (a, b) => b.probability - a.probability || b.revenueAtRisk - a.revenueAtRisk || (a.account < b.account ? -1 : a.account > b.account ? 1 : a.customerId < b.customerId ? -1 : a.customerId > b.customerId ? 1 : 0),
  );
}

export const AT_RISK_CSV_HEADER = 'customer,account,name,email,probability,risk_band,mrr_minor,revenue_at_risk_minor,currency,drivers,as_of,model_version';

/** CSV of ranked customers, riskiest first; money in integer minor units of `currency`, as_of an ISO date-time. */
export function atRiskCsv(rows: AtRiskCustomer[], meta: { asOf: number; modelVersion: string }): string {
  const esc = (v: string | null) => (v === null ? '' : /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  // Names and emails come from the account's customers: one starting with = + - @ would run as a
  // formula when the file is opened in a spreadsheet, so it is kept as text.
  const text = (v: string | null) => esc(v !== null && /^[=+\-@\t\r]/.test(v) ? `'${v}` : v);
  const asOf = new Date(meta.asOf * 1000).toISOString();
  const lines = [AT_RISK_CSV_HEADER];
  for (const c of rows) {
    lines.push(
      [
        esc(c.customerId),
        esc(c.account),
        text(c.name),
        text(c.email),
        c.probability.toFixed(4),
        c.band,
        String(c.mrr),
        String(c.revenueAtRisk),
        esc(c.currency),
        esc(c.drivers.map((d) => d.sentence).join('; ')),
        asOf,
        esc(meta.modelVersion),
      ].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}
