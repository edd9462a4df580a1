import { InngestTestEngine } from '@inngest/test';
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { createProjectStripeEvent } from '../../src/inngest/functions/project-stripe-event.js';
import { createReconcileStripeEvents, RECONCILE_SCHEDULE } from '../../src/inngest/functions/reconcile-stripe-events.js';
import { createInngestFunctions } from '../../src/inngest/index.js';
import { DAY } from '../../src/lib/clock.js';
import { ingestEvents } from '../../src/services/events/ingest.js';
import type { StripeEventEnvelope } from '../../src/services/events/parse.js';
import { storeEvents } from '../../src/services/events/store.js';
import { relayOutboxBatch } from '../../src/services/outbox/relay.js';
import { PROJECTION_TABLES } from '../../src/services/projections/apply.js';
import { createStripeSandbox, type StripeSandbox } from '../../src/simulator/sandbox/index.js';
import { seedSampleAccount } from '../../src/simulator/sandbox/sample-account.js';
import { createStripeClient } from '../../src/stripe/client.js';
import { customerObject, stripeEvent, subscriptionObject } from '../fixtures/stripe-events.js';
import { createTestDatabase } from '../helpers/db.js';
import { startInngestTarget, type InngestTarget } from '../integration/relay-target.js';

const T0 = 1_780_000_000;
const CONNECTED = 'acct_1InngestConnected';

let database: Database;
beforeAll(async () => {
  database = await createTestDatabase('pglite');
});
afterAll(async () => {
  await database.close();
});
beforeEach(async () => {
  await database.query(sql.raw(`truncate stripe_events, outbox, sync_cursors, ${PROJECTION_TABLES.join(', ')}`));
});

const count = async (table: string, where = 'true') =>
  Number((await database.query<{ n: number }>(sql.raw(`select count(*)::int as n from ${table} where ${where}`)))[0]!.n);

describe('projectStripeEvent', () => {
  let target: InngestTarget;
  beforeEach(async () => {
    target = await startInngestTarget();
  });
  afterEach(async () => {
    await target.close();
  });

  it('projects the stored events the relayed stripe/* events point at', async () => {
    const events = [
      stripeEvent('customer.created', customerObject('cus_inngest1'), { created: T0 }),
      stripeEvent('customer.subscription.created', subscriptionObject({ id: 'sub_inngest1', customer: 'cus_inngest1', status: 'active', created: T0 }), { created: T0 + 1 }),
    ];
    // The webhook path: stored (with outbox rows), not yet projected.
    await database.db.transaction((tx) => storeEvents(tx, events, 'webhook'));
    expect(await count('customers')).toBe(0);
    // The relay sends them to (a stand-in for) Inngest over HTTP; Inngest hands them to the function.
    await relayOutboxBatch(database, { send: target.send });
    expect(target.received).toHaveLength(2);
    const [first, ...rest] = target.received.map((e) => ({ id: e.id, name: e.name, data: e.data, ts: e.ts }));

    const t = new InngestTestEngine({ function: createProjectStripeEvent({ database, now: () => T0 }) });
    const { result, error, ctx } = await t.execute({ events: [first!, ...rest] });
    expect(error).toBeUndefined();
    expect(result).toEqual({ events: 2, ignored: 0, projected: 2 });
    expect(ctx.step.run).toHaveBeenCalledWith('project-pending-events', expect.any(Function));
    expect(await count('customers', `id = 'cus_inngest1'`)).toBe(1);
    expect(await count('subscriptions', `id = 'sub_inngest1' and status = 'active'`)).toBe(1);
    expect(await count('stripe_events', 'processed_at is null')).toBe(0);

    // Delivered again (Inngest retries, a second relay): nothing left to do, nothing changes.
    // (a fresh engine: one engine replays its memoised step results, as Inngest does within a run)
    const again = await new InngestTestEngine({ function: createProjectStripeEvent({ database, now: () => T0 }) }).execute({ events: [first!] });
    expect(again.result).toEqual({ events: 1, ignored: 0, projected: 0 });
  });

  it('refuses, without retrying, a batch with no valid stripe/* event', async () => {
    await database.db.transaction((tx) => storeEvents(tx, [stripeEvent('customer.created', customerObject('cus_inngest2'), { created: T0 })], 'webhook'));
    const t = new InngestTestEngine({ function: createProjectStripeEvent({ database, now: () => T0 }) });
    const { error } = await t.execute({ events: [{ name: 'stripe/customer.created', data: { id: 'not-an-event-id' } }] });
    expect(error).toBeDefined();
    expect(String((error as { name?: string }).name)).toBe('NonRetriableError');
    expect(await count('customers')).toBe(0);
  });
});

