import { sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { ChurnError } from '../../lib/errors.js';

/** Interventions newest decision first, keyset-paginated on (decided_at desc, id). */

export interface InterventionView {
  id: string;
  account: string;
  customerId: string;
  subscriptionId: string | null;
  policyId: string;
  policyVersion: number;
  decidedAt: number;
  arm: string;
  action: string;
  params: Record<string, unknown>;
  status: string;
  probability: number;
  band: string;
  modelVersion: string | null;
  upliftEffect: number | null;
  reasons: unknown[];
  mrr: number;
  currency: string;
  expectedCost: number;
  cost: number;
  error: string | null;
  appliedAt: number | null;
  outcome: string | null;
  churnType: string | null;
  settledAt: number | null;
}

const nn = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function view(r: Record<string, any>): InterventionView {
  return {
    id: r.id, account: r.account, customerId: r.customer_id, subscriptionId: r.subscription_id, policyId: r.policy_id,
    policyVersion: Number(r.policy_version), decidedAt: Number(r.decided_at), arm: r.arm, action: r.action, params: r.params ?? {},
    status: r.status, probability: Number(r.probability), band: r.band, modelVersion: r.model_version, upliftEffect: nn(r.uplift_effect),
    reasons: r.reasons ?? [], mrr: Number(r.mrr), currency: r.currency, expectedCost: Number(r.expected_cost), cost: Number(r.cost),
    error: r.error, appliedAt: nn(r.applied_at), outcome: r.outcome, churnType: r.churn_type, settledAt: nn(r.settled_at),
  };
}

const COLUMNS = sql.raw(
  'id, account, customer_id, subscription_id, policy_id, policy_version, decided_at, arm, action, params, status, probability, band, model_version, uplift_effect, reasons, mrr, currency, expected_cost, cost, error, applied_at, outcome, churn_type, settled_at',
);

export async function listInterventions(
  database: Database,
  input: { policyId?: string; arm?: string; status?: string; outcome?: string; limit: number; cursor?: string },
): Promise<{ items: InterventionView[]; nextCursor: string | null }> {
  const where: SQL[] = [sql`true`];
  if (input.policyId) where.push(sql`policy_id = ${input.policyId}`);
  if (input.arm) where.push(sql`arm = ${input.arm}`);
  if (input.status) where.push(sql`status = ${input.status}`);
  // 'pending' is the outcome of an intervention not settled yet
  if (input.outcome === 'pending') where.push(sql`outcome is null`);
  else if (input.outcome) where.push(sql`outcome = ${input.outcome}`);
  if (input.cursor) {
    let c: { d: number; i: string };
    try {
      c = JSON.parse(Buffer.from(input.cursor, 'base64url').toString('utf8'));
      if (typeof c.d !== 'number' || typeof c.i !== 'string') throw new Error('shape');
    } catch {
      throw new ChurnError('VALIDATION_FAILED', 'cursor is not one this API issued', { details: [{ path: ['query', 'cursor'], message: 'invalid cursor' }] });
    }
    where.push(sql`(decided_at < ${c.d} or (decided_at = ${c.d} and id > ${c.i}))`);
  }
  const rows = await database.query<Record<string, any>>(
    sql`select ${COLUMNS} from interventions where ${sql.join(where, sql` and `)} order by decided_at desc, id limit ${input.limit + 1}`,
  );
  const page = rows.slice(0, input.limit).map(view);
  const last = page[page.length - 1];
  return { items: page, nextCursor: rows.length > input.limit && last ? Buffer.from(JSON.stringify({ d: last.decidedAt, i: last.id })).toString('base64url') : null };
}

export async function getIntervention(database: Database, id: string): Promise<InterventionView> {
  const [row] = await database.query<Record<string, any>>(sql`select ${COLUMNS} from interventions where id = ${id}`);
  if (!row) throw new ChurnError('NOT_FOUND', `no intervention ${id}`);
  return view(row);
}
