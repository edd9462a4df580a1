import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { metricsRegistry } from '../../src/lib/metrics.js';
import { testApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/db.js';

/** churn_* names in a PromQL text; histogram series suffixes point at their histogram. */
function referencedMetrics(text: string): Set<string> {
  const names = new Set<string>();
  for (const [name] of text.matchAll(/\bchurn_[a-z0-9_]+\b/g)) names.add(name);
  return names;
}

describe('ops/ dashboard and alert rules', () => {
  let database: Database;
  let registered: Set<string>;
  beforeAll(async () => {
    database = await createTestDatabase('pglite');
    // the scrape-time gauges register on the first scrape
    const { app } = testApp(database);
    expect((await app.request('/metrics')).status).toBe(200);
    registered = new Set<string>();
    for (const m of await metricsRegistry.getMetricsAsJSON()) {
      registered.add(m.name);
      if (String(m.type) === 'histogram') for (const s of ['_bucket', '_sum', '_count']) registered.add(`${m.name}${s}`);
    }
  });
  afterAll(async () => database?.close());

  const assets = {
    'ops/grafana/churn-dashboard.json': () => {
      const dashboard = JSON.parse(readFileSync('ops/grafana/churn-dashboard.json', 'utf8')) as { panels: Array<{ targets: Array<{ expr: string }> }> };
      return dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)).join('\n');
    },
    'ops/prometheus/churn-alerts.yml': () =>
      readFileSync('ops/prometheus/churn-alerts.yml', 'utf8')
        .split('\n')
        .filter((l) => /^\s*expr:/.test(l))
        .join('\n'),
  };

  for (const [file, read] of Object.entries(assets)) {
    it(`${file} names only metrics the code registers`, () => {
      const used = referencedMetrics(read());
      expect(used.size).toBeGreaterThan(5);
      expect([...used].filter((name) => !registered.has(name))).toEqual([]);
    });
  }

  it('between them, the dashboard and the rules use every business metric', () => {
    const used = new Set([...referencedMetrics(assets['ops/grafana/churn-dashboard.json']()), ...referencedMetrics(assets['ops/prometheus/churn-alerts.yml']())]);
    for (const name of [
      'churn_webhook_deliveries_total', 'churn_webhook_events_total', 'churn_event_processing_lag_seconds_bucket', 'churn_backlog',
      'churn_stripe_api_request_duration_seconds_bucket', 'churn_stripe_api_errors_total', 'churn_payment_declines_total',
      'churn_scoring_duration_seconds_count', 'churn_active_model_info', 'churn_interventions', 'churn_budget_used_minor',
      'churn_budget_limit_minor', 'churn_saved_mrr_minor', 'churn_alerts_open', 'churn_alert_deliveries_total', 'churn_database_reachable',
    ]) expect(used, name).toContain(name);
  });

  it('a misspelt name would be caught', () => {
    expect(registered.has('churn_stripe_api_latency_seconds_bucket')).toBe(false);
  });
});
