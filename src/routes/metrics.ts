import { Hono } from 'hono';
import { sql } from 'drizzle-orm';
import { Gauge } from 'prom-client';
import type { AppEnv, AppDeps } from '../app.js';
import { errorMessage } from '../lib/errors.js';
import { logger } from '../lib/logger.js';
import { businessGauges, metricsRegistry } from '../lib/metrics.js';
import { budgetMonthOf } from '../services/retention/budget.js';
import { upliftReportFromStore } from '../services/retention/uplift-report.js';

/** A scrape must answer within Prometheus' default 10 s timeout even when the database hangs. */
const BACKLOG_READ_TIMEOUT_MS = 2000;

interface BacklogGauges {
  backlog: Gauge<'queue'>;
  stale: Gauge;
  readAt: Gauge;
  reachable: Gauge;
  /** whether the last read failed, so the failure is logged once per outage, not per scrape */
  failing: boolean;
}

let gauges: BacklogGauges | null = null;

function backlogGauges(): BacklogGauges {
  gauges ??= {
    backlog: new Gauge({
      name: 'churn_backlog',
      help: 'Rows waiting: unprojected events, undelivered outbox rows (the last values read; see churn_backlog_stale)',
      labelNames: ['queue'] as const,
      registers: [metricsRegistry],
    }),
    stale: new Gauge({
      name: 'churn_backlog_stale',
      help: '1 when churn_backlog could not be read at this scrape and shows the last values read',
      registers: [metricsRegistry],
    }),
    readAt: new Gauge({
      name: 'churn_backlog_read_timestamp_seconds',
      help: 'When churn_backlog was last read from the database (unix seconds)',
      registers: [metricsRegistry],
    }),
    reachable: new Gauge({
      name: 'churn_database_reachable',
      help: '1 when the database answered at this scrape, 0 when it is unreachable',
      registers: [metricsRegistry],
    }),
    failing: false,
  };
  return gauges;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Backlogs are read from the database at scrape time, so every process reports the truth. When
 * the database is down that read fails, and that is exactly when the counters matter: the scrape
 * still answers, with the last values read marked stale and the database marked unreachable.
 */
async function readBacklog(deps: AppDeps, now: number): Promise<void> {
  const g = backlogGauges();
  try {
    const rows = await withTimeout(
      deps.database.query<{ events: number; outbox: number }>(sql`
        select (select count(*) from stripe_events where processed_at is null)::int as events,
               (select count(*) from outbox where delivered_at is null)::int as outbox`),
      BACKLOG_READ_TIMEOUT_MS,
    );
    g.backlog.set({ queue: 'unprojected_events' }, Number(rows[0]?.events ?? 0));
    g.backlog.set({ queue: 'outbox_pending' }, Number(rows[0]?.outbox ?? 0));
    g.stale.set(0);
    g.readAt.set(now);
    g.reachable.set(1);
    if (g.failing) logger.info('metrics: the database answers again; backlog gauges are current');
    g.failing = false;
  } catch (err) {
    g.stale.set(1);
    g.reachable.set(0);
    if (!g.failing) logger.warn({ err: errorMessage(err) }, 'metrics: database unreachable; serving the last backlog values, marked stale');
    g.failing = true;
  }
}

/** The uplift report bootstraps its intervals (thousands of resamples): at most one computation per 5 minutes. */
export const SAVED_MRR_REFRESH_SECONDS = 300;

interface BusinessState {
  failing: boolean;
  savedMrrAt: number | null;
  savedMrrRefresh: Promise<void> | null;
}

const business: BusinessState = { failing: false, savedMrrAt: null, savedMrrRefresh: null };

async function refreshSavedMrr(deps: AppDeps, now: number): Promise<void> {
  const report = await upliftReportFromStore(deps.database);
  const g = businessGauges.savedMrr;
  g.reset();
  const saved = report.overall.savedMrr;
  // No estimate yet (too few settled outcomes in both arms): the series is absent, not a made-up 0.
  if (saved) {
    g.set({ currency: report.currency, bound: 'estimate' }, saved.estimate);
    g.set({ currency: report.currency, bound: 'lower' }, saved.lower);
    g.set({ currency: report.currency, bound: 'upper' }, saved.upper);
  }
  business.savedMrrAt = now;
}

/**
 * Model, interventions, budgets, alerts and saved MRR, read from the database at scrape time like
 * the backlog, and like it kept at their last values (churn_business_gauges_stale = 1) when the
 * database does not answer.
 */
async function readBusiness(deps: AppDeps, now: number): Promise<void> {
  const g = businessGauges;
  try {
    const month = budgetMonthOf(now);
    const [models, interventions, budgets, alerts] = await withTimeout(
      Promise.all([
        deps.database.query<{ name: string; version: string }>(sql`select name, version from model_versions where status = 'champion'`),
        deps.database.query<{ action: string; arm: string; status: string; outcome: string | null; n: number }>(sql`
          select action, arm, status, outcome, count(*)::int as n from interventions group by action, arm, status, outcome`),
        deps.database.query<{ policy_id: string; currency: string; reserved: string | number; limit_amount: string | number }>(sql`
          select policy_id, currency, reserved, limit_amount from policy_budgets where month = ${month}`),
        deps.database.query<{ kind: string; n: number }>(sql`select kind, count(*)::int as n from alerts where closed_at is null group by kind`),
      ]),
      BACKLOG_READ_TIMEOUT_MS,
    );
    g.activeModel.reset();
    for (const m of models) g.activeModel.set({ name: m.name, version: m.version }, 1);
    g.interventions.reset();
    for (const r of interventions) g.interventions.set({ action: r.action, arm: r.arm, status: r.status, outcome: r.outcome ?? 'pending' }, Number(r.n));
    g.budgetUsed.reset();
    g.budgetLimit.reset();
    for (const b of budgets) {
      g.budgetUsed.set({ policy_id: b.policy_id, currency: b.currency }, Number(b.reserved));
      g.budgetLimit.set({ policy_id: b.policy_id, currency: b.currency }, Number(b.limit_amount));
    }
    g.alertsOpen.reset();
    for (const a of alerts) g.alertsOpen.set({ kind: a.kind }, Number(a.n));
    if (!business.savedMrrRefresh && (business.savedMrrAt === null || now - business.savedMrrAt >= SAVED_MRR_REFRESH_SECONDS)) {
      business.savedMrrRefresh = refreshSavedMrr(deps, now).finally(() => {
        business.savedMrrRefresh = null;
      });
    }
    // A slow report does not hold the scrape: the previous values stay until it finishes.
    if (business.savedMrrRefresh) await withTimeout(business.savedMrrRefresh, BACKLOG_READ_TIMEOUT_MS).catch(() => {});
    g.stale.set(0);
    business.failing = false;
  } catch (err) {
    g.stale.set(1);
    if (!business.failing) logger.warn({ err: errorMessage(err) }, 'metrics: model, intervention, budget and alert gauges could not be read; serving the last values, marked stale');
    business.failing = true;
  }
}

export function metricsRoutes() {
  const routes = new Hono<AppEnv>();
  routes.get('/metrics', async (c) => {
    const deps = c.get('deps');
    const now = deps.now();
    await Promise.all([readBacklog(deps, now), readBusiness(deps, now)]);
    const body = await metricsRegistry.metrics();
    return c.body(body, 200, { 'content-type': metricsRegistry.contentType });
  });
  return routes;
}
