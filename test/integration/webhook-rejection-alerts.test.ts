import { InngestTestEngine } from '@inngest/test';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { createCheckAlerts } from '../../src/inngest/functions/check-alerts.js';
import { addRejectionCounts, WebhookRejectionCounter } from '../../src/services/events/count-rejections.js';
import { projectPendingEvents } from '../../src/services/events/ingest.js';
import { listAlerts, runAlertChecks } from '../../src/services/alerts/run-checks.js';
import { stripeEvent, subscriptionObject } from '../fixtures/stripe-events.js';
import { createTestDatabase } from '../helpers/db.js';
import { signedWebhook, testApp } from '../helpers/app.js';

const HOUR = 3_600;
const DAY = 86_400;
const NOW = 1_760_000_000; // the test app's clock; signatures are made at this time
/** the route writes its tally about a second after a rejection */
const FLUSHED = { timeout: 5000, interval: 100 };

const counts = (database: Database) =>
  database.query<{ minute: number; reason: string; count: number }>(sql`select minute::float8 as minute, reason, count from webhook_rejections order by reason, minute`);

describe('webhook rejections persisted per minute, and their spike alert (PostgreSQL)', () => {
  let database: Database;
  beforeAll(async () => {
    database = await createTestDatabase('postgres');
  });
  afterAll(async () => database?.close());
  beforeEach(async () => {
    await database.query(sql`delete from webhook_rejections`);
    await database.query(sql`delete from alerts`);
  });

  const valid = (id: string) => JSON.stringify(stripeEvent('customer.subscription.updated', subscriptionObject({ id: `sub_${id}`, customer: 'cus_1' }), { id, created: NOW }));

  it('counts each refusal by reason (bad signature, not JSON, not an event, oversize) and never a stored delivery', async () => {
    const { app } = testApp(database);
    const results = await Promise.all([
      app.request('/webhooks/stripe', signedWebhook(valid('evt_bad_sig_1'), { secret: 'whsec_someone_else' })),
      app.request('/webhooks/stripe', signedWebhook(valid('evt_bad_sig_2'), { secret: 'whsec_someone_else' })),
      app.request('/webhooks/stripe', { method: 'POST', body: valid('evt_no_header'), headers: { 'content-type': 'application/json' } }),
      app.request('/webhooks/stripe', signedWebhook('{not json')),
      app.request('/webhooks/stripe', signedWebhook(JSON.stringify({ id: 'nope', type: 'x' }))),
      app.request('/webhooks/stripe', signedWebhook('x'.repeat(70_000))),
      app.request('/webhooks/stripe', signedWebhook(valid('evt_good_1'))),
    ]);
    expect(results.map((r) => r.status)).toEqual([400, 400, 400, 400, 422, 413, 200]);
    const minute = Math.floor(NOW / 60) * 60;
    await vi.waitFor(async () => {
      expect(await counts(database)).toEqual([
        { minute, reason: 'INVALID_SIGNATURE', count: 3 },
        { minute, reason: 'MALFORMED_JSON', count: 1 },
        { minute, reason: 'PAYLOAD_TOO_LARGE', count: 1 },
        { minute, reason: 'VALIDATION_FAILED', count: 1 },
      ]);
    }, FLUSHED);
  });

  it('a flood of refusals is one upsert per flush, not one per delivery', async () => {
    let statements = 0;
    const watched: Database = { ...database, query: (q, on) => ((statements += 1), database.query(q, on)) };
    const counter = new WebhookRejectionCounter(50);
    for (let i = 0; i < 1000; i++) counter.record(watched, i % 2 ? 'INVALID_SIGNATURE' : 'PAYLOAD_TOO_LARGE', NOW + (i < 500 ? 0 : 60));
    await counter.flush();
    expect(statements).toBe(1);
    expect((await counts(database)).map((r) => [r.reason, r.minute - Math.floor(NOW / 60) * 60, r.count])).toEqual([
      ['INVALID_SIGNATURE', 0, 250], ['INVALID_SIGNATURE', 60, 250], ['PAYLOAD_TOO_LARGE', 0, 250], ['PAYLOAD_TOO_LARGE', 60, 250],
    ]);
    counter.record(watched, 'INVALID_SIGNATURE', NOW);
    await counter.flush();
    expect(statements).toBe(2);
    expect((await counts(database))[0]!.count).toBe(251);
  });

  it('two processes (two apps) add to the same rows, so the check sees every refusal', async () => {
    const first = testApp(database).app;
    const second = testApp(database).app;
    for (let i = 0; i < 5; i++) {
      expect((await first.request('/webhooks/stripe', signedWebhook('{', { secret: 'whsec_wrong' }))).status).toBe(400);
      expect((await second.request('/webhooks/stripe', signedWebhook('{', { secret: 'whsec_wrong' }))).status).toBe(400);
    }
    await vi.waitFor(async () => expect((await counts(database)).map((r) => r.count)).toEqual([10]), FLUSHED);
  });

  it('opens a webhook_rejection_spike per reason against the trailing 14 days, and closes it when the hour is over', async () => {
    // a steady trickle of bad signatures (one every other hour for 14 days) and of oversize bodies
    const trickle = [];
    for (let h = 1; h <= 14 * 24; h += 2) trickle.push({ minute: Math.floor((NOW - h * HOUR) / 60) * 60, reason: 'INVALID_SIGNATURE', count: 1 });
    for (let h = 1; h <= 14 * 24; h += 1) trickle.push({ minute: Math.floor((NOW - h * HOUR) / 60) * 60, reason: 'PAYLOAD_TOO_LARGE', count: 1 });
    await addRejectionCounts(database, trickle);
    // now: 25 bad signatures in this hour, through the real route; oversize at its usual rate
    const { app } = testApp(database);
    for (let i = 0; i < 25; i++) expect((await app.request('/webhooks/stripe', signedWebhook(valid(`evt_s${i}`), { secret: 'whsec_leaked' }))).status).toBe(400);
    expect((await app.request('/webhooks/stripe', signedWebhook('y'.repeat(70_000)))).status).toBe(413);
    await vi.waitFor(async () => expect((await counts(database)).filter((r) => r.minute === Math.floor(NOW / 60) * 60).map((r) => r.count)).toEqual([25, 1]), FLUSHED);

    const checked = await runAlertChecks(database, { now: NOW + 60 });
    const rejections = checked.findings.filter((f) => f.kind === 'webhook_rejection_spike');
    expect(rejections.map((f) => [f.key, f.firing])).toEqual(expect.arrayContaining([['INVALID_SIGNATURE', true], ['PAYLOAD_TOO_LARGE', false]]));
    const open = await listAlerts(database);
    expect(open.map((a) => [a.kind, a.key, a.severity])).toEqual([['webhook_rejection_spike', 'INVALID_SIGNATURE', 'critical']]);
    expect(open[0]!.message).toContain('25 webhook deliveries refused with INVALID_SIGNATURE in the last hour');

    // the Inngest cron function runs the same checks: still open, updated, nothing new
    const fn = createCheckAlerts({ database, now: () => NOW + 900 }, null);
    const { result } = await new InngestTestEngine({ function: fn }).execute({ events: [{ name: 'inngest/scheduled.timer', data: { cron: '*/15 * * * *' } }] });
    expect((result as any).changes.filter((c: any) => c.kind === 'webhook_rejection_spike').map((c: any) => [c.key, c.change])).toEqual([['INVALID_SIGNATURE', 'updated']]);

    // two hours later the burst is part of the baseline: closed
    const later = await runAlertChecks(database, { now: NOW + 2 * HOUR });
    expect(later.changes.filter((c) => c.kind === 'webhook_rejection_spike').map((c) => [c.key, c.change])).toEqual([['INVALID_SIGNATURE', 'closed']]);

    // and counts older than the baseline are pruned by the check
    await runAlertChecks(database, { now: NOW + 20 * DAY });
    expect(await counts(database)).toEqual([]);
  });

  it('a failure to count never fails a delivery: the answers stay the same with the table gone', async () => {
    const { app } = testApp(database);
    await database.query(sql`alter table webhook_rejections rename to webhook_rejections_away`);
    try {
      const refused = await app.request('/webhooks/stripe', signedWebhook(valid('evt_x'), { secret: 'whsec_nobody' }));
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as any).error.code).toBe('INVALID_SIGNATURE');
      const stored = await app.request('/webhooks/stripe', signedWebhook(valid('evt_still_stored')));
      expect(stored.status).toBe(200);
      // give the failed count its write (a second later), then check the process is still serving
      await new Promise((r) => setTimeout(r, 1500));
      expect((await app.request('/webhooks/stripe', signedWebhook(valid('evt_still_stored')))).status).toBe(200);
    } finally {
      await database.query(sql`alter table webhook_rejections_away rename to webhook_rejections`);
    }
    const [row] = await database.query<{ n: number }>(sql`select count(*)::int as n from stripe_events where id = 'evt_still_stored'`);
    expect(row!.n).toBe(1);
  });

  it('a processing lag spike: deliveries stored by the route but not projected open the alert, projecting them closes it', async () => {
    await database.query(sql`delete from stripe_events`);
    const { app } = testApp(database);
    for (let i = 0; i < 3; i++) expect((await app.request('/webhooks/stripe', signedWebhook(valid(`evt_lag_${i}`)))).status).toBe(200);
    // received_at is the database's clock: check as of 20 minutes after it, with no projector running
    const [{ at }] = await database.query<{ at: number }>(sql`select extract(epoch from max(received_at))::float8 as at from stripe_events`);
    const checkAt = Math.ceil(Number(at)) + 20 * 60;
    const stuck = await runAlertChecks(database, { now: checkAt });
    expect(stuck.changes.filter((c) => c.kind === 'processing_lag_spike').map((c) => c.change)).toEqual(['opened']);
    const [alert] = await listAlerts(database);
    expect(alert).toMatchObject({ kind: 'processing_lag_spike', key: 'all', severity: 'critical' });
    expect(alert!.message).toMatch(/oldest unprojected event waiting 1[23]\d\d s/);
    // the projector catches up (the real projection, as the background worker runs it)
    await projectPendingEvents(database, { limit: 100 });
    const cleared = await runAlertChecks(database, { now: checkAt + 60 });
    expect(cleared.changes.filter((c) => c.kind === 'processing_lag_spike').map((c) => c.change)).toEqual(['closed']);
  });
});
