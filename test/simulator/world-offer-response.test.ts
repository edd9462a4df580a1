import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type Stripe from 'stripe';
import { World, type ActionState, type CustomerOutcome, type EventSink, type TruthRecord, type WorldOptions } from '../../src/simulator/world/index.js';
import { createStripeSandbox, SandboxStore, storeActionLookup, storeEventSink } from '../../src/simulator/sandbox/index.js';
import { createStripeClient } from '../../src/stripe/client.js';

/**
 * The response to each offer leans on what Stripe shows (hazard.ts, "Treatments"): these tests read
 * the visible facts from the world's own Stripe events, never from its hidden state, and check the
 * truth and the world against them.
 */

const DAY = 86_400;
const HORIZON = 30 * DAY;
const API_KEY = 'sk_test_world_offer_response';

/** What a Stripe account shows about one customer's subscription, folded from its events. */
interface VisibleFacts {
  tier: number;
  annual: boolean;
  startQuantity: number;
  quantity: number;
  lastShrinkAt: number;
  lastDowngradeAt: number;
  introEndedAt: number;
  signupTrialEnd: number;
}

interface SubscriptionItemShape {
  quantity: number;
  price: { product: string; recurring: { interval: string } };
}

/** A sink that keeps only the facts the offer response is documented to read. */
function visibleFactsSink(world: World): EventSink & { facts: Map<string, VisibleFacts> } {
  const tierOf = new Map(world.catalogs.flatMap((c) => c.products.map((p) => [p.id, p.tier] as const)));
  const facts = new Map<string, VisibleFacts>();
  return {
    facts,
    write(event: Stripe.Event) {
      const object = event.data.object as unknown as Record<string, unknown>;
      if (event.type === 'customer.discount.deleted') {
        const f = facts.get(object.customer as string);
        if (f) f.introEndedAt = event.created;
        return;
      }
      if (event.type !== 'customer.subscription.created' && event.type !== 'customer.subscription.updated') return;
      const item = (object.items as { data: SubscriptionItemShape[] }).data[0]!;
      const tier = tierOf.get(item.price.product)!;
      const customer = object.customer as string;
      if (event.type === 'customer.subscription.created') {
        facts.set(customer, {
          tier,
          annual: item.price.recurring.interval === 'year',
          startQuantity: item.quantity,
          quantity: item.quantity,
          lastShrinkAt: 0,
          lastDowngradeAt: 0,
          introEndedAt: 0,
          signupTrialEnd: typeof object.trial_end === 'number' ? object.trial_end : 0,
        });
        return;
      }
      const f = facts.get(customer)!;
      const previous = (event.data.previous_attributes as { items?: { data: SubscriptionItemShape[] } } | undefined)?.items?.data[0];
      if (previous) {
        const previousTier = tierOf.get(previous.price.product)!;
        if (tier < previousTier) f.lastDowngradeAt = event.created;
        else if (tier === previousTier && item.quantity < previous.quantity) f.lastShrinkAt = event.created;
      }
      f.tier = tier;
      f.quantity = item.quantity;
    },
  };
}

const recent = (at: number, asOf: number, window = 60 * DAY) => at > 0 && at <= asOf && asOf - at <= window;
const seatShrinker = (f: VisibleFacts, asOf: number) => f.quantity < f.startQuantity || recent(f.lastShrinkAt, asOf) || recent(f.lastDowngradeAt, asOf);
const aroundSignupTrial = (f: VisibleFacts, asOf: number) => f.signupTrialEnd > 0 && (f.signupTrialEnd > asOf || asOf - f.signupTrialEnd <= 60 * DAY);
const introEndedRecently = (f: VisibleFacts, asOf: number) => recent(f.introEndedAt, asOf);

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const sd = (xs: number[]) => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1));
};

/** -ln(voluntary-rate multiplier) implied by two 30-day voluntary probabilities. */
const logRateCut = (pvWithout: number, pvWith: number) => -Math.log(Math.log(1 - pvWith) / Math.log(1 - pvWithout));

