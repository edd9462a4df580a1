import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { DAY_SECONDS } from '../../db/queries/features.sql.js';
import { customerStandingQuery, DUNNING_LOOKBACK_SECONDS, failuresBetweenQuery, type CustomerStandingRow, type FailureWindowRow } from '../../db/queries/labels.sql.js';
import { churnTypeOf } from '../../ml/labels.js';
import { customerKey } from './decide.js';

/**
 * Outcome tracking: did a decided customer (treated or held out alike) churn within the horizon
 * after the decision? The same churn moment as the model's labels (src/ml/labels.ts): the
 * cancellation request, or the end when nobody asked; voluntary and involuntary apart. An outcome
 * is settled only once decision time + horizon has passed, and never changes afterwards.
 */

export interface OutcomeInput {
  decidedAt: number;
  horizonDays: number;
}

/** The customer's standing at the horizon's end, from stored subscription history. */
export interface StandingAtHorizon {
  /** a live subscription not set to cancel exists at the horizon's end */
  kept: boolean;
  /** newest moment a subscription let the customer go, at or before the horizon's end */
  lastGone: number | null;
  reason: string | null;
  /** failed payment attempts in the dunning before lastGone on invoices not paid by then */
  dunningFailures: number;
}

export type Outcome =
  | { settled: false }
  | { settled: true; outcome: 'stayed' }
  | { settled: true; outcome: 'churned'; churnType: 'voluntary' | 'involuntary'; churnedAt: number };

/**
 * Pure: the outcome of one decision given the standing at its horizon's end. A customer already
 * set to cancel at the decision (a policy may include them) churned unless they are kept at the
 * end: for them the churn moment is not inside the window but whether the offer won them back.
 */
export function decideOutcome(input: OutcomeInput, standing: StandingAtHorizon | null, now: number, cancellingAtDecision = false): Outcome {
  const until = input.decidedAt + input.horizonDays * DAY_SECONDS;
  if (now < until) return { settled: false };
  if (!standing || standing.kept) return { settled: true, outcome: 'stayed' };
  const gone = standing.lastGone;
  const inWindow = gone !== null && gone > input.decidedAt && gone <= until;
  if (!inWindow && !cancellingAtDecision) return { settled: true, outcome: 'stayed' };
  const type = churnTypeOf(true, standing.reason, standing.dunningFailures);
  return { settled: true, outcome: 'churned', churnType: type === 'involuntary' ? 'involuntary' : 'voluntary', churnedAt: gone ?? until };
}

interface DueRow {
  id: string;
  account: string;
  customer_id: string;
  decided_at: string | number;
  horizon_days: number;
  cancelling: boolean | null;
}

export interface SettleResult {
  settled: number;
  churned: number;
  stayed: number;
  /** decisions whose horizon has not passed yet */
  pending: number;
}

/**
 * Settles every intervention (treated and holdout; dry-run rows too, so a dry run can be judged
 * against its own holdout later) whose horizon has passed by `now`. Standing is read once per
 * distinct horizon end from the stored subscription history, in set-based queries.
 */
export async function settleOutcomes(database: Database, input: { now: number; limit?: number }): Promise<SettleResult> {
  const due = await database.query<DueRow>(
    sql`select i.id, i.account, i.customer_id, i.decided_at, i.horizon_days,
          coalesce((i.params->>'cancelAtPeriodEnd')::boolean, false) as cancelling
        from interventions i
        where i.outcome is null and i.status in ('applied', 'holdout', 'dry_run')
          and i.decided_at + i.horizon_days * 86400 <= ${input.now}
        order by i.decided_at, i.id
        limit ${input.limit ?? 100_000}`,
  );
  const [pendingRow] = await database.query<{ n: number }>(
    sql`select count(*)::int as n from interventions where outcome is null and status in ('applied', 'holdout', 'dry_run', 'decided', 'applying')
        and decided_at + horizon_days * 86400 > ${input.now}`,
  );
  const result: SettleResult = { settled: 0, churned: 0, stayed: 0, pending: pendingRow!.n };
  const byUntil = new Map<number, DueRow[]>();
  for (const r of due) {
    const until = Number(r.decided_at) + r.horizon_days * DAY_SECONDS;
    const list = byUntil.get(until);
    if (list) list.push(r);
    else byUntil.set(until, [r]);
  }
  for (const [until, rows] of byUntil) {
    const accounts = [...new Set(rows.map((r) => r.account))];
    const scope = { kind: 'accounts' as const, accounts };
    const from = Math.min(...rows.map((r) => Number(r.decided_at)));
    const [standing, failures] = await Promise.all([
      database.query<CustomerStandingRow>(customerStandingQuery(until, scope, 'request')),
      database.query<FailureWindowRow>(failuresBetweenQuery(from - DUNNING_LOOKBACK_SECONDS, until, scope)),
    ]);
    const standingOf = new Map(standing.map((s) => [customerKey(s.account, s.customer_id), s]));
    const failuresOf = new Map<string, FailureWindowRow[]>();
    for (const f of failures) {
      const k = customerKey(f.account, f.customer_id);
      const list = failuresOf.get(k);
      if (list) list.push(f);
      else failuresOf.set(k, [f]);
    }
    for (const r of rows) {
      const k = customerKey(r.account, r.customer_id);
      const s = standingOf.get(k);
      const gone = s?.last_gone == null ? null : Number(s.last_gone);
      const dunning = gone === null ? 0 : (failuresOf.get(k) ?? []).filter((f) => f.failed_at > gone - DUNNING_LOOKBACK_SECONDS && f.failed_at <= gone && (f.paid_at === null || f.paid_at > gone)).length;
      const outcome = decideOutcome(
        { decidedAt: Number(r.decided_at), horizonDays: r.horizon_days },
        s ? { kept: s.kept === true || (s.kept as unknown) === 't', lastGone: gone, reason: s.reason, dunningFailures: dunning } : null,
        input.now,
        r.cancelling === true,
      );
      if (!outcome.settled) continue;
      if (outcome.outcome === 'churned') {
        await database.query(
          sql`update interventions set outcome = 'churned', churn_type = ${outcome.churnType}, churned_at = ${outcome.churnedAt}, settled_at = ${input.now}
              where id = ${r.id} and outcome is null`,
        );
        result.churned++;
      } else {
        await database.query(sql`update interventions set outcome = 'stayed', settled_at = ${input.now} where id = ${r.id} and outcome is null`);
        result.stayed++;
      }
      result.settled++;
    }
  }
  return result;
}
