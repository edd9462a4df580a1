import { formatMoney } from '../lib/money.js';
import type { AtRiskCustomer } from '../services/scoring/at-risk.js';

/**
 * The most at-risk customers as terminal lines, for `churn score` and the demo: who (name and
 * email, else the Stripe id), probability, band, MRR, revenue at risk and the drivers.
 */

const WHO_WIDTH = 44;

function fit(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width);
}

export function customerLabel(c: Pick<AtRiskCustomer, 'name' | 'email' | 'customerId'>): string {
  if (c.name && c.email) return `${c.name} <${c.email}>`;
  return c.name ?? c.email ?? c.customerId;
}

const money = (minor: number, currency: string | null) => (currency ? formatMoney(minor, currency) : '-');

/** A header and one line per customer (the first `limit` of `rows`, which are riskiest first). */
export function formatAtRiskTable(rows: AtRiskCustomer[], limit = 10): string[] {
  const shown = rows.slice(0, limit);
  if (shown.length === 0) return [];
  const mrr = shown.map((c) => money(c.mrr, c.currency));
  const atRisk = shown.map((c) => money(c.revenueAtRisk, c.currency));
  const mrrWidth = Math.max(3, ...mrr.map((m) => m.length));
  const riskWidth = Math.max(7, ...atRisk.map((m) => m.length));
  const lines = [`${'customer'.padEnd(WHO_WIDTH)}  ${'risk'.padStart(6)}  ${'band'.padEnd(8)}  ${'MRR'.padStart(mrrWidth)}  ${'at risk'.padStart(riskWidth)}  why`];
  shown.forEach((c, i) => {
    const why = c.drivers.map((d) => d.sentence).join('; ') || 'no single driver stands out';
    lines.push(`${fit(customerLabel(c), WHO_WIDTH)}  ${`${(c.probability * 100).toFixed(1)}%`.padStart(6)}  ${c.band.padEnd(8)}  ${mrr[i]!.padStart(mrrWidth)}  ${atRisk[i]!.padStart(riskWidth)}  ${why}`);
  });
  return lines;
}