describe('offer effects lean on what Stripe shows (truth of an untreated world, seed 42)', () => {
  const options: WorldOptions = { customers: 8000, months: 6, seed: 42 };
  let truth: TruthRecord[];
  let facts: Map<string, VisibleFacts>;
  let asOf: number;

  beforeAll(async () => {
    const world = new World(options);
    const sink = visibleFactsSink(world);
    while (!world.done) await world.advanceMonth(sink);
    truth = world.truthAt();
    facts = sink.facts;
    asOf = world.now();
  });

  const factsOf = (r: TruthRecord) => facts.get(r.customer)!;
  const couponEffect = (r: TruthRecord) => r.p30NoTreatment - r.p30IfCoupon;
  const pauseEffect = (r: TruthRecord) => r.p30NoTreatment - r.p30IfPause;
  const trialEffect = (r: TruthRecord) => r.p30NoTreatment - r.p30IfTrialExtension;
  const persuadables = () => truth.filter((r) => r.responseType === 'persuadable');

  it('a coupon works best on price-sensitive customers: starter, monthly, introductory coupon just ended', () => {
    expect(truth.length).toBeGreaterThan(6000);
    const starterMonthly = truth.filter((r) => factsOf(r).tier === 0 && !factsOf(r).annual);
    const business = truth.filter((r) => factsOf(r).tier === 2);
    const annual = truth.filter((r) => factsOf(r).annual);
    const monthly = truth.filter((r) => !factsOf(r).annual);
    expect(starterMonthly.length).toBeGreaterThan(1000);
    expect(business.length).toBeGreaterThan(600);
    // the mean true effect on churn, which is what an uplift report over a segment sees
    expect(mean(starterMonthly.map(couponEffect))).toBeGreaterThan(2.5 * mean(business.map(couponEffect)));
    expect(mean(monthly.map(couponEffect))).toBeGreaterThan(3 * mean(annual.map(couponEffect)));
    const ended = truth.filter((r) => introEndedRecently(factsOf(r), asOf));
    expect(ended.length).toBeGreaterThan(150);
    expect(mean(ended.map(couponEffect))).toBeGreaterThan(2 * mean(truth.filter((r) => !introEndedRecently(factsOf(r), asOf)).map(couponEffect)));

    // Among persuadables the rate cut itself (not only the baseline it scales) follows the
    // documented receptiveness: -ln m = 1.20 x r x e with e of mean 1.
    const cut = (r: TruthRecord) => logRateCut((r.p30NoTreatment - r.pInvoluntary) / (1 - r.pInvoluntary), (r.p30IfCoupon - r.pInvoluntary) / (1 - r.pInvoluntary));
    const group = (tier: number, annual: boolean) =>
      persuadables().filter((r) => factsOf(r).tier === tier && factsOf(r).annual === annual && !introEndedRecently(factsOf(r), asOf)).map(cut);
    const documented: [number, boolean, number][] = [[0, false, 1.6], [1, false, 1.0], [2, false, 0.45], [1, true, 0.5]];
    for (const [tier, annual, r] of documented) {
      const cuts = group(tier, annual);
      expect(cuts.length).toBeGreaterThan(80);
      expect(mean(cuts) / 1.2).toBeGreaterThan(r * 0.85);
      expect(mean(cuts) / 1.2).toBeLessThan(r * 1.15);
    }
    // ... and keeps a hidden, noisy part: the same visible facts, different customers, different cuts
    const starter = group(0, false);
    expect(sd(starter) / mean(starter)).toBeGreaterThan(0.35);
    expect(sd(starter) / mean(starter)).toBeLessThan(0.7);
  });

  it('a pause works best on customers whose seats or plan shrank', () => {
    const shrinkers = truth.filter((r) => seatShrinker(factsOf(r), asOf));
    const others = truth.filter((r) => !seatShrinker(factsOf(r), asOf));
    expect(shrinkers.length).toBeGreaterThan(800);
    expect(mean(shrinkers.map(pauseEffect))).toBeGreaterThan(1.6 * mean(others.map(pauseEffect)));
    // voluntary part only (no renewal in the window, so a pause changes nothing involuntary):
    // pause-only customers' rate cut is 1.20 x (2.00 shrinking | 0.55 otherwise) x e
    const cut = (r: TruthRecord) => logRateCut(r.p30NoTreatment, r.p30IfPause);
    const pauseOnly = truth.filter((r) => r.responseType === 'pause_only' && r.pInvoluntary === 0);
    const shrinking = pauseOnly.filter((r) => seatShrinker(factsOf(r), asOf)).map(cut);
    const steady = pauseOnly.filter((r) => !seatShrinker(factsOf(r), asOf)).map(cut);
    expect(shrinking.length).toBeGreaterThan(60);
    expect(mean(shrinking) / 1.2).toBeGreaterThan(2.0 * 0.85);
    expect(mean(shrinking) / 1.2).toBeLessThan(2.0 * 1.15);
    expect(mean(steady) / 1.2).toBeGreaterThan(0.55 * 0.85);
    expect(mean(steady) / 1.2).toBeLessThan(0.55 * 1.15);
  });

  it('a trial extension works best in or just after the sign-up trial', () => {
    // without a renewal at risk in the window (an extension also stops charging one, for everybody)
    const early = truth.filter((r) => r.pInvoluntary === 0 && aroundSignupTrial(factsOf(r), asOf));
    const later = truth.filter((r) => r.pInvoluntary === 0 && !aroundSignupTrial(factsOf(r), asOf));
    expect(early.length).toBeGreaterThan(300);
    expect(mean(early.map(trialEffect))).toBeGreaterThan(2 * mean(later.map(trialEffect)));
    const cut = (r: TruthRecord) => logRateCut(r.p30NoTreatment, r.p30IfTrialExtension);
    const earlyCuts = persuadables().filter((r) => r.pInvoluntary === 0 && aroundSignupTrial(factsOf(r), asOf)).map(cut);
    expect(mean(earlyCuts) / 0.8).toBeGreaterThan(1.8 * 0.85);
    expect(mean(earlyCuts) / 0.8).toBeLessThan(1.8 * 1.15);
  });

  it('sleeping dogs get worse with any contact, whatever Stripe shows; sure things and lost causes ignore a coupon', () => {
    for (const r of truth.filter((x) => x.responseType === 'sleeping_dog')) {
      expect(r.p30IfCoupon).toBeGreaterThan(r.p30NoTreatment);
    }
    for (const r of truth.filter((x) => x.responseType === 'sure_thing' || x.responseType === 'lost_cause' || x.responseType === 'pause_only')) {
      expect(r.p30IfCoupon).toBeCloseTo(r.p30NoTreatment, 12);
    }
  });
});

