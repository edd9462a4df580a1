import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import type { UnixSeconds } from '../../lib/clock.js';
import { newId } from '../../lib/ids.js';
import { pruneWebhookRejections } from '../events/count-rejections.js';
import { budgetMonthOf } from '../retention/budget.js';
import {
  ALERT_KINDS,
  detectBudgetPace,
  detectPaymentFailureSpike,
  detectProcessingLagSpike,
  detectScoreDrift,
  detectWebhookRejectionSpike,
  histogram,
  type AlertKind,
  type Finding,
} from './detect.js';

const HOUR = 3_600;
const DAY = 86_400;
const BASELINE_DAYS = 14;

/** The figures each detector needs, read from the store as of `now`. */
export async function collectFindings(database: Database, now: UnixSeconds): Promise<Finding[]> {
  const findings: Finding[] = [];

  // Payment failures per account: the last 24 h against each of the 14 days before.
  const failures = await database.query<{ account: string; bucket: number; n: number }>(sql`
    select account, floor((${now} - failed_at) / ${DAY})::int as bucket, count(*)::int as n
      from payment_failures
     where failed_at > ${now - (BASELINE_DAYS + 1) * DAY} and failed_at <= ${now}
     group by 1, 2`);
  const perAccount = new Map<string, number[]>();
  for (const r of failures) {
    const days = perAccount.get(r.account) ?? new Array<number>(BASELINE_DAYS + 1).fill(0);
    days[Number(r.bucket)] = Number(r.n);
    perAccount.set(r.account, days);
  }
  for (const [account, days] of perAccount) {
    findings.push(detectPaymentFailureSpike({ key: account, recent: days[0]!, baselineDaily: days.slice(1) }));
  }

  // Webhook deliveries refused per reason: the last hour against each of the 14 × 24 hours before,
  // from the per-minute counts every process writes (webhook_rejections).
  const baselineHours = BASELINE_DAYS * 24;
  const rejected = await database.query<{ reason: string; bucket: number; n: number }>(sql`
    select reason, floor((${now} - minute) / ${HOUR})::int as bucket, sum(count)::int as n
      from webhook_rejections
     where minute > ${now - (baselineHours + 1) * HOUR} and minute <= ${now}
     group by 1, 2`);
  const perReason = new Map<string, number[]>();
  for (const r of rejected) {
    const hours = perReason.get(r.reason) ?? new Array<number>(baselineHours + 1).fill(0);
    hours[Number(r.bucket)] = Number(r.n);
    perReason.set(r.reason, hours);
  }
  for (const [reason, hours] of perReason) {
    findings.push(detectWebhookRejectionSpike({ key: reason, recent: hours[0]!, baselineDaily: hours.slice(1) }));
  }

  // Processing lag of what the webhook path stored (ingest and backfill project inline).
  const [pending] = await database.query<{ oldest: number | null }>(sql`
    select extract(epoch from (to_timestamp(${now}) - min(received_at)))::float8 as oldest from stripe_events where processed_at is null`);
  const lags = await database.query<{ bucket: number; p95: number }>(sql`
    select case when received_at > to_timestamp(${now - 3600}) then -1 else floor((${now} - extract(epoch from received_at)) / ${DAY})::int end as bucket,
           percentile_cont(0.95) within group (order by extract(epoch from (processed_at - received_at)))::float8 as p95
      from stripe_events
     where source = 'webhook' and processed_at is not null
       and received_at > to_timestamp(${now - BASELINE_DAYS * DAY}) and received_at <= to_timestamp(${now})
     group by 1`);
  const recent = lags.find((l) => Number(l.bucket) === -1);
  findings.push(
    detectProcessingLagSpike({
      oldestPendingSeconds: pending?.oldest === null || pending?.oldest === undefined ? null : Math.max(0, Number(pending.oldest)),
      recentP95Seconds: recent ? Number(recent.p95) : null,
      baselineDailyP95Seconds: lags.filter((l) => Number(l.bucket) >= 1).map((l) => Number(l.p95)),
    }),
  );

  // Score drift of the champion's latest scoring run.
  const [champion] = await database.query<{ name: string; version: string; metrics: Record<string, any> }>(sql`
    select name, version, metrics from model_versions where status = 'champion' limit 1`);
  if (champion) {
    const runs = await database.query<{ as_of: number }>(sql`
      select distinct as_of from scores where model_name = ${champion.name} and model_version = ${champion.version} and as_of <= ${now}
       order by as_of`);
    const latest = runs.at(-1);
    if (latest) {
      const current = await scoreHistogram(database, champion, Number(latest.as_of));
      const heldOut = heldOutHistogram(champion.metrics);
      if (heldOut) {
        findings.push(detectScoreDrift({ key: champion.version, reference: heldOut, referenceSource: 'held_out', current }));
      } else if (runs.length > 1) {
        const first = await scoreHistogram(database, champion, Number(runs[0]!.as_of));
        findings.push(detectScoreDrift({ key: champion.version, reference: first, referenceSource: 'first_scoring_run', current }));
      }
    }
  }

  // Offer spend this month against the pro-rata share of each policy's budget.
  const budgets = await database.query<{ policy_id: string; reserved: number; limit_amount: number; currency: string }>(sql`
    select policy_id, reserved::float8 as reserved, limit_amount::float8 as limit_amount, currency from policy_budgets where month = ${budgetMonthOf(now)}`);
  for (const b of budgets) {
    findings.push(detectBudgetPace({ policyId: b.policy_id, spent: Number(b.reserved), limit: Number(b.limit_amount), currency: b.currency, now }));
  }
  return findings;
}

