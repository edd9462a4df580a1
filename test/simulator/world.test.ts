import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type Stripe from 'stripe';
import {
  LEGACY_API_VERSION,
  PINNED_API_VERSION,
  createJsonlEventSink,
  simulateToSink,
  type SimulationSummary,
  type TruthRecord,
  type WorldOptions,
} from '../../src/simulator/world/index.js';

type AnyEvent = Stripe.Event & { data: { object: any; previous_attributes?: any } };

async function collect(options: WorldOptions): Promise<{ events: AnyEvent[]; truth: TruthRecord[]; summary: SimulationSummary }> {
  const events: AnyEvent[] = [];
  const truth: TruthRecord[] = [];
  const summary = await simulateToSink(options, { write: (e) => void events.push(e as AnyEvent) }, { write: (r) => void truth.push(r) });
  return { events, truth, summary };
}

async function simulateToFile(dir: string, name: string, options: WorldOptions): Promise<Buffer> {
  const path = join(dir, name);
  const sink = createJsonlEventSink(path);
  await simulateToSink(options, sink);
  await sink.close();
  return readFileSync(path);
}

/** The fields the projector reads (notes/event-shapes.md), per Stripe object type. */
const REQUIRED: Record<string, string[]> = {
  customer: ['id', 'object', 'created', 'email', 'name', 'currency', 'delinquent', 'balance', 'invoice_settings', 'address', 'metadata'],
  payment_method: ['id', 'object', 'type', 'customer', 'created', 'card'],
  subscription: ['id', 'object', 'customer', 'status', 'currency', 'created', 'start_date', 'cancel_at_period_end', 'cancel_at', 'canceled_at', 'ended_at', 'trial_start', 'trial_end', 'collection_method', 'default_payment_method', 'pause_collection', 'discounts', 'cancellation_details', 'metadata', 'items'],
  discount: ['id', 'object', 'customer', 'subscription', 'start', 'end'],
  invoice: ['id', 'object', 'customer', 'status', 'billing_reason', 'collection_method', 'currency', 'amount_due', 'amount_paid', 'amount_remaining', 'total', 'subtotal', 'attempt_count', 'attempted', 'next_payment_attempt', 'created', 'due_date', 'period_start', 'period_end', 'status_transitions', 'lines'],
  charge: ['id', 'object', 'customer', 'amount', 'amount_refunded', 'currency', 'status', 'failure_code', 'failure_message', 'outcome', 'disputed', 'refunded', 'created', 'payment_method', 'payment_method_details'],
  refund: ['id', 'object', 'charge', 'amount', 'currency', 'status', 'created'],
  dispute: ['id', 'object', 'charge', 'amount', 'currency', 'status', 'reason', 'created'],
  product: ['id', 'object', 'name', 'active', 'created'],
  price: ['id', 'object', 'product', 'unit_amount', 'currency', 'recurring', 'type'],
  coupon: ['id', 'object', 'percent_off', 'amount_off', 'duration', 'duration_in_months'],
  payment_intent: ['id', 'object', 'amount', 'currency', 'customer', 'status', 'created', 'last_payment_error', 'latest_charge', 'payment_method'],
  credit_note: ['id', 'object', 'amount', 'currency', 'customer', 'invoice', 'status', 'reason', 'type', 'created', 'total', 'lines', 'refunds', 'voided_at'],
};

/** Problems with one event's envelope and object (empty when it is a valid Stripe event). */
function shapeProblems(e: AnyEvent, apiVersion: string): string[] {
  const problems: string[] = [];
  if (!/^evt_[0-9A-Za-z]{17}$/.test(e.id)) problems.push(`id ${e.id}`);
  if (e.object !== 'event') problems.push('object');
  if (e.api_version !== apiVersion) problems.push('api_version');
  if (!Number.isInteger(e.created)) problems.push('created');
  if (e.livemode !== false || e.pending_webhooks !== 1) problems.push('livemode/pending_webhooks');
  if (e.request?.id !== null || e.request?.idempotency_key !== null) problems.push('request');
  if (typeof e.type !== 'string') problems.push('type');
  const object = e.data.object;
  const required = REQUIRED[object.object];
  if (!required) return [...problems, `unexpected object ${object.object} in ${e.type}`];
  for (const key of required) if (!(key in object)) problems.push(`${e.type}: ${object.object}.${key} missing`);
  return problems;
}