describe('reconcileStripeEvents (scheduled)', () => {
  let sandbox: StripeSandbox;
  let close: () => Promise<void>;
  let url: string;
  beforeEach(async () => {
    sandbox = createStripeSandbox({ now: T0, accounts: [CONNECTED] });
    seedSampleAccount(sandbox.store, { customers: 6, seed: 21 });
    seedSampleAccount(sandbox.store, { customers: 4, seed: 22, account: CONNECTED });
    const listening = await sandbox.listen(0);
    close = listening.close;
    url = listening.url;
  });
  afterEach(async () => {
    await close();
  });

  it('runs on a cron and stores, per known account, the events Stripe has that we lack', async () => {
    const stripe = createStripeClient({ secretKey: sandbox.apiKey, apiBase: url, maxNetworkRetries: 0 });
    const fn = createReconcileStripeEvents({ database, stripe, now: () => sandbox.store.now() });
    expect(fn.opts.triggers).toEqual([{ cron: RECONCILE_SCHEDULE }]);
    // We know the connected account from one event it sent us.
    const connectedEvents = sandbox.store.listEvents(CONNECTED) as unknown as StripeEventEnvelope[];
    await ingestEvents(database, [connectedEvents.at(-1)!], { source: 'webhook' });

    const t = new InngestTestEngine({ function: fn });
    const { result, error, ctx } = await t.execute({ events: [{ name: 'inngest/scheduled.timer', data: { cron: RECONCILE_SCHEDULE } }] });
    expect(error).toBeUndefined();
    // one step per known account, each retried on its own
    const stepIds = ctx.step.run.mock.calls.map((c) => c[0]);
    expect(stepIds).toEqual(['list-accounts', `reconcile-${CONNECTED}`, 'reconcile-platform']);
    const since = sandbox.store.now() - 30 * DAY;
    const platformRecent = sandbox.store.listEvents(undefined).filter((e) => e.created >= since).length;
    const summaries = (result as { accounts: { account: string; stored: number; duplicates: number }[] }).accounts;
    expect(summaries.find((s) => s.account === 'platform')).toMatchObject({ stored: platformRecent, duplicates: 0 });
    // The connected account is read from the newest event we hold minus the overlap.
    expect(summaries.find((s) => s.account === CONNECTED)!.duplicates).toBe(1);
    expect(await count('stripe_events', `account = 'platform' and source = 'reconcile'`)).toBe(platformRecent);
  });

  it('reports itself skipped when no Stripe key is configured', async () => {
    const t = new InngestTestEngine({ function: createReconcileStripeEvents({ database, now: () => T0 }) });
    const { result } = await t.execute({ events: [{ name: 'inngest/scheduled.timer', data: {} }] });
    expect(result).toMatchObject({ skipped: expect.stringContaining('STRIPE_SECRET_KEY') });
    expect(await count('stripe_events')).toBe(0);
  });
});

describe('functions array', () => {
  it('exports every function with a stable id and its trigger', () => {
    const fns = createInngestFunctions({ database, now: () => T0 });
    const described = fns.map((f) => ({ id: f.id(), triggers: f.opts.triggers }));
    expect(new Set(described.map((d) => d.id)).size).toBe(described.length);
    // the ingestion functions; the retention ones are checked in retention-functions.test.ts
    expect(described.slice(0, 2)).toEqual([
      { id: 'project-stripe-event', triggers: [expect.objectContaining({ event: 'stripe/*' })] },
      { id: 'reconcile-stripe-events', triggers: [{ cron: RECONCILE_SCHEDULE }] },
    ]);
  });
});