async function scoreHistogram(database: Database, model: { name: string; version: string }, asOf: number): Promise<number[]> {
  const rows = await database.query<{ bin: number; n: number }>(sql`
    select least(9, greatest(0, floor(probability * 10)))::int as bin, count(*)::int as n
      from scores where model_name = ${model.name} and model_version = ${model.version} and as_of = ${asOf} group by 1`);
  const counts = histogram([], 10);
  for (const r of rows) counts[Number(r.bin)] = Number(r.n);
  return counts;
}

/**
 * The held-out score distribution the registry stores: the calibration curve's counts per
 * equal-width bin (metrics.model.overall.calibration, 10 bins); null when the model has none.
 */
export function heldOutHistogram(metrics: Record<string, any> | null | undefined): number[] | null {
  const bins = metrics?.model?.overall?.calibration;
  if (!Array.isArray(bins) || bins.length !== 10) return null;
  const counts = bins.map((b: { count?: unknown }) => Number(b?.count));
  return counts.every((n) => Number.isFinite(n) && n >= 0) && counts.some((n) => n > 0) ? counts : null;
}

export interface StoredAlertChange {
  id: string;
  kind: AlertKind;
  key: string;
  change: 'opened' | 'updated' | 'closed';
}

/**
 * Stores the findings: a firing finding opens its (kind, key) alert or updates the open one; an
 * open alert whose check no longer fires, or whose key was not seen at all this time, is closed.
 */
export async function storeFindings(database: Database, findings: readonly Finding[], now: UnixSeconds): Promise<StoredAlertChange[]> {
  const changes: StoredAlertChange[] = [];
  const firing = findings.filter((f) => f.firing);
  for (const f of firing) {
    const [row] = await database.query<{ id: string; inserted: boolean }>(sql`
      insert into alerts (id, kind, key, severity, message, value, threshold, details, opened_at, last_seen_at)
      values (${newId('alr')}, ${f.kind}, ${f.key}, ${f.severity}, ${f.message}, ${f.value}, ${f.threshold}, ${JSON.stringify(f.details)}::jsonb, ${now}, ${now})
      on conflict (kind, key) where closed_at is null do update
        set severity = excluded.severity, message = excluded.message, value = excluded.value, threshold = excluded.threshold,
            details = excluded.details, last_seen_at = excluded.last_seen_at
      returning id, (xmax = 0) as inserted`);
    changes.push({ id: row!.id, kind: f.kind, key: f.key, change: row!.inserted ? 'opened' : 'updated' });
  }
  const stillFiring = new Set(firing.map((f) => `${f.kind}\u0000${f.key}`));
  const open = await database.query<{ id: string; kind: AlertKind; key: string }>(sql`select id, kind, key from alerts where closed_at is null`);
  for (const a of open) {
    if (stillFiring.has(`${a.kind}\u0000${a.key}`) || !ALERT_KINDS.includes(a.kind)) continue;
    const cleared = findings.find((f) => f.kind === a.kind && f.key === a.key);
    await database.query(sql`
      update alerts set closed_at = ${now}, last_seen_at = ${now}
        ${cleared ? sql`, message = ${cleared.message}, value = ${cleared.value}, details = ${JSON.stringify(cleared.details)}::jsonb` : sql``}
       where id = ${a.id} and closed_at is null`);
    changes.push({ id: a.id, kind: a.kind, key: a.key, change: 'closed' });
  }
  return changes;
}

/** Runs every check as of `now` and stores the result. */
export async function runAlertChecks(database: Database, input: { now: UnixSeconds }): Promise<{ findings: Finding[]; changes: StoredAlertChange[] }> {
  const findings = await collectFindings(database, input.now);
  const changes = await storeFindings(database, findings, input.now);
  // the rejection counts older than any baseline are no use to anyone
  await pruneWebhookRejections(database, input.now - (BASELINE_DAYS + 2) * DAY);
  return { findings, changes };
}

export interface AlertRow {
  id: string;
  kind: AlertKind;
  key: string;
  severity: string;
  message: string;
  value: number;
  threshold: number;
  openedAt: number;
  lastSeenAt: number;
  closedAt: number | null;
}

export async function listAlerts(database: Database, options: { includeClosed?: boolean; limit?: number } = {}): Promise<AlertRow[]> {
  const rows = await database.query<Record<string, any>>(sql`
    select id, kind, key, severity, message, value, threshold, opened_at, last_seen_at, closed_at from alerts
     where ${options.includeClosed ? sql`true` : sql`closed_at is null`}
     order by opened_at desc, id limit ${options.limit ?? 200}`);
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    key: r.key,
    severity: r.severity,
    message: r.message,
    value: Number(r.value),
    threshold: Number(r.threshold),
    openedAt: Number(r.opened_at),
    lastSeenAt: Number(r.last_seen_at),
    closedAt: r.closed_at === null ? null : Number(r.closed_at),
  }));
}
