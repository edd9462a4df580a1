import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import type { Database } from '../../src/db/client.js';
import { liveOneMonth, type LoopContext } from '../../src/demo/retention-loop.js';
import { initBackend } from '../../src/ml/backend.js';
import { featureSet } from '../../src/ml/features.js';
import { ModelRegistry } from '../../src/ml/registry.js';
import { ingestEvents } from '../../src/services/events/ingest.js';
import type { StripeEventEnvelope } from '../../src/services/events/parse.js';
import { trainChurnModel } from '../../src/services/training/train-model.js';
import { createStripeSandbox, storeActionLookup, storeEventSink, type StripeSandbox } from '../../src/simulator/sandbox/index.js';
import { World } from '../../src/simulator/world/index.js';
import { createStripeClient } from '../../src/stripe/client.js';
import { createTestDatabase } from '../helpers/db.js';

/**
 * The retention loop as a user runs it from the CLI, on real PostgreSQL against the local Stripe
 * API with the real SDK: create a policy, simulate it, act (twice: the second run changes
 * nothing), let the simulated customers live a month, settle outcomes, read the uplift report.
 */
describe('retention from the CLI', () => {
  let database: Database & { url?: string };
  let sandbox: StripeSandbox;
  let api: { url: string; close(): Promise<void> };
  let world: World;
  const dir = mkdtempSync(join(tmpdir(), 'churn-retention-cli-'));
  const saved = { ...process.env };

  beforeAll(async () => {
    await initBackend();
    database = await createTestDatabase('postgres');
    sandbox = createStripeSandbox({});
    api = await sandbox.listen(0);
    world = new World({ customers: 900, months: 10, seed: 11 });
    sandbox.store.setNow(world.now());
    const sink = storeEventSink(sandbox.store);
    const events: StripeEventEnvelope[] = [];
    for (let m = 0; m < 9; m++) {
      await world.advanceMonth({ write: (e) => (sink.write(e), void events.push(e as unknown as StripeEventEnvelope)) }, storeActionLookup(sandbox.store));
    }
    await ingestEvents(database, events, { source: 'ingest', batchSize: 2000 });
    sandbox.store.setNow(world.now());
    await trainChurnModel(database, { modelDir: join(dir, 'models'), seed: 1, now: new Date(world.now() * 1000), split: { minTrainPositives: 10 } });
    Object.assign(process.env, {
      DATABASE_URL: database.url,
      MODEL_DIR: join(dir, 'models'),
      STRIPE_API_BASE: api.url,
      STRIPE_SECRET_KEY: sandbox.apiKey,
    });
  }, 240_000);

  afterAll(async () => {
    process.env = saved;
    await api?.close();
    await database?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  });

  function capture() {
    const out: string[] = [];
    const err: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
    return { out: () => out.join(''), err: () => err.join('') };
  }
  const asOf = () => new Date(world.now() * 1000).toISOString();

  it('creates, refuses, simulates, acts once, settles and reports', async () => {
    const policyFile = join(dir, 'policy.json');
    writeFileSync(
      policyFile,
      JSON.stringify({
        name: 'Save at-risk',
        mode: 'live',
        targeting: { kind: 'threshold', minProbability: 0.02 },
        action: { kind: 'coupon', percentOff: 20, duration: 'once' },
        budget: { monthlyAmount: 150_000, currency: 'usd' },
        holdoutPercent: 30,
      }),
    );
    let io = capture();
    expect(await runCli(['node', 'churn', 'policies', 'create', '--file', policyFile])).toBe(0);
    expect(io.out()).toMatch(/created pol_\w+ v1 "Save at-risk" \(live\)/);

    // an invalid policy names its field and stores nothing
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ name: 'x', targeting: { kind: 'threshold', minProbability: 2 }, action: { kind: 'pause' }, budget: { monthlyAmount: 1 } }));
    io = capture();
    expect(await runCli(['node', 'churn', 'policies', 'create', '--file', bad])).toBe(1);
    expect(io.err()).toMatch(/targeting\.minProbability/);
    expect(io.err()).toMatch(/action\.days/);
    io = capture();
    expect(await runCli(['node', 'churn', 'policies', 'create', '--file', join(dir, 'missing.json')])).toBe(2);
    expect(io.err()).toMatch(/no such file/);

    io = capture();
    expect(await runCli(['node', 'churn', 'policies', 'simulate', '--as-of', asOf()])).toBe(0);
    const simulated = io.out();
    expect(simulated).toMatch(/would target \d+ customer\(s\) \(\d+ treated, \d+ held out\), expected cost \$[\d,.]+ this month/);
    expect((await database.query<{ n: number }>(sql`select count(*)::int as n from interventions`))[0]!.n).toBe(0);

    io = capture();
    expect(await runCli(['node', 'churn', 'act', '--as-of', asOf(), '--rate', '50'])).toBe(0);
    expect(io.out()).toMatch(/applied \d+ offer\(s\) through Stripe/);
    const treated = await database.query<{ subscription_id: string; status: string; cost: string; stripe_request_ids: string[] }>(
      sql`select subscription_id, status, cost, stripe_request_ids from interventions where arm = 'treatment'`,
    );
    const held = await database.query<{ status: string }>(sql`select status from interventions where arm = 'holdout'`);
    expect(treated.length).toBeGreaterThan(5);
    expect(held.length).toBeGreaterThan(0);
    expect(treated.every((r) => r.status === 'applied' && Number(r.cost) > 0 && r.stripe_request_ids.length > 0)).toBe(true);
    expect(held.every((r) => r.status === 'holdout')).toBe(true);

    // what Stripe holds: exactly one retention discount on every treated subscription, none on the held out
    const stripe = createStripeClient({ secretKey: sandbox.apiKey, apiBase: api.url });
    const retentionDiscounts = async (subscriptionId: string) => {
      const sub = await stripe.subscriptions.retrieve(subscriptionId, { expand: ['discounts'] });
      return (sub.discounts as unknown as { source?: { coupon?: { id: string } | string } }[]).filter((d) => {
        const coupon = d.source?.coupon;
        return (typeof coupon === 'string' ? coupon : coupon?.id ?? '').startsWith('churn_');
      }).length;
    };
    for (const r of treated.slice(0, 10)) expect(await retentionDiscounts(r.subscription_id)).toBe(1);

    // a second run at the same time decides nothing new; the one offer a "crash" left half-applied
    // (already on Stripe, not yet recorded) is finished without a second change on Stripe
    const stuck = treated[0]!.subscription_id;
    await database.query(sql`update interventions set status = 'applying' where subscription_id = ${stuck} and arm = 'treatment'`);
    const eventsBefore = (await stripe.events.list({ limit: 100 })).data.length;
    io = capture();
    expect(await runCli(['node', 'churn', 'act', '--as-of', asOf()])).toBe(0);
    expect(io.out()).toMatch(/decided 0 customer\(s\)/);
    expect(io.out()).toMatch(/1 earlier decision\(s\) not yet applied are retried/);
    const [again] = await database.query<{ status: string }>(sql`select status from interventions where subscription_id = ${stuck} and arm = 'treatment'`);
    expect(again!.status).toBe('applied');
    expect(io.out()).toMatch(/cooldown/);
    expect((await stripe.events.list({ limit: 100 })).data.length).toBe(eventsBefore);
    const [{ n: after }] = await database.query<{ n: number }>(sql`select count(*)::int as n from interventions where arm = 'treatment'`);
    expect(after).toBe(treated.length);
    for (const r of treated.slice(0, 10)) expect(await retentionDiscounts(r.subscription_id)).toBe(1);

    // the customers live a month (and the product's own changes come back through reconcile)
    const model = await new ModelRegistry({ db: database.db, modelDir: join(dir, 'models'), featureSet: featureSet() }).refresh();
    const ctx: LoopContext = { database, world, sandbox, stripe, model: model! };
    await liveOneMonth(ctx);
    await liveOneMonth(ctx);
    io = capture();
    expect(await runCli(['node', 'churn', 'outcomes', '--now', asOf()])).toBe(0);
    expect(io.out()).toMatch(/settled \d+ intervention\(s\): \d+ churned, \d+ stayed/);
    const unsettled = await database.query<{ n: number }>(sql`select count(*)::int as n from interventions where outcome is null and status in ('applied', 'holdout')`);
    expect(unsettled[0]!.n).toBe(0);

    io = capture();
    expect(await runCli(['node', 'churn', 'report', 'uplift', '--json'])).toBe(0);
    const report = JSON.parse(io.out());
    expect(report.overall.treated.settled).toBe(treated.length);
    expect(report.overall.holdout.settled).toBe(held.length);
    expect(report.policies).toHaveLength(1);
    io = capture();
    expect(await runCli(['node', 'churn', 'report', 'uplift', '--currency', 'dollars'])).toBe(2);
  }, 240_000);
});
