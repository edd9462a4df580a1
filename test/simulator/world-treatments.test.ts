import { describe, expect, it } from 'vitest';
import type Stripe from 'stripe';
import { World, type ActionLookup, type ActionState, type CustomerOutcome, type WorldOptions } from '../../src/simulator/world/index.js';

const OPTIONS: WorldOptions = { customers: 1500, months: 7, seed: 31, initialShare: 0.8 };
const TREAT_FROM_MONTH = 2;

/**
 * Runs the world; from TREAT_FROM_MONTH on, the product "applies" a treatment to every live
 * subscription (as the local Stripe API would report it), and returns what happened.
 */
async function run(treatment: 'none' | 'coupon' | 'pause' | 'trial'): Promise<{ outcomes: Map<string, CustomerOutcome>; treatedAt: number; events: Stripe.Event[] }> {
  const world = new World(OPTIONS);
  const events: Stripe.Event[] = [];
  const sink = { write: (e: Stripe.Event) => void events.push(e) };
  let treatedAt = 0;
  for (let m = 0; m < OPTIONS.months; m++) {
    let actions: ActionLookup | undefined;
    if (m >= TREAT_FROM_MONTH && treatment !== 'none') {
      if (!treatedAt) treatedAt = world.now();
      const state: ActionState = {
        couponIds: treatment === 'coupon' ? ['save20'] : [],
        discountIds: treatment === 'coupon' ? ['di_retention'] : [],
        trialEnd: treatment === 'trial' ? world.now() + 45 * 86_400 : null,
        pauseCollection: treatment === 'pause' ? { behavior: 'void', resumes_at: null } : null,
        cancelAtPeriodEnd: false,
      };
      actions = () => state;
    }
    await world.advanceMonth(sink, actions);
  }
  if (!treatedAt) treatedAt = new World(OPTIONS).monthStart(TREAT_FROM_MONTH);
  return { outcomes: new Map(world.outcomes().map((o) => [o.customer, o])), treatedAt, events };
}

/** Voluntary churn after treatment start, among customers live at that moment, by response type. */
function churnByType(outcomes: Map<string, CustomerOutcome>, eligible: Set<string>, since: number): Record<string, { n: number; churned: number; who: Set<string> }> {
  const out: Record<string, { n: number; churned: number; who: Set<string> }> = {};
  for (const id of eligible) {
    const o = outcomes.get(id)!;
    const bucket = (out[o.responseType] ??= { n: 0, churned: 0, who: new Set() });
    bucket.n++;
    if (o.churnKind === 'voluntary' && o.churnedAt! >= since) {
      bucket.churned++;
      bucket.who.add(id);
    }
  }
  return out;
}

