import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { LIVE_STATUSES } from '../../db/queries/features.sql.js';
import type { UnixSeconds } from '../../lib/clock.js';
import type { RiskBand } from '../../ml/types.js';
import { latestSnapshot, type Snapshot } from '../customers/list-customers.js';
import { listPolicies } from '../policies/store.js';
import { budgetMonthOf } from '../retention/budget.js';
import { convertMinor } from '../retention/costs.js';

/**
 * What the growth team looks at first: how much revenue is at risk now, what the retention
 * policies did this month and what it cost against their budgets. "Now" is the champion's newest
 * scoring snapshot (the one the customer list reads); "this month" is the UTC calendar month of
 * `now` (the budget month). Amounts are converted to one reporting currency with the fixed rates
 * the budgets use, so bands and policies can be compared.
 */

export const BANDS: readonly RiskBand[] = ['critical', 'high', 'medium', 'low'];

export interface BandRisk {
  band: RiskBand;
  customers: number;
  /** MRR of the band's customers' live subscriptions, minor units of the report currency */
  mrr: number;
  /** Σ MRR × churn probability: the MRR expected to leave within the horizon */
  expectedMrrLoss: number;
}

export interface InterventionCount {
  action: string;
  arm: string;
  status: string;
  count: number;
  /** cost of what was applied, minor units of the report currency */
  cost: number;
}

export interface ArmOutcomes {
  stayed: number;
  churned: number;
}

export interface PolicyMonth {
  policyId: string;
  name: string;
  version: number;
  mode: string;
  enabled: boolean;
  /** budget reserved this month and its limit, minor units of `budgetCurrency` */
  budgetUsed: number;
  budgetLimit: number;
  budgetCurrency: string;
  /** decisions this month by arm (a dry-run policy's would-be offers count as treated); budget-skipped rows are in neither */
  decided: { treated: number; holdout: number };
  /** outcomes that settled this month, by arm */
  settled: { treatment: ArmOutcomes; holdout: ArmOutcomes };
  /**
   * treated settled × (holdout churn rate − treated churn rate) over the outcomes settled this
   * month: a point estimate without an interval (the uplift report has the interval); null
   * until both arms have a settled outcome
   */
  savedCustomers: number | null;
}

export interface OverviewReport {
  now: UnixSeconds;
  month: string;
  currency: string;
  snapshot: Snapshot | null;
  risk: { customers: number; mrr: number; expectedMrrLoss: number; bands: BandRisk[] };
  interventions: InterventionCount[];
  policies: PolicyMonth[];
  openAlerts: number;
}

const LIVE = sql.raw(LIVE_STATUSES.map((s) => `'${s}'`).join(', '));

/** [start, end) of the UTC calendar month holding `at`, unix seconds. */
export function monthBounds(at: UnixSeconds): { start: UnixSeconds; end: UnixSeconds } {
  const d = new Date(at * 1000);
  return { start: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) / 1000, end: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) / 1000 };
}

