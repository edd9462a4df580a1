import { Hono } from 'hono';
import { sql } from 'drizzle-orm';
import { Gauge } from 'prom-client';
import type { AppEnv, AppDeps } from '../app.js';
import { metricsRegistry } from '../lib/metrics.js';

let backlog: { deps: AppDeps | null; gauge: Gauge } | null = null;

/** Backlogs are read from the database at scrape time, so every process reports the truth. */
function backlogGauge(): { deps: AppDeps | null; gauge: Gauge } {
  if (backlog) return backlog;
  const state: { deps: AppDeps | null; gauge: Gauge } = { deps: null, gauge: null as unknown as Gauge };
  state.gauge = new Gauge({
    name: 'churn_backlog',
    help: 'Rows waiting: unprojected events, undelivered outbox rows',
    labelNames: ['queue'] as const,
    registers: [metricsRegistry],
    async collect() {
      if (!state.deps) return;
      const rows = await state.deps.database.query<{ events: number; outbox: number }>(sql`
        select (select count(*) from stripe_events where processed_at is null)::int as events,
               (select count(*) from outbox where delivered_at is null)::int as outbox`);
      this.set({ queue: 'unprojected_events' }, Number(rows[0]?.events ?? 0));
      this.set({ queue: 'outbox_pending' }, Number(rows[0]?.outbox ?? 0));
    },
  });
  backlog = state;
  return state;
}

export function metricsRoutes() {
  const routes = new Hono<AppEnv>();
  routes.get('/metrics', async (c) => {
    backlogGauge().deps = c.get('deps');
    const body = await metricsRegistry.metrics();
    return c.body(body, 200, { 'content-type': metricsRegistry.contentType });
  });
  return routes;
}