/** Runs `months` months of a world into a fresh sandbox store, reading actions back from it. */
function hashingSink(inner?: EventSink): EventSink & { digest(): string; count: number } {
  const hash = createHash('sha256');
  const sink = {
    count: 0,
    write(event: Stripe.Event) {
      sink.count++;
      hash.update(JSON.stringify(event));
      hash.update('\n');
      return inner?.write(event);
    },
    digest: () => hash.copy().digest('hex'),
  };
  return sink;
}

describe('the untreated world does not move', () => {
  for (const apiVersion of [undefined, '2024-06-20']) {
    it(`reading actions from a sandbox where nobody acted gives the same events as no action lookup (${apiVersion ?? 'pinned'} shapes, 2 accounts)`, async () => {
      const options: WorldOptions = { customers: 900, months: 5, seed: 17, accounts: 2, apiVersion };
      const plain = new World(options);
      const plainSink = hashingSink();
      const read = new World(options);
      const store = new SandboxStore({ now: read.now(), apiVersion });
      const readSink = hashingSink(storeEventSink(store));
      const lookup = storeActionLookup(store);
      while (!plain.done) {
        await plain.advanceMonth(plainSink);
        await read.advanceMonth(readSink, lookup);
        expect(readSink.digest()).toBe(plainSink.digest());
      }
      expect(plainSink.count).toBeGreaterThan(20_000);
      expect(read.truthAt()).toEqual(plain.truthAt());
    });
  }
});

