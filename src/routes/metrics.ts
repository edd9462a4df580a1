import { Hono } from 'hono';
import { sql } from 'drizzle-orm';
import { Gauge } from 'prom-client';
import type { AppEnv, AppDeps } from '../app.js';
import { errorMessage } from '../lib/errors.js';
import { logger } from '../lib/logger.js';
import { metricsRegistry } from '../lib/metrics.js';

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

export function metricsRoutes() {
  const routes = new Hono<AppEnv>();
  routes.get('/metrics', async (c) => {
    const deps = c.get('deps');
    await readBacklog(deps, deps.now());
    const body = await metricsRegistry.metrics();
    return c.body(body, 200, { 'content-type': metricsRegistry.contentType });
  });
  return routes;
}
