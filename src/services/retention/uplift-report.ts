import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { buildUpliftReport, type UpliftReport, type UpliftReportOptions, type UpliftRow } from '../uplift/report.js';

/**
 * The uplift report over stored interventions (treated and holdout, settled or pending), per policy
 * and overall, with each row's policy name and months-kept assumption from its own policy version.
 */
export async function upliftReportFromStore(
  database: Database,
  input: { policyId?: string; from?: number; to?: number } & UpliftReportOptions = {},
): Promise<UpliftReport> {
  const rows = await database.query<{
    id: string;
    policy_id: string;
    policy_version: number;
    name: string | null;
    months_kept: string | number | null;
    arm: 'treatment' | 'holdout';
    action: string;
    mrr: string | number;
    currency: string;
    cost: string | number;
    outcome: 'stayed' | 'churned' | null;
    churn_type: 'voluntary' | 'involuntary' | null;
    decided_at: string | number;
    horizon_days: number;
    status: string;
  }>(
    sql`select i.id, i.policy_id, i.policy_version, p.name, p.definition->>'monthsKept' as months_kept, i.arm, i.action, i.mrr,
          i.currency, i.cost, i.outcome, i.churn_type, i.decided_at, i.horizon_days, i.status
        from interventions i
        left join policies p on p.id = i.policy_id and p.version = i.policy_version
        where ${input.policyId ? sql`i.policy_id = ${input.policyId}` : sql`true`}
          and ${input.from !== undefined ? sql`i.decided_at >= ${input.from}` : sql`true`}
          and ${input.to !== undefined ? sql`i.decided_at < ${input.to}` : sql`true`}
        order by i.decided_at, i.id`,
  );
  const mapped: UpliftRow[] = rows.map((r) => ({
    id: r.id,
    policyId: r.policy_id,
    policyVersion: Number(r.policy_version),
    policyName: r.name,
    arm: r.arm,
    action: r.action,
    mrr: Number(r.mrr),
    currency: r.currency,
    cost: Number(r.cost),
    outcome: r.outcome,
    churnType: r.churn_type,
    decidedAt: Number(r.decided_at),
    horizonDays: r.horizon_days,
    monthsKept: r.months_kept === null ? null : Number(r.months_kept),
    status: r.status,
  }));
  return buildUpliftReport(mapped, input);
}