export async function overviewReport(database: Database, input: { now: UnixSeconds; currency?: string }): Promise<OverviewReport> {
  const currency = (input.currency ?? 'usd').toLowerCase();
  const month = budgetMonthOf(input.now);
  const { start, end } = monthBounds(input.now);
  const snapshot = await latestSnapshot(database);

  const bands = new Map<RiskBand, BandRisk>(BANDS.map((b) => [b, { band: b, customers: 0, mrr: 0, expectedMrrLoss: 0 }]));
  if (snapshot) {
    const inSnapshot = sql`s.model_name = ${snapshot.modelName} and s.model_version = ${snapshot.modelVersion} and s.as_of = ${snapshot.asOf}`;
    const [counts, money] = await Promise.all([
      database.query<{ band: RiskBand; n: number }>(sql`select s.band, count(*)::int as n from scores s where ${inSnapshot} group by s.band`),
      database.query<{ band: RiskBand; currency: string | null; mrr: string | number; loss: string | number }>(sql`
        select s.band, sb.currency, sum(sb.mrr)::bigint as mrr, sum(sb.mrr * s.probability)::float8 as loss
          from scores s
          join subscriptions sb on sb.account = s.account and sb.customer_id = s.customer_id and not sb.deleted and sb.status in (${LIVE})
         where ${inSnapshot}
         group by s.band, sb.currency`),
    ]);
    for (const r of counts) bands.get(r.band)!.customers = Number(r.n);
    for (const r of money) {
      const b = bands.get(r.band);
      if (!b) continue;
      const from = r.currency ?? currency;
      b.mrr += convertMinor(Number(r.mrr), from, currency);
      b.expectedMrrLoss += convertMinor(Math.round(Number(r.loss)), from, currency);
    }
  }
  const bandList = [...bands.values()];

  const [interventionRows, decidedRows, settledRows, budgetRows, alertRows, policies] = await Promise.all([
    database.query<{ action: string; arm: string; status: string; currency: string; n: number; cost: string | number }>(sql`
      select action, arm, status, currency, count(*)::int as n, sum(cost)::bigint as cost from interventions
       where decided_at >= ${start} and decided_at < ${end} group by 1, 2, 3, 4`),
    database.query<{ policy_id: string; arm: string; n: number }>(sql`
      select policy_id, arm, count(*)::int as n from interventions
       where decided_at >= ${start} and decided_at < ${end} and status <> 'skipped' group by 1, 2`),
    database.query<{ policy_id: string; arm: string; outcome: string; n: number }>(sql`
      select policy_id, arm, outcome, count(*)::int as n from interventions
       where settled_at >= ${start} and settled_at < ${end} and outcome is not null and status not in ('skipped', 'dry_run') group by 1, 2, 3`),
    database.query<{ policy_id: string; reserved: string | number; limit_amount: string | number; currency: string }>(sql`
      select policy_id, reserved, limit_amount, currency from policy_budgets where month = ${month}`),
    database.query<{ n: number }>(sql`select count(*)::int as n from alerts where closed_at is null`),
    listPolicies(database),
  ]);

  const merged = new Map<string, InterventionCount>();
  for (const r of interventionRows) {
    const key = `${r.action}\u0000${r.arm}\u0000${r.status}`;
    const row = merged.get(key) ?? { action: r.action, arm: r.arm, status: r.status, count: 0, cost: 0 };
    row.count += Number(r.n);
    row.cost += convertMinor(Number(r.cost), r.currency, currency);
    merged.set(key, row);
  }
  const interventions = [...merged.values()].sort((a, b) => b.count - a.count || a.action.localeCompare(b.action) || a.arm.localeCompare(b.arm) || a.status.localeCompare(b.status));

  const budgets = new Map(budgetRows.map((b) => [b.policy_id, b]));
  const policyMonths: PolicyMonth[] = policies.map((p) => {
    const budget = budgets.get(p.id);
    const decided = { treated: 0, holdout: 0 };
    for (const r of decidedRows.filter((x) => x.policy_id === p.id)) decided[r.arm === 'treatment' ? 'treated' : 'holdout'] += Number(r.n);
    const settled = { treatment: { stayed: 0, churned: 0 }, holdout: { stayed: 0, churned: 0 } };
    for (const r of settledRows.filter((x) => x.policy_id === p.id)) {
      const arm = r.arm === 'treatment' ? settled.treatment : settled.holdout;
      if (r.outcome === 'stayed' || r.outcome === 'churned') arm[r.outcome] += Number(r.n);
    }
    return {
      policyId: p.id,
      name: p.name,
      version: p.version,
      mode: p.definition.mode,
      enabled: p.definition.enabled,
      budgetUsed: budget ? Number(budget.reserved) : 0,
      budgetLimit: budget ? Number(budget.limit_amount) : p.definition.budget.monthlyAmount,
      budgetCurrency: budget?.currency ?? p.definition.budget.currency,
      decided,
      settled,
      savedCustomers: savedCustomers(settled),
    };
  });

  return {
    now: input.now,
    month,
    currency,
    snapshot,
    risk: {
      customers: bandList.reduce((s, b) => s + b.customers, 0),
      mrr: bandList.reduce((s, b) => s + b.mrr, 0),
      expectedMrrLoss: bandList.reduce((s, b) => s + b.expectedMrrLoss, 0),
      bands: bandList,
    },
    interventions,
    policies: policyMonths,
    openAlerts: Number(alertRows[0]?.n ?? 0),
  };
}

/** Treated settled × (holdout churn rate − treated churn rate), one decimal; null without both arms. */
export function savedCustomers(settled: { treatment: ArmOutcomes; holdout: ArmOutcomes }): number | null {
  const t = settled.treatment.stayed + settled.treatment.churned;
  const h = settled.holdout.stayed + settled.holdout.churned;
  if (t === 0 || h === 0) return null;
  return Math.round(t * (settled.holdout.churned / h - settled.treatment.churned / t) * 10) / 10;
}
