import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InngestTestEngine } from '@inngest/test';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { createCheckAlerts } from '../../src/inngest/functions/check-alerts.js';
import { deliverAlertNotices, postAlertText } from '../../src/services/alerts/deliver.js';
import { listAlerts, runAlertChecks } from '../../src/services/alerts/run-checks.js';
import { createTestDatabase } from '../helpers/db.js';

const DAY = 86_400;
const NOW = Date.UTC(2026, 10, 15, 12) / 1000; // 15 November 2026, 12:00 UTC

async function failures(database: Database, account: string, perDay: number[], now = NOW) {
  // perDay[0] = the last 24 h, perDay[i] = i days before that
  let n = 0;
  for (const [day, count] of perDay.entries()) {
    for (let i = 0; i < count; i++) {
      n += 1;
      const at = now - day * DAY - 60 - i;
      await database.query(sql`insert into payment_failures (account, event_id, customer_id, failed_at, decline_code) values (${account}, ${`evt_${account}_${now}_${day}_${n}`}, 'cus_1', ${at}, 'insufficient_funds')`);
    }
  }
}

describe('alert checks on PGlite: store, de-duplicate, close', () => {
  let database: Database;
  beforeAll(async () => {
    database = await createTestDatabase('pglite');
  });
  afterAll(async () => database?.close());
  beforeEach(async () => {
    await database.query(sql`delete from alerts`);
    await database.query(sql`delete from payment_failures`);
    await database.query(sql`delete from policy_budgets`);
    await database.query(sql`delete from stripe_events`);
    await database.query(sql`delete from scores`);
    await database.query(sql`delete from model_versions`);
  });

  it('a payment-failure spike opens one alert, stays one while it lasts, and closes when it clears', async () => {
    await failures(database, 'acct_spike', [30, ...new Array(14).fill(3)]);
    await failures(database, 'acct_calm', [3, ...new Array(14).fill(3)]);
    const first = await runAlertChecks(database, { now: NOW });
    expect(first.changes.filter((c) => c.kind === 'payment_failure_spike')).toEqual([{ id: expect.stringMatching(/^alr_/), kind: 'payment_failure_spike', key: 'acct_spike', change: 'opened' }]);

    const again = await runAlertChecks(database, { now: NOW + 900 });
    expect(again.changes.filter((c) => c.kind === 'payment_failure_spike').map((c) => [c.key, c.change])).toEqual([['acct_spike', 'updated']]);
    let open = await listAlerts(database);
    expect(open.map((a) => [a.kind, a.key])).toEqual([['payment_failure_spike', 'acct_spike']]);
    expect(open[0]!.openedAt).toBe(NOW);
    expect(open[0]!.lastSeenAt).toBe(NOW + 900);
    expect(open[0]!.message).toContain('30 payment failures in the last 24 h');

    // Two days later the burst is in the baseline, not in the last 24 h: cleared.
    const later = await runAlertChecks(database, { now: NOW + 2 * DAY });
    expect(later.changes.filter((c) => c.kind === 'payment_failure_spike').map((c) => [c.key, c.change])).toEqual([['acct_spike', 'closed']]);
    open = await listAlerts(database);
    expect(open).toEqual([]);
    const all = await listAlerts(database, { includeClosed: true });
    expect(all).toHaveLength(1);
    expect(all[0]!.closedAt).toBe(NOW + 2 * DAY);

    // A new burst is a new episode: a second row, the first stays closed.
    await failures(database, 'acct_spike', [40], NOW + 3 * DAY);
    const renewed = await runAlertChecks(database, { now: NOW + 3 * DAY });
    expect(renewed.changes.filter((c) => c.kind === 'payment_failure_spike').map((c) => c.change)).toEqual(['opened']);
    expect(await listAlerts(database, { includeClosed: true })).toHaveLength(2);
  });

  it('budget pace, processing lag and score drift against the held-out distribution', async () => {
    await database.query(sql`insert into policy_budgets (policy_id, month, currency, limit_amount, reserved) values ('pol_fast', '2026-11', 'usd', 100000, 90000), ('pol_slow', '2026-11', 'usd', 100000, 20000)`);
    await database.query(sql`insert into stripe_events (id, account, type, created, payload, source, received_at) values ('evt_stuck', 'platform', 'customer.created', ${NOW - 3600}, '{}'::jsonb, 'webhook', to_timestamp(${NOW - 3600}))`);
    const heldOut = [900, 60, 20, 10, 5, 3, 1, 1, 0, 0].map((count, i) => ({ lower: i / 10, upper: (i + 1) / 10, count, meanPredicted: 0, fractionPositive: 0 }));
    await database.query(sql`insert into model_versions (name, version, status, metrics, path, created_at) values ('churn', 'v1', 'champion', ${JSON.stringify({ model: { overall: { calibration: heldOut } } })}::jsonb, 'churn/v1', now())`);
    // today's scores sit much higher than on the held-out data
    for (let i = 0; i < 200; i++) {
      await database.query(sql`insert into scores (account, customer_id, as_of, model_name, model_version, probability, band) values ('platform', ${`cus_${i}`}, ${NOW - 600}, 'churn', 'v1', ${0.35 + (i % 50) / 100}, 'high')`);
    }
    const { findings, changes } = await runAlertChecks(database, { now: NOW });
    const opened = changes.filter((c) => c.change === 'opened').map((c) => `${c.kind}:${c.key}`).sort();
    expect(opened).toEqual(['budget_pace:pol_fast', 'processing_lag_spike:all', 'score_drift:v1']);
    const drift = findings.find((f) => f.kind === 'score_drift')!;
    expect(drift.details.referenceSource).toBe('held_out');
    expect(drift.value).toBeGreaterThan(1);

    // the projector catches up: the lag alert closes, the others stay
    await database.query(sql`update stripe_events set processed_at = to_timestamp(${NOW - 3590})`);
    const after = await runAlertChecks(database, { now: NOW + 60 });
    expect(after.changes.filter((c) => c.change === 'closed').map((c) => c.kind)).toEqual(['processing_lag_spike']);
    expect((await listAlerts(database)).map((a) => a.kind).sort()).toEqual(['budget_pace', 'score_drift']);
  });

  it('without held-out bins, drift compares against the champion first scoring run', async () => {
    await database.query(sql`insert into model_versions (name, version, status, metrics, path, created_at) values ('churn', 'v2', 'champion', '{"model": null}'::jsonb, 'churn/v2', now())`);
    for (let i = 0; i < 150; i++) {
      await database.query(sql`insert into scores (account, customer_id, as_of, model_name, model_version, probability, band) values ('platform', ${`cus_${i}`}, ${NOW - 10 * DAY}, 'churn', 'v2', ${0.02 + (i % 5) / 100}, 'low')`);
      await database.query(sql`insert into scores (account, customer_id, as_of, model_name, model_version, probability, band) values ('platform', ${`cus_${i}`}, ${NOW - DAY}, 'churn', 'v2', ${0.6 + (i % 5) / 100}, 'high')`);
    }
    const { findings } = await runAlertChecks(database, { now: NOW });
    const drift = findings.find((f) => f.kind === 'score_drift')!;
    expect(drift.firing).toBe(true);
    expect(drift.details.referenceSource).toBe('first_scoring_run');
    expect(drift.message).toContain("first scoring run");
  });

  describe('delivery to ALERT_WEBHOOK_URL', () => {
    let server: Server;
    let url = '';
    const received: Array<{ text: string }> = [];
    let failNext = 0;
    beforeAll(async () => {
      server = createServer((req: IncomingMessage, res: ServerResponse) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          if (failNext > 0) {
            failNext -= 1;
            res.writeHead(503).end('busy');
            return;
          }
          received.push(JSON.parse(body) as { text: string });
          res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/alerts`;
    });
    afterAll(async () => new Promise<void>((r) => server.close(() => r())));
    beforeEach(() => {
      received.length = 0;
      failNext = 0;
    });

    it('posts {text} for each new and each cleared alert once, retrying a busy receiver', async () => {
      await failures(database, 'acct_spike', [30, ...new Array(14).fill(3)]);
      await runAlertChecks(database, { now: NOW });
      failNext = 2; // two 503s, then accepted: three attempts are enough
      const sent = await deliverAlertNotices(database, { url, allowPrivate: true, sleep: async () => {} }, NOW);
      expect(sent).toEqual({ delivered: 1, failed: 0, refused: 0 });
      expect(received).toHaveLength(1);
      expect(received[0]!.text).toMatch(/payment_failure_spike \(acct_spike\): 30 payment failures/);
      // announced once: a second delivery sends nothing
      expect(await deliverAlertNotices(database, { url, allowPrivate: true, sleep: async () => {} }, NOW + 60)).toEqual({ delivered: 0, failed: 0, refused: 0 });
      await runAlertChecks(database, { now: NOW + 2 * DAY });
      await deliverAlertNotices(database, { url, allowPrivate: true, sleep: async () => {} }, NOW + 2 * DAY);
      expect(received.map((r) => r.text.startsWith(':white_check_mark: resolved payment_failure_spike'))).toEqual([false, true]);
    });

    it('a receiver that keeps failing leaves the notice unannounced for the next check', async () => {
      await failures(database, 'acct_spike', [30, ...new Array(14).fill(3)]);
      await runAlertChecks(database, { now: NOW });
      failNext = 3;
      expect(await deliverAlertNotices(database, { url, allowPrivate: true, attempts: 3, sleep: async () => {} }, NOW)).toEqual({ delivered: 0, failed: 1, refused: 0 });
      expect(await deliverAlertNotices(database, { url, allowPrivate: true, sleep: async () => {} }, NOW + 900)).toEqual({ delivered: 1, failed: 0, refused: 0 });
    });

    it('refuses a loopback receiver without ALERT_WEBHOOK_ALLOW_PRIVATE, sending nothing', async () => {
      await expect(postAlertText({ url }, 'hello')).rejects.toThrow(/127\.0\.0\.1, a private or loopback address/);
      await expect(postAlertText({ url: url.replace('127.0.0.1', 'localhost') }, 'hello')).rejects.toThrow(/private or loopback/);
      await failures(database, 'acct_spike', [30, ...new Array(14).fill(3)]);
      await runAlertChecks(database, { now: NOW });
      expect(await deliverAlertNotices(database, { url }, NOW)).toEqual({ delivered: 0, failed: 0, refused: 1 });
      expect(received).toEqual([]);
    });

    it('the check-alerts Inngest function runs the checks and delivers', async () => {
      await failures(database, 'acct_spike', [30, ...new Array(14).fill(3)]);
      const fn = createCheckAlerts({ database, now: () => NOW }, { url, allowPrivate: true, sleep: async () => {} });
      const { result } = await new InngestTestEngine({ function: fn }).execute({ events: [{ name: 'inngest/scheduled.timer', data: { cron: '*/15 * * * *' } }] });
      expect(result).toMatchObject({ firing: 1, notices: { delivered: 1, failed: 0, refused: 0 } });
      expect(received).toHaveLength(1);
      expect((await listAlerts(database)).map((a) => a.key)).toEqual(['acct_spike']);
    });
  });
});
