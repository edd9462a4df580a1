import { sql } from 'drizzle-orm';
import type Stripe from 'stripe';
import type { Database } from '../../src/db/client.js';
import { actAtMonthEnd, liveOneMonth, settleDue, type LoopContext } from '../../src/demo/retention-loop.js';
import { initBackend } from '../../src/ml/backend.js';
import { featureSet } from '../../src/ml/features.js';
import { ModelRegistry } from '../../src/ml/registry.js';
import { runAlertChecks } from '../../src/services/alerts/run-checks.js';
import { ingestEvents } from '../../src/services/events/ingest.js';
import type { StripeEventEnvelope } from '../../src/services/events/parse.js';
import { createPolicy } from '../../src/services/policies/store.js';
import { scoreAllCustomers } from '../../src/services/scoring/score-all-customers.js';
import { trainChurnModel } from '../../src/services/training/train-model.js';
import { writeTrainingReport } from '../../src/services/training/write-report.js';
import { createStripeSandbox, storeActionLookup, storeEventSink, type StripeSandbox } from '../../src/simulator/sandbox/index.js';
import { World } from '../../src/simulator/world/index.js';
import { createStripeClient } from '../../src/stripe/client.js';

/**
 * A small but real account for the dashboard test (and for looking at the dashboard by hand):
 * a simulated Stripe business ingested through the product's own paths, a model trained on it
 * (with its evaluation report, so the model page has plots), a live coupon policy decided and
 * applied through the local Stripe API for three month ends with outcomes settled in between,
 * a second trained version (so promote and roll back have something to do), and the anomaly
 * checks run. Nothing is inserted by hand except one customer renamed to an HTML payload, so
 * the test can check that names are rendered as text.
 */

export const HOSTILE_NAME = '<img src=x onerror="window.__pwned=1">Ada & <b>Co</b>';

export interface DashboardWorld {
  /** the app's clock: a few hours after the last decision, inside its month */
  now: number;
  registry: ModelRegistry;
  /** the threshold policy the editor changes */
  policyId: string;
  hostileCustomer: { account: string; customerId: string };
  versions: string[];
  close(): Promise<void>;
}

export async function seedDashboardWorld(database: Database, options: { modelDir: string; customers?: number; seed?: number }): Promise<DashboardWorld> {
  await initBackend();
  const sandbox: StripeSandbox = createStripeSandbox({});
  const api = await sandbox.listen(0);
  try {
    const world = new World({ customers: options.customers ?? 600, months: 14, seed: options.seed ?? 5 });
    sandbox.store.setNow(world.now());
    const actions = storeActionLookup(sandbox.store);
    const sink = storeEventSink(sandbox.store);
    const events: StripeEventEnvelope[] = [];
    for (let m = 0; m < 10; m++) await world.advanceMonth({ write: (e) => (sink.write(e), void events.push(e as unknown as StripeEventEnvelope)) }, actions);
    await ingestEvents(database, events, { source: 'ingest', batchSize: 2000 });
    sandbox.store.setNow(world.now());

    const train = (seed: number) =>
      trainChurnModel(database, { modelDir: options.modelDir, seed, now: new Date(world.now() * 1000), split: { minTrainPositives: 10 }, writeReport: (r) => writeTrainingReport(r) });
    const first = await train(1);
    const registry = new ModelRegistry({ db: database.db, modelDir: options.modelDir, featureSet: featureSet() });
    const model = await registry.refresh();
    if (!model) throw new Error(`the first training did not promote a champion: ${first.decision.reason}`);

    // Two policies: the riskiest fifth gets a live coupon whatever the first model's calibration
    // (so there are offers, outcomes and budget use to show); a threshold policy in dry run is the
    // one whose threshold the editor changes. The coupon is a flat amount: a percentage of an annual
    // invoice can cost more than the whole budget, and then which customers the model ranks first
    // would decide whether any offer (and the budget-pace alert) exists at all.
    await createPolicy(
      database,
      {
        name: 'Win back the riskiest fifth',
        description: '$20 off the next invoice for the riskiest fifth of customers, half held out',
        mode: 'live',
        priority: 200,
        targeting: { kind: 'top_percent', percent: 20 },
        action: { kind: 'coupon', amountOff: 2_000, currency: 'usd', duration: 'once' },
        eligibility: { cooldownDays: 25, maxOffersPerYear: 4, skipIfDiscounted: false, includeCancelling: false },
        budget: { monthlyAmount: 200_000, currency: 'usd' },
        holdoutPercent: 50,
        monthsKept: 6,
      },
      'demo',
    );
    const policy = await createPolicy(
      database,
      {
        name: 'Pause instead of cancel',
        description: 'A 30-day pause for customers above the risk threshold (dry run while it is tuned)',
        mode: 'dry_run',
        priority: 100,
        targeting: { kind: 'threshold', minProbability: 0.02 },
        action: { kind: 'pause', days: 30 },
        budget: { monthlyAmount: 500_000, currency: 'usd' },
        holdoutPercent: 30,
      },
      'demo',
    );
    const stripe: Stripe = createStripeClient({ secretKey: sandbox.apiKey, apiBase: api.url });
    const loop: LoopContext = { database, world, sandbox, stripe, model, stripeRatePerSecond: 200 };
    for (let round = 0; round < 2; round++) {
      await actAtMonthEnd(loop);
      await liveOneMonth(loop);
      await settleDue(loop);
    }
    await actAtMonthEnd(loop);
    const decidedAt = world.now();

    // a second version trained on the same data with another seed; the champion scores the snapshot the pages read
    const second = await train(2);
    const champion = await registry.refresh();
    await scoreAllCustomers(database, { asOf: decidedAt, model: champion! });
    const now = decidedAt + 6 * 3600;
    await runAlertChecks(database, { now });

    const [top] = await database.query<{ account: string; customer_id: string }>(sql`
      select account, customer_id from scores where as_of = ${decidedAt} order by probability desc, account, customer_id limit 1`);
    await database.query(sql`update customers set name = ${HOSTILE_NAME} where account = ${top!.account} and id = ${top!.customer_id}`);
    return {
      now,
      registry,
      policyId: policy.id,
      hostileCustomer: { account: top!.account, customerId: top!.customer_id },
      versions: [first.version, second.version],
      close: () => api.close(),
    };
  } catch (err) {
    await api.close();
    throw err;
  }
}