describe('world generator: determinism', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'churn-world-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gives identical bytes for the same seed and different bytes for another seed', async () => {
    const options = { customers: 200, months: 4, seed: 11 };
    const a = await simulateToFile(dir, 'a.jsonl', options);
    const b = await simulateToFile(dir, 'b.jsonl', options);
    const c = await simulateToFile(dir, 'c.jsonl', { ...options, seed: 12 });
    expect(a.length).toBeGreaterThan(100_000);
    expect(a.equals(b)).toBe(true);
    expect(a.equals(c)).toBe(false);
    // the file and the object sink describe the same events in the same order
    const { events } = await collect(options);
    const lines = a.toString('utf8').trimEnd().split('\n');
    expect(lines.length).toBe(events.length);
    expect(JSON.parse(lines[lines.length - 1]!)).toEqual(events[events.length - 1]);
  });
});

for (const apiVersion of [PINNED_API_VERSION, LEGACY_API_VERSION]) {
  describe(`world generator: event shapes for ${apiVersion}`, () => {
    let events: AnyEvent[];
    beforeAll(async () => {
      ({ events } = await collect({ customers: 500, months: 7, seed: 5, apiVersion }));
    });

    it('emits valid Stripe events with unique ids, ordered by created', () => {
      expect(events.length).toBeGreaterThan(10_000);
      const ids = new Set<string>();
      let previous = 0;
      const problems: string[] = [];
      for (const e of events) {
        problems.push(...shapeProblems(e, apiVersion));
        if (e.created < previous) problems.push(`${e.id} created ${e.created} before ${previous}`);
        if ('account' in e) problems.push(`${e.id} has account on the platform`);
        previous = e.created;
        ids.add(e.id);
      }
      expect(problems.slice(0, 10)).toEqual([]);
      expect(ids.size).toBe(events.length);
    });

    it('uses the version’s own shapes for invoices, subscriptions, discounts and charges', () => {
      const legacy = apiVersion === LEGACY_API_VERSION;
      const invoice = events.find((e) => e.type === 'invoice.paid')!.data.object;
      const subscription = events.find((e) => e.type === 'customer.subscription.updated')!.data.object;
      const discount = events.find((e) => e.type === 'customer.discount.created')!.data.object;
      const charge = events.find((e) => e.type === 'charge.succeeded')!.data.object;
      expect(subscription.items.data[0].current_period_start).toBeTypeOf('number');
      expect(subscription.items.data[0].price.recurring.interval).toMatch(/^(month|year)$/);
      if (legacy) {
        expect(invoice.subscription).toMatch(/^sub_/);
        expect(invoice.charge).toMatch(/^ch_/);
        expect(invoice).not.toHaveProperty('parent');
        expect(subscription.current_period_end).toBe(subscription.items.data[0].current_period_end);
        expect(subscription).toHaveProperty('discount');
        expect(discount.coupon).toMatchObject({ object: 'coupon', percent_off: 25, duration: 'repeating' });
        expect(charge.invoice).toMatch(/^in_/);
      } else {
        expect(invoice.parent).toMatchObject({ type: 'subscription_details', subscription_details: { subscription: expect.stringMatching(/^sub_/) } });
        expect(invoice).not.toHaveProperty('subscription');
        expect(subscription).not.toHaveProperty('current_period_end');
        expect(subscription).not.toHaveProperty('discount');
        expect(discount.source).toEqual({ coupon: expect.any(String), type: 'coupon' });
        expect(charge).not.toHaveProperty('invoice');
      }
      const withDiscount = events.find((e) => e.type === 'customer.subscription.created' && e.data.object.discounts.length > 0)!;
      expect(withDiscount.data.object.discounts[0]).toMatch(/^di_/);
    });

    it('starts every customer in Stripe’s order and settles payments with a same-second paid/payment_succeeded/updated trio', () => {
      const first = events.filter((e) => e.type !== 'product.created' && e.type !== 'price.created' && e.type !== 'coupon.created');
      expect(first.slice(0, 4).map((e) => e.type)).toEqual(['customer.created', 'payment_method.attached', 'customer.updated', 'customer.subscription.created']);
      const paid = events.map((e, i) => [e, i] as const).filter(([e]) => e.type === 'invoice.paid');
      expect(paid.length).toBeGreaterThan(500);
      const byObject = new Map<string, number[]>();
      events.forEach((e, i) => {
        const list = byObject.get(e.data.object.id) ?? [];
        list.push(i);
        byObject.set(e.data.object.id, list);
      });
      const broken: string[] = [];
      for (const [e, i] of paid) {
        const list = byObject.get(e.data.object.id)!;
        const next = list.slice(list.indexOf(i) + 1, list.indexOf(i) + 3).map((j) => events[j]!);
        const ok = next.map((x) => x.type).join() === 'invoice.payment_succeeded,invoice.updated' && next.every((x) => x.created === e.created) && next[1]!.data.previous_attributes?.status === 'open';
        if (!ok) broken.push(e.data.object.id);
      }
      expect(broken).toEqual([]);
    });

    it('has dunning, both churn types with cancellation_details, refunds and disputes', () => {
      const failed = events.filter((e) => e.type === 'invoice.payment_failed').map((e) => e.data.object);
      expect(new Set(failed.map((i) => i.attempt_count))).toEqual(new Set([1, 2, 3, 4]));
      for (const i of failed) expect(i.next_payment_attempt === null).toBe(i.attempt_count === 4);
      const deleted = events.filter((e) => e.type === 'customer.subscription.deleted').map((e) => e.data.object);
      const reasons = new Set(deleted.map((s) => s.cancellation_details.reason));
      expect(reasons.has('payment_failed')).toBe(true);
      expect(reasons.has('cancellation_requested')).toBe(true);
      for (const s of deleted) {
        expect(s.status).toBe('canceled');
        expect(s.ended_at).toBeTypeOf('number');
      }
      const requests = events.filter((e) => e.type === 'customer.subscription.updated' && e.data.previous_attributes?.cancel_at_period_end === false);
      expect(requests.length).toBeGreaterThan(20);
      for (const r of requests) {
        expect(r.data.object.cancel_at_period_end).toBe(true);
        expect(r.data.object.cancellation_details.reason).toBe('cancellation_requested');
      }
      expect(requests.some((r) => r.data.object.cancellation_details.feedback !== null)).toBe(true);
      const pastDue = events.find((e) => e.type === 'customer.subscription.updated' && e.data.object.status === 'past_due');
      expect(pastDue?.data.previous_attributes).toEqual({ status: 'active' });
      for (const type of ['refund.created', 'charge.refunded', 'charge.dispute.created', 'payment_method.automatically_updated', 'customer.subscription.trial_will_end', 'customer.discount.deleted', 'customer.deleted']) {
        expect(events.some((e) => e.type === type), type).toBe(true);
      }
      const seatChange = events.find((e) => e.type === 'customer.subscription.updated' && e.data.previous_attributes?.items && e.data.previous_attributes.items.data[0].quantity !== e.data.object.items.data[0].quantity);
      expect(seatChange).toBeDefined();
    });
  });
}