describe('the truth is what the world does under offers applied through the local Stripe API', () => {
  type Arm = 'coupon' | 'pause' | 'trial' | 'holdout';
  const options: WorldOptions = { customers: 3000, months: 5, seed: 5, initialShare: 0.6 };
  const arms: Arm[] = ['coupon', 'pause', 'trial', 'holdout'];
  let decision: TruthRecord[];
  let armOf: Map<string, Arm>;
  let asOf: number;
  let treated: Map<string, CustomerOutcome>;
  let untreated: Map<string, CustomerOutcome>;
  let throttledOrFailed: string[];
  let afterReading: Map<string, TruthRecord>;

  beforeAll(async () => {
    const world = new World(options);
    const twin = new World(options);
    const sandbox = createStripeSandbox({ apiKey: API_KEY, store: new SandboxStore({ now: world.now() }) });
    const lookup = storeActionLookup(sandbox.store);
    const worldSink = hashingSink(storeEventSink(sandbox.store));
    const twinSink = hashingSink();
    // four months (January to April), so the decision month (May) has 31 days: the 30-day window fits in it
    for (let m = 0; m < 4; m++) {
      await world.advanceMonth(worldSink, lookup);
      await twin.advanceMonth(twinSink);
    }
    expect(worldSink.digest()).toBe(twinSink.digest());
    asOf = world.now();
    decision = world.truthAt();
    // arms by a hash of the customer id, so no visible fact decides the arm
    armOf = new Map(decision.map((r) => [r.customer, arms[createHash('sha256').update(r.customer).digest()[0]! % 4]!]));

    sandbox.store.setNow(asOf);
    const server = await sandbox.listen(0);
    throttledOrFailed = [];
    try {
      const stripe = createStripeClient({ secretKey: API_KEY, apiBase: server.url, maxNetworkRetries: 0 });
      await stripe.coupons.create({ id: 'WINBACK20', percent_off: 20, duration: 'once' });
      const queue = decision.filter((r) => armOf.get(r.customer) !== 'holdout');
      const applyOne = async (r: TruthRecord) => {
        const arm = armOf.get(r.customer)!;
        if (arm === 'coupon') {
          const current = sandbox.store.getObject<Stripe.Subscription>(undefined, 'subscription', r.subscription)!;
          const kept = (current.discounts ?? []).map((d) => ({ discount: typeof d === 'string' ? d : d.id }));
          await stripe.subscriptions.update(r.subscription, { discounts: [...kept, { coupon: 'WINBACK20' }] });
        } else if (arm === 'pause') {
          await stripe.subscriptions.update(r.subscription, { pause_collection: { behavior: 'void', resumes_at: asOf + 35 * DAY } });
        } else {
          await stripe.subscriptions.update(r.subscription, { trial_end: asOf + 35 * DAY, proration_behavior: 'none' });
        }
      };
      const workers = Array.from({ length: 6 }, async () => {
        for (let r = queue.shift(); r; r = queue.shift()) await applyOne(r).catch((err: Error) => throttledOrFailed.push(`${r.subscription}: ${err.message}`));
      });
      await Promise.all(workers);
    } finally {
      await server.close();
    }
    // the truth once the world has read the offers (as it does at the month start) is under them
    world.observeActions(lookup);
    afterReading = new Map(world.truthAt().map((r) => [r.customer, r]));
    // the decision month, lived by the world that reads the actions and by its untreated twin
    await world.advanceMonth(storeEventSink(sandbox.store), lookup);
    await twin.advanceMonth({ write() {} });
    treated = new Map(world.outcomes().map((o) => [o.customer, o]));
    untreated = new Map(twin.outcomes().map((o) => [o.customer, o]));
  }, 120_000);

  const churnedInWindow = (o: CustomerOutcome | undefined) => !!o && o.churnedAt !== null && o.churnedAt > asOf && o.churnedAt <= asOf + HORIZON;
  const p30Under = (r: TruthRecord, arm: Arm) => (arm === 'coupon' ? r.p30IfCoupon : arm === 'pause' ? r.p30IfPause : arm === 'trial' ? r.p30IfTrialExtension : r.p30NoTreatment);

  it('applies every offer through the API', () => {
    expect(throttledOrFailed).toEqual([]);
    expect(decision.length).toBeGreaterThan(2000);
    for (const arm of arms) expect(decision.filter((r) => armOf.get(r.customer) === arm).length).toBeGreaterThan(450);
  });

  it('the world’s rates under each offer are exactly what the truth said before it was applied', () => {
    let checked = 0;
    for (const before of decision) {
      const arm = armOf.get(before.customer)!;
      const after = afterReading.get(before.customer)!;
      expect([before.customer, arm, after.p30]).toEqual([before.customer, arm, expect.closeTo(p30Under(before, arm), 12)]);
      if (arm === 'coupon') expect(after.pInvoluntary).toBe(before.pInvoluntary); // a failing card stays failing
      checked++;
    }
    expect(checked).toBe(decision.length);
  });

  it('realised 30-day churn in each arm matches the mean truth under that arm, within sampling error', () => {
    for (const arm of arms) {
      const rows = decision.filter((r) => armOf.get(r.customer) === arm);
      const expected = rows.reduce((s, r) => s + p30Under(r, arm), 0);
      const variance = rows.reduce((s, r) => s + p30Under(r, arm) * (1 - p30Under(r, arm)), 0);
      const realised = rows.filter((r) => churnedInWindow(treated.get(r.customer))).length;
      expect({ arm, z: Math.abs(realised - expected) / Math.sqrt(variance) < 3.5 }).toEqual({ arm, z: true });
    }
  });

  it('the realised effect of each offer on the same customers (common random numbers) matches the truth', () => {
    for (const arm of ['coupon', 'pause', 'trial'] as const) {
      const rows = decision.filter((r) => armOf.get(r.customer) === arm);
      const trueSaved = rows.reduce((s, r) => s + (r.p30NoTreatment - p30Under(r, arm)), 0);
      let saved = 0;
      let differing = 0;
      for (const r of rows) {
        const d = Number(churnedInWindow(untreated.get(r.customer))) - Number(churnedInWindow(treated.get(r.customer)));
        saved += d;
        if (d !== 0) differing++;
      }
      // each customer's difference is -1, 0 or 1: the variance of the sum is at most the number that differ
      expect(differing).toBeGreaterThan(5);
      expect({ arm, z: Math.abs(saved - trueSaved) / Math.sqrt(differing) < 3.5 }).toEqual({ arm, z: true });
      expect(saved).toBeGreaterThan(0);
    }
  });

  it('a coupon never changes the involuntary process; nobody in the holdout is touched', () => {
    const coupon = decision.filter((r) => armOf.get(r.customer) === 'coupon');
    let involuntary = 0;
    for (const r of coupon) {
      const a = treated.get(r.customer)!;
      const b = untreated.get(r.customer)!;
      // a customer who asked to cancel in neither world met the same card and the same retries
      if (a.churnKind !== 'voluntary' && b.churnKind !== 'voluntary') {
        expect([r.customer, a.churnKind, a.churnedAt]).toEqual([r.customer, b.churnKind, b.churnedAt]);
        if (a.churnKind === 'involuntary' && a.churnedAt! > asOf) involuntary++;
      }
    }
    expect(involuntary).toBeGreaterThan(0);
    for (const r of decision.filter((x) => armOf.get(x.customer) === 'holdout')) expect(treated.get(r.customer)).toEqual(untreated.get(r.customer));
  });
});