describe('world generator: treatment effects', () => {
  it('changes churn in the documented directions by response type (coupon, pause, trial extension)', async () => {
    const [base, coupon, pause, trial] = await Promise.all([run('none'), run('coupon'), run('pause'), run('trial')]);
    const since = coupon.treatedAt;
    const eligible = new Set([...base.outcomes.values()].filter((o) => o.churnedAt === null || o.churnedAt >= since).map((o) => o.customer));
    // only customers who had signed up before treatment started
    const signedUp = new Set(base.events.filter((e) => e.type === 'customer.created' && e.created < since).map((e) => (e.data.object as { id: string }).id));
    for (const id of eligible) if (!signedUp.has(id)) eligible.delete(id);
    expect(eligible.size).toBeGreaterThan(800);

    const b = churnByType(base.outcomes, eligible, since);
    const c = churnByType(coupon.outcomes, eligible, since);
    const p = churnByType(pause.outcomes, eligible, since);
    const t = churnByType(trial.outcomes, eligible, since);
    const rate = (x: { n: number; churned: number }) => x.churned / x.n;

    // persuadables are saved by any offer, most by the coupon
    expect(rate(c.persuadable!)).toBeLessThan(0.6 * rate(b.persuadable!));
    expect(rate(t.persuadable!)).toBeLessThan(0.8 * rate(b.persuadable!));
    expect(rate(p.persuadable!)).toBeLessThan(rate(b.persuadable!));
    // pause-only customers respond to a pause and to nothing else
    expect(rate(p.pause_only!)).toBeLessThan(0.6 * rate(b.pause_only!));
    expect(c.pause_only!.who).toEqual(b.pause_only!.who);
    // sleeping dogs leave more when contacted
    expect(rate(c.sleeping_dog!)).toBeGreaterThan(1.3 * rate(b.sleeping_dog!));
    // sure things and lost causes do exactly what they would have done (same random numbers)
    // (a coupon changes nothing else for them; a pause also changes their billing history, so only
    // the coupon comparison can be exact)
    for (const type of ['sure_thing', 'lost_cause'] as const) expect(c[type]!.who).toEqual(b[type]!.who);
    // lost causes churn far more than sure things whatever is done
    expect(rate(b.lost_cause!)).toBeGreaterThan(1.5 * rate(b.sure_thing!));
  });

  it('mirrors the product’s actions in the subscriptions it emits and stops charging paused ones', async () => {
    const { events, treatedAt } = await run('pause');
    const after = events.filter((e) => e.created >= treatedAt);
    // actions are read at each month start, so subscriptions created before it carry them
    const updates = after
      .filter((e) => e.type === 'customer.subscription.updated')
      .map((e) => e.data.object as unknown as Stripe.Subscription)
      .filter((s) => s.created < treatedAt);
    expect(updates.length).toBeGreaterThan(100);
    for (const s of updates) expect(s.pause_collection).toEqual({ behavior: 'void', resumes_at: null });
    expect(after.some((e) => e.type === 'invoice.voided')).toBe(true);
    // invoices of paused subscriptions are voided, never finalized or charged
    const created = new Map(events.filter((e) => e.type === 'customer.subscription.created').map((e) => [(e.data.object as { customer: string }).customer, e.created]));
    const invoices = after.filter((e) => e.type.startsWith('invoice.') && created.get((e.data.object as { customer: string }).customer)! < treatedAt && (e.data.object as { created: number }).created >= treatedAt);
    expect(invoices.length).toBeGreaterThan(100);
    expect(new Set(invoices.map((e) => e.type))).toEqual(new Set(['invoice.created', 'invoice.voided']));
    const coupon = await run('coupon');
    const couponUpdate = coupon.events.find((e) => e.created >= coupon.treatedAt && e.type === 'customer.subscription.updated' && (e.data.object as { created: number }).created < coupon.treatedAt)!;
    expect((couponUpdate.data.object as unknown as Stripe.Subscription).discounts).toContain('di_retention');
  });

  it('records per-treatment truth consistent with the response types', async () => {
    const world = new World({ customers: 800, months: 3, seed: 8 });
    const sink = { write() {} };
    for (let m = 0; m < 3; m++) await world.advanceMonth(sink);
    const truth = world.truthAt();
    expect(truth.length).toBeGreaterThan(300);
    for (const r of truth) {
      if (r.responseType === 'sure_thing' || r.responseType === 'lost_cause') {
        expect(r.p30IfCoupon).toBeCloseTo(r.p30, 12);
        expect(r.p30IfPause).toBeLessThanOrEqual(r.p30 + 1e-12); // a pause also stops involuntary churn
      }
      if (r.responseType === 'persuadable') expect(r.p30IfCoupon).toBeLessThan(r.p30);
      if (r.responseType === 'sleeping_dog') expect(r.p30IfCoupon).toBeGreaterThan(r.p30);
      if (r.responseType === 'pause_only') {
        expect(r.p30IfCoupon).toBeCloseTo(r.p30, 12);
        expect(r.p30IfPause).toBeLessThan(r.p30);
      }
    }
  });
});