describe('world generator: Connect accounts', () => {
  it('puts every event of a connected account’s customers under its acct_ id', async () => {
    const { events, truth } = await collect({ customers: 90, months: 3, seed: 2, accounts: 3 });
    const accounts = new Set(events.map((e) => e.account));
    expect(accounts.size).toBe(3);
    for (const a of accounts) expect(a).toMatch(/^acct_/);
    // a customer's events all carry the same account, and the truth names it too
    const accountOf = new Map<string, string>();
    for (const e of events) {
      const customer = e.data.object.object === 'customer' ? e.data.object.id : e.data.object.customer;
      if (typeof customer !== 'string') continue;
      if (!accountOf.has(customer)) accountOf.set(customer, e.account!);
      expect(e.account).toBe(accountOf.get(customer));
    }
    for (const r of truth) expect(r.account).toBe(accountOf.get(r.customer));
  });
});

describe('world generator: truth', () => {
  let truth: TruthRecord[];
  let summary: SimulationSummary;
  let churnAt: Map<string, number>;
  beforeAll(async () => {
    const run = await collect({ customers: 1500, months: 9, seed: 21 });
    truth = run.truth;
    summary = run.summary;
    churnAt = new Map();
    for (const e of run.events) {
      const o = e.data.object;
      const asked = e.type === 'customer.subscription.updated' && e.data.previous_attributes?.cancel_at_period_end === false;
      const ended = e.type === 'customer.subscription.deleted' && o.cancellation_details.reason !== 'cancellation_requested';
      if ((asked || ended) && !churnAt.has(o.customer)) churnAt.set(o.customer, e.created);
    }
  });

  it('records probabilities in [0, 1] for every live customer at each month end', () => {
    expect(truth.length).toBeGreaterThan(5000);
    const types = new Set(['sure_thing', 'persuadable', 'lost_cause', 'pause_only', 'sleeping_dog']);
    const problems: string[] = [];
    for (const r of truth) {
      for (const p of [r.p30, r.pVoluntary, r.pInvoluntary, r.p30IfCoupon, r.p30IfTrialExtension, r.p30IfPause, r.p30NoTreatment]) {
        if (!(p >= 0 && p <= 1)) problems.push(`${r.customer}@${r.asOf}: probability ${p}`);
      }
      if (r.p30 < Math.max(r.pVoluntary, r.pInvoluntary) - 1e-12) problems.push(`${r.customer}@${r.asOf}: p30 below its parts`);
      if (!types.has(r.responseType)) problems.push(`${r.customer}: response type ${r.responseType}`);
      // nobody is in the truth after they churned
      const at = churnAt.get(r.customer);
      if (at !== undefined && at <= r.asOf) problems.push(`${r.customer}@${r.asOf}: churned at ${at}`);
    }
    expect(problems.slice(0, 10)).toEqual([]);
  });

  it('is informative: customers who churn within 30 days had a higher p30, and churn is realistic', () => {
    const within = (r: TruthRecord) => {
      const at = churnAt.get(r.customer);
      return at !== undefined && at <= r.asOf + 30 * 86_400;
    };
    const closed = truth.filter((r) => r.asOf + 30 * 86_400 <= summary.end);
    const churners = closed.filter(within);
    const stayers = closed.filter((r) => !within(r));
    const mean = (xs: TruthRecord[]) => xs.reduce((s, r) => s + r.p30, 0) / xs.length;
    expect(churners.length).toBeGreaterThan(100);
    expect(mean(churners)).toBeGreaterThan(1.5 * mean(stayers));
    // calibrated on average: predicted churners ≈ observed churners
    expect(mean(closed)).toBeGreaterThan(0.7 * (churners.length / closed.length));
    expect(mean(closed)).toBeLessThan(1.3 * (churners.length / closed.length));
    expect(summary.oracleAuc).toBeGreaterThan(0.7);
    expect(summary.oracleAuc).toBeLessThan(0.92);
    expect(summary.meanMonthlyChurn).toBeGreaterThan(0.025);
    expect(summary.meanMonthlyChurn).toBeLessThan(0.08);
    expect(summary.involuntaryChurn).toBeGreaterThan(0);
  });
});