describe('the truth is what the world does, on a large treated population (same action semantics, no HTTP)', () => {
  type Arm = 'coupon' | 'pause' | 'trial' | 'holdout';
  const options: WorldOptions = { customers: 12_000, months: 5, seed: 3, initialShare: 0.6 };
  const arms: Arm[] = ['coupon', 'pause', 'trial', 'holdout'];
  let decision: TruthRecord[];
  let armOf: Map<string, Arm>;
  let asOf: number;
  let facts: Map<string, VisibleFacts>;
  let treated: Map<string, CustomerOutcome>;
  let untreated: Map<string, CustomerOutcome>;

  beforeAll(async () => {
    const world = new World(options);
    const twin = new World(options);
    const sink = visibleFactsSink(world);
    const none = { write() {}, writeSerialized() {} };
    for (let m = 0; m < 4; m++) {
      await world.advanceMonth(sink);
      await twin.advanceMonth(none);
    }
    asOf = world.now();
    facts = sink.facts;
    decision = world.truthAt();
    armOf = new Map(decision.map((r) => [r.customer, arms[createHash('sha256').update(r.customer).digest()[0]! % 4]!]));
    // what storeActionLookup reports after each offer (the HTTP path is tested above)
    const actions = new Map<string, ActionState>();
    for (const r of decision) {
      const arm = armOf.get(r.customer)!;
      if (arm === 'holdout') continue;
      actions.set(r.subscription, {
        couponIds: arm === 'coupon' ? ['WINBACK20'] : [],
        discountIds: arm === 'coupon' ? [`di_winback_${r.customer.slice(4)}`] : [],
        trialEnd: arm === 'trial' ? asOf + 35 * DAY : null,
        pauseCollection: arm === 'pause' ? { behavior: 'void', resumes_at: asOf + 35 * DAY } : null,
        cancelAtPeriodEnd: false,
      });
    }
    await world.advanceMonth(sink, (_account, subscription) => actions.get(subscription));
    await twin.advanceMonth(none);
    treated = new Map(world.outcomes().map((o) => [o.customer, o]));
    untreated = new Map(twin.outcomes().map((o) => [o.customer, o]));
  }, 120_000);

  const churnedInWindow = (o: CustomerOutcome | undefined) => !!o && o.churnedAt !== null && o.churnedAt > asOf && o.churnedAt <= asOf + HORIZON;
  const p30Under = (r: TruthRecord, arm: Arm) => (arm === 'coupon' ? r.p30IfCoupon : arm === 'pause' ? r.p30IfPause : arm === 'trial' ? r.p30IfTrialExtension : r.p30NoTreatment);
  const inArm = (arm: Arm) => decision.filter((r) => armOf.get(r.customer) === arm);

  /** Customers saved (untreated twin churned, treated did not) minus customers lost, against the truth's sum. */
  function savedAgainstTruth(rows: TruthRecord[], arm: Exclude<Arm, 'holdout'>) {
    let saved = 0;
    let differing = 0;
    for (const r of rows) {
      const d = Number(churnedInWindow(untreated.get(r.customer))) - Number(churnedInWindow(treated.get(r.customer)));
      saved += d;
      if (d !== 0) differing++;
    }
    const trueSaved = rows.reduce((s, r) => s + (r.p30NoTreatment - p30Under(r, arm)), 0);
    // each customer's difference is -1, 0 or 1, so the variance of the sum is at most the number that differ
    return { saved, trueSaved, z: (saved - trueSaved) / Math.sqrt(Math.max(1, differing)) };
  }

  it('realised 30-day churn in each arm matches the mean truth under that arm', () => {
    for (const arm of arms) {
      const rows = inArm(arm);
      expect(rows.length).toBeGreaterThan(2000);
      const expected = rows.reduce((s, r) => s + p30Under(r, arm), 0);
      const variance = rows.reduce((s, r) => s + p30Under(r, arm) * (1 - p30Under(r, arm)), 0);
      const realised = rows.filter((r) => churnedInWindow(treated.get(r.customer))).length;
      expect({ arm, z: Math.abs(realised - expected) / Math.sqrt(variance) < 3.5 }).toEqual({ arm, z: true });
    }
  });

  it('the realised effect of each offer, overall and in the visible segments it leans on, matches the truth', () => {
    const sensitive = (r: TruthRecord) => {
      const f = facts.get(r.customer)!;
      return (f.tier === 0 && !f.annual) || introEndedRecently(f, asOf);
    };
    const segments: [Exclude<Arm, 'holdout'>, string, (r: TruthRecord) => boolean][] = [
      ['coupon', 'all', () => true],
      ['coupon', 'starter monthly or intro coupon just ended', sensitive],
      ['coupon', 'the rest', (r) => !sensitive(r)],
      ['pause', 'all', () => true],
      ['pause', 'seat shrinkers', (r) => seatShrinker(facts.get(r.customer)!, asOf)],
      ['pause', 'the rest', (r) => !seatShrinker(facts.get(r.customer)!, asOf)],
      ['trial', 'all', () => true],
      ['trial', 'in or just after the sign-up trial', (r) => aroundSignupTrial(facts.get(r.customer)!, asOf)],
      ['trial', 'the rest', (r) => !aroundSignupTrial(facts.get(r.customer)!, asOf)],
    ];
    const results = segments.map(([arm, name, keep]) => {
      const rows = inArm(arm).filter(keep);
      return { arm, name, n: rows.length, ...savedAgainstTruth(rows, arm) };
    });
    for (const r of results) expect({ ...r, ok: Math.abs(r.z) < 3.5 }).toMatchObject({ arm: r.arm, name: r.name, ok: true });
  });
});
