import { sql } from 'drizzle-orm';
import type { Database, DbOrTx } from '../../db/client.js';
import { isoDay } from '../../lib/clock.js';

/** Budget month of a unix time: the UTC calendar month, 'YYYY-MM'. */
export function budgetMonthOf(at: number): string {
  return isoDay(at).slice(0, 7);
}

export interface BudgetLine {
  policyId: string;
  month: string;
  currency: string;
  limitAmount: number;
}

/**
 * Reserves `amount` of a policy's monthly budget, or nothing: one conditional UPDATE, so two
 * deciders racing for the last of a budget cannot both win (the row lock orders them and the
 * second sees the first's reservation). The limit is refreshed from the current policy version,
 * so raising a budget mid-month takes effect at once. Returns whether the money was reserved.
 */
export async function reserveBudget(database: Database, line: BudgetLine, amount: number, on: DbOrTx = database.db): Promise<boolean> {
  await database.query(
    sql`insert into policy_budgets (policy_id, month, currency, limit_amount, reserved)
        values (${line.policyId}, ${line.month}, ${line.currency}, ${line.limitAmount}, 0)
        on conflict (policy_id, month) do update set limit_amount = excluded.limit_amount, currency = excluded.currency`,
    on,
  );
  if (amount <= 0) return true;
  const rows = await database.query<{ reserved: number }>(
    sql`update policy_budgets set reserved = reserved + ${amount}
        where policy_id = ${line.policyId} and month = ${line.month} and reserved + ${amount} <= limit_amount
        returning reserved`,
    on,
  );
  return rows.length === 1;
}

/** Gives back money reserved for an offer that will never be applied (a permanent failure). */
export async function releaseBudget(database: Database, policyId: string, month: string, amount: number, on: DbOrTx = database.db): Promise<void> {
  if (amount <= 0) return;
  await database.query(
    sql`update policy_budgets set reserved = greatest(0, reserved - ${amount}) where policy_id = ${policyId} and month = ${month}`,
    on,
  );
}

/** Money reserved so far this month, by policy id. */
export async function budgetUsed(database: Database, month: string): Promise<Map<string, { reserved: number; limitAmount: number; currency: string }>> {
  const rows = await database.query<{ policy_id: string; reserved: string | number; limit_amount: string | number; currency: string }>(
    sql`select policy_id, reserved, limit_amount, currency from policy_budgets where month = ${month}`,
  );
  return new Map(rows.map((r) => [r.policy_id, { reserved: Number(r.reserved), limitAmount: Number(r.limit_amount), currency: r.currency }]));
}
