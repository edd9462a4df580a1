import type Stripe from 'stripe';
import { DAY } from '../../lib/clock.js';
import { buildCatalog, catalogOwner, type Catalog } from './catalog.js';
import {
  CARD_AUTO_UPDATE,
  CARD_UPDATE_ON_FAILURE,
  HEALTH_DRIFT,
  HEALTH_MEMORY,
  HEALTH_NOISE,
  SEAT_CHANGE_THRESHOLD,
  RETRY_FAIL,
  RETRY_OFFSETS_DAYS,
  cardExpiresAt,
  cardExpiryMonthStart,
  currentTreatments,
  customerMultiplier,
  drawOfferNoise,
  drawResponseType,
  firstAttemptFailRate,
  monthlyPrice,
  truthFor,
  voluntaryDailyRate,
  voluntaryLogit,
  type TruthRecord,
} from './hazard.js';
import { Random, customerMonthStream, hashWords, stripeId } from './random.js';
import {
  PINNED_API_VERSION,
  chargeObject,
  couponObject,
  creditNoteObject,
  currentPrice,
  customerObject,
  discountObject,
  disputeObject,
  eventEnvelope,
  eventEnvelopeJson,
  invoiceObject,
  isLegacyVersion,
  paymentIntentObject,
  paymentMethodObject,
  priceObject,
  productObject,
  refundObject,
  subscriptionObject,
  subscriptionStatusName,
  type InvoiceFacts,
  type StripeEventShape,
} from './shapes.js';
import { CustomerState, RESPONSE_TYPE_NAMES, ResponseType, SubStatus, type ResponseTypeName } from './state.js';

export interface WorldOptions {
  customers: number;
  months: number;
  seed: number;
  /** number of Connect accounts; 0 or absent: every customer belongs to the platform account */
  accounts?: number;
  apiVersion?: string;
  /** unix seconds of the start of month 0 (default 2025-01-01T00:00:00Z) */
  start?: number;
  /** share of customers already signing up in month 0 (default 0.3); the rest arrive evenly */
  initialShare?: number;
  /**
   * Simulate only customers with index % count === index (catalog events in shard 0). Shards of
   * one world merged by (created, customer index) give exactly the unsharded world's bytes.
   */
  shard?: { index: number; count: number };
}

/**
 * Where the world writes its events, in order. A sink with `writeSerialized` receives each event
 * as the UTF-8 bytes of its JSON (no newline; a view that is only valid during the call), which
 * lets the world keep a month of events off the JS heap; otherwise it gets event objects.
 */
export interface EventSink {
  write(event: Stripe.Event): void | Promise<void>;
  writeSerialized?(json: Uint8Array): void | Promise<void>;
}

export interface TruthSink {
  write(record: TruthRecord): void | Promise<void>;
}

/** What the product currently has on a subscription, as the local Stripe API stores it. */
export interface ActionState {
  couponIds: string[];
  trialEnd: number | null;
  pauseCollection: { behavior: string; resumes_at: number | null } | null;
  cancelAtPeriodEnd: boolean;
  /** optional: the discount ids (`di_…`) behind couponIds, so emitted subscriptions keep them */
  discountIds?: string[];
}

export type ActionLookup = (account: string | undefined, subscriptionId: string) => ActionState | undefined | null;

export const DEFAULT_START = Date.UTC(2025, 0, 1) / 1000;

const FEEDBACK = ['too_expensive', 'unused', 'missing_features', 'switched_service', 'customer_service', 'too_complex', 'low_quality', 'other'] as const;
const BRANDS = ['visa', 'visa', 'visa', 'mastercard', 'mastercard', 'amex'];
const FIRST = ['Ada', 'Ben', 'Chloe', 'Dev', 'Emma', 'Femi', 'Grace', 'Hiro', 'Ines', 'Jon', 'Kira', 'Luis', 'Mia', 'Noor', 'Omar', 'Pia'];
const LAST = ['Okafor', 'Smith', 'Muller', 'Rossi', 'Tanaka', 'Silva', 'Novak', 'Kim', 'Dubois', 'Larsen', 'Patel', 'Cohen'];
const COUNTRIES = ['US', 'US', 'US', 'GB', 'DE', 'FR', 'CA', 'NL', 'AU', 'ES'];
const CREDIT_NOTE_REASONS = ['product_unsatisfactory', 'order_change', 'duplicate'] as const;
const DISPUTE_REASONS = ['fraudulent', 'subscription_canceled', 'product_unacceptable', 'general'];

/** Unix seconds of `t` moved by `months` calendar months, the day clamped to the month's length. */
export function addMonths(t: number, months: number): number {
  const d = new Date(t * 1000);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  const day = Math.min(d.getUTCDate(), lastDay);
  return Date.UTC(y, m, day, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()) / 1000;
}

/**
 * One month's events, sorted by `created` before they leave (ties keep emission order, which is
 * Stripe's order for one object's events). For serialising sinks the JSON goes into one growing
 * off-heap byte arena, so a month of a 100,000-customer world costs the garbage collector nothing.
 */
class MonthBuffer {
  private created = new Float64Array(1 << 16);
  private offsets = new Float64Array((1 << 16) + 1);
  /** customer index behind each event (-1: catalog), the tie-break that lets shards merge */
  private owners = new Int32Array(1 << 16);
  private arena: Buffer;
  private objects: StripeEventShape[] = [];
  private bytes = 0;
  count = 0;

  /** `arena` is reused from the previous month, so it grows once to the busiest month's size. */
  constructor(readonly serialize: boolean, arena: Buffer | null) {
    this.arena = arena ?? Buffer.allocUnsafe(serialize ? 1 << 24 : 0);
  }

  get usedBytes(): number {
    return this.bytes;
  }

  get arenaBuffer(): Buffer {
    return this.arena;
  }

  push(event: StripeEventShape, owner: number): void {
    if (this.serialize) this.pushJson(event.created, JSON.stringify(event), owner);
    else {
      this.grow();
      this.created[this.count] = event.created;
      this.owners[this.count] = owner;
      this.objects.push(event);
      this.count++;
    }
  }

  pushJson(created: number, json: string, owner: number): void {
    this.grow();
    this.created[this.count] = created;
    this.owners[this.count] = owner;
    if (this.bytes + json.length * 3 > this.arena.length) {
      const arena = Buffer.allocUnsafe(Math.max(Math.ceil(this.arena.length * 1.5), this.bytes + json.length * 3));
      this.arena.copy(arena, 0, 0, this.bytes);
      this.arena = arena;
    }
    this.bytes += this.arena.write(json, this.bytes, 'utf8');
    this.offsets[this.count + 1] = this.bytes;
    this.count++;
  }

  private grow(): void {
    if (this.count === this.created.length) {
      const created = new Float64Array(this.count * 2);
      created.set(this.created);
      this.created = created;
      const offsets = new Float64Array(this.count * 2 + 1);
      offsets.set(this.offsets);
      this.offsets = offsets;
      const owners = new Int32Array(this.count * 2);
      owners.set(this.owners);
      this.owners = owners;
    }
  }

  /** The month as transferable arrays, for a worker to hand to the merging thread. */
  pack(): PackedMonth {
    const order = this.order();
    return {
      arena: this.arena.buffer as ArrayBuffer,
      arenaOffset: this.arena.byteOffset,
      offsets: this.offsets.slice(0, this.count + 1),
      created: this.created.slice(0, this.count),
      owners: this.owners.slice(0, this.count),
      order,
    };
  }

  order(): Uint32Array {
    const idx = new Uint32Array(this.count);
    for (let i = 0; i < this.count; i++) idx[i] = i;
    const created = this.created;
    return idx.sort((a, b) => created[a]! - created[b]! || a - b);
  }

  json(i: number): Uint8Array {
    return this.arena.subarray(this.offsets[i]!, this.offsets[i + 1]!);
  }

  object(i: number): StripeEventShape {
    return this.objects[i]!;
  }
}

/** A sorted month of serialised events: line i in order is arena[offsets[order[i]] .. offsets[order[i] + 1]). */
export interface PackedMonth {
  arena: ArrayBuffer;
  arenaOffset: number;
  offsets: Float64Array;
  created: Float64Array;
  owners: Int32Array;
  order: Uint32Array;
}

interface Counters {
  events: number;
  signups: number;
  voluntary: number;
  involuntary: number;
}

export interface CustomerOutcome {
  account: string | null;
  customer: string;
  subscription: string;
  responseType: ResponseTypeName;
  /** when the customer churned (asked to cancel, or retries were exhausted); null if not */
  churnedAt: number | null;
  churnKind: 'voluntary' | 'involuntary' | null;
}

export interface MonthStats {
  month: number;
  start: number;
  end: number;
  events: number;
  liveAtStart: number;
  churned: number;
  voluntary: number;
  involuntary: number;
}

/**
 * A seeded subscription business, advanced one calendar month at a time. Keeps only compact
 * per-customer state; every month's events are generated, sorted by `created` (ties in emission
 * order) and handed to the sink before the next month starts.
 */
export class World {
  readonly options: Required<Omit<WorldOptions, 'start' | 'initialShare' | 'shard'>> & { start: number; initialShare: number };
  readonly shard: { index: number; count: number };
  month = 0;
  readonly catalogs: Catalog[];
  readonly accountIds: (string | null)[];
  private readonly customers: CustomerState[] = [];
  private readonly legacy: boolean;
  private readonly counters: Counters = { events: 0, signups: 0, voluntary: 0, involuntary: 0 };
  private catalogEventCounter = 0;
  private buffer: MonthBuffer | null = null;
  private arena: Buffer | null = null;
  private currentCustomer: CustomerState | null = null;

  constructor(options: WorldOptions) {
    const accounts = options.accounts ?? 0;
    if (!Number.isInteger(options.customers) || options.customers < 0) throw new RangeError('customers must be a whole number');
    if (!Number.isInteger(options.months) || options.months < 1) throw new RangeError('months must be at least 1');
    if (!Number.isInteger(accounts) || accounts < 0) throw new RangeError('accounts must be a whole number');
    this.options = {
      customers: options.customers,
      months: options.months,
      seed: options.seed >>> 0,
      accounts,
      apiVersion: options.apiVersion ?? PINNED_API_VERSION,
      start: options.start ?? DEFAULT_START,
      initialShare: options.initialShare ?? 0.3,
    };
    this.legacy = isLegacyVersion(this.options.apiVersion);
    const seed = this.options.seed;
    const accountCount = Math.max(1, accounts);
    this.accountIds = [];
    this.catalogs = [];
    for (let a = 0; a < accountCount; a++) {
      this.accountIds.push(accounts > 0 ? stripeId('acct', seed, catalogOwner(a), 0xacc7).slice(0, 21) : null);
      this.catalogs.push(buildCatalog(seed, a, accounts > 0, this.options.start));
    }
    this.shard = options.shard ?? { index: 0, count: 1 };
    for (let i = this.shard.index; i < this.options.customers; i += this.shard.count) this.customers.push(this.newCustomer(i));
  }

  /** The world's clock: the end of the last simulated month (unix seconds). */
  now(): number {
    return this.monthStart(this.month);
  }

  monthStart(month: number): number {
    return addMonths(this.options.start, month);
  }

  get done(): boolean {
    return this.month >= this.options.months;
  }

  get eventCount(): number {
    return this.counters.events;
  }

  get totals(): Readonly<Counters> {
    return this.counters;
  }

  /** Simulates one calendar month and writes its events, in order, to the sink. */
  async advanceMonth(sink: EventSink, actions?: ActionLookup): Promise<MonthStats> {
    const { buffer, stats } = this.generateMonth(typeof sink.writeSerialized === 'function', actions);
    const order = buffer.order();
    if (buffer.serialize) {
      for (const i of order) {
        const r = sink.writeSerialized!(buffer.json(i));
        if (r) await r;
      }
    } else {
      for (const i of order) {
        const r = sink.write(buffer.object(i) as unknown as Stripe.Event);
        if (r) await r;
      }
    }
    return stats;
  }

  /** Simulates one month and returns its events serialised and sorted, as transferable arrays. */
  advanceMonthPacked(): { packed: PackedMonth; stats: MonthStats } {
    const { buffer, stats } = this.generateMonth(true);
    const packed = buffer.pack();
    // the arena is handed over (transferred); the next month starts with one of similar size
    this.arenaHint = Math.max(1 << 20, Math.ceil(buffer.usedBytes * 1.15));
    this.arena = null;
    return { packed, stats };
  }

  private arenaHint = 1 << 24;
  /** the month being generated: every event's `created` must fall inside it to keep the order */
  private window: [number, number] = [0, 0];

  private inWindow(t: number): number {
    return Math.min(Math.max(t, this.window[0]), this.window[1] - 1);
  }

  private generateMonth(serialize: boolean, actions?: ActionLookup): { buffer: MonthBuffer; stats: MonthStats } {
    const ms = this.monthStart(this.month);
    const me = this.monthStart(this.month + 1);
    const buffer = new MonthBuffer(serialize, this.arena ?? (serialize ? Buffer.allocUnsafe(this.arenaHint) : null));
    this.buffer = buffer;
    this.window = [ms, me];
    if (this.month === 0 && this.shard.index === 0) this.emitCatalog(ms);
    let liveAtStart = 0;
    const before = { ...this.counters };
    for (const c of this.customers) {
      if (c.status === SubStatus.Canceled && c.deleteCustomerAt === 0 && c.disputeCloseAt === 0) continue;
      if (c.status !== SubStatus.NotStarted && c.churnedAt === 0) liveAtStart++;
      if (actions && c.status !== SubStatus.NotStarted && c.status !== SubStatus.Canceled) this.readActions(c, actions, ms);
      this.currentCustomer = c;
      this.simulateCustomerMonth(c, ms, me);
    }
    this.currentCustomer = null;
    this.buffer = null;
    if (buffer.serialize) this.arena = buffer.arenaBuffer;
    const stats: MonthStats = {
      month: this.month,
      start: ms,
      end: me,
      events: buffer.count,
      liveAtStart,
      churned: this.counters.voluntary + this.counters.involuntary - before.voluntary - before.involuntary,
      voluntary: this.counters.voluntary - before.voluntary,
      involuntary: this.counters.involuntary - before.involuntary,
    };
    this.month++;
    return { buffer, stats };
  }

  /**
   * Reads what the product has on each live subscription now, as advanceMonth does at every month
   * start (reading the same actions again changes nothing). The truth taken after it is under the
   * treatments the next month will use.
   */
  observeActions(actions: ActionLookup): void {
    const at = this.now();
    for (const c of this.customers) {
      if (c.status !== SubStatus.NotStarted && c.status !== SubStatus.Canceled) this.readActions(c, actions, at);
    }
  }

  /** Truth at the current clock for every live customer who has not already churned. */
  truthAt(): TruthRecord[] {
    return [...this.truthWithIndex()].map((x) => x.record);
  }

  /** `index` is the customer's index in the world, `slot` its position in this shard. */
  *truthWithIndex(): Generator<{ index: number; slot: number; record: TruthRecord }> {
    const asOf = this.now();
    for (let slot = 0; slot < this.customers.length; slot++) {
      const c = this.customers[slot]!;
      if (!isLive(c) || c.churnedAt !== 0 || c.signupAt >= asOf) continue;
      yield { index: c.index, slot, record: truthFor(c, this.accountIds[c.account]!, asOf, this.monthlyPaid(c, asOf)) };
    }
  }

  /** Customers simulated here (all of them, or this shard's). */
  get customerCount(): number {
    return this.customers.length;
  }

  /** Churn time of the customer in a shard slot (0 = not churned). */
  churnTimeAt(slot: number): number {
    return this.customers[slot]!.churnedAt;
  }

  /** What happened to every customer so far, with the hidden response type (for judging uplift). */
  outcomes(): CustomerOutcome[] {
    return this.customers
      .filter((c) => c.subId !== '')
      .map((c) => ({
        account: this.accountIds[c.account]!,
        customer: c.id,
        subscription: c.subId,
        responseType: RESPONSE_TYPE_NAMES[c.response],
        churnedAt: c.churnedAt || null,
        churnKind: c.churnKind === 1 ? 'voluntary' : c.churnKind === 2 ? 'involuntary' : null,
      }));
  }


  // ---------------------------------------------------------------------------------------------
  // customers

  private newCustomer(index: number): CustomerState {
    const { seed, months, initialShare } = this.options;
    const r = customerMonthStream(seed, index, -1);
    const c = new CustomerState();
    c.index = index;
    c.account = index % this.catalogs.length;
    c.id = this.newId(c, 'cus');
    const first = r.pick(FIRST);
    const last = r.pick(LAST);
    c.name = `${first} ${last}`;
    c.email = `${first.toLowerCase()}.${c.id.slice(4, 10).toLowerCase()}@example.com`;
    c.country = r.pick(COUNTRIES);
    const signupMonth = r.chance(initialShare) || months === 1 ? 0 : r.int(0, months - 1);
    const ms = this.monthStart(signupMonth);
    const me = this.monthStart(signupMonth + 1);
    c.signupAt = ms + Math.floor(r.next() * (me - ms - 2 * DAY));
    c.frailty = r.normal();
    c.health = 0.3 * r.normal();
    const failNoise = r.normal();
    c.response = drawResponseType(c.frailty, r.next());
    drawOfferNoise(c, seed);
    c.tier = r.weighted([45, 40, 15]);
    c.annual = r.chance((c.tier === 2 ? 0.35 : 0.2) * (c.frailty < 0 ? 1.3 : 0.7)); // committed customers prepay more often
    c.quantity = c.tier === 0 ? 1 : c.tier === 1 ? r.int(2, 12) : r.int(5, 60);
    c.brand = r.pick(BRANDS);
    c.funding = r.chance(0.75) ? 'credit' : 'debit';
    c.failRate = firstAttemptFailRate(c.funding === 'debit', c.frailty, failNoise);
    c.last4 = String(1000 + r.int(0, 8999));
    const signup = new Date(c.signupAt * 1000);
    const expiresInMonths = r.int(1, 48);
    const expiry = new Date(Date.UTC(signup.getUTCFullYear(), signup.getUTCMonth() + expiresInMonths, 1));
    c.expMonth = expiry.getUTCMonth() + 1;
    c.expYear = expiry.getUTCFullYear();
    c.trialStart = r.chance(0.4) ? 1 : 0; // marker; set to the time at signup
    if (r.chance(0.2)) c.discountStart = 1; // marker: signs up with the introductory coupon
    return c;
  }

  private newId(c: CustomerState, prefix: string): string {
    return stripeId(prefix, this.options.seed, c.index, c.counter++);
  }

  private monthlyPaid(c: CustomerState, at: number): number {
    const price = currentPrice(c, this.catalogs[c.account]!);
    const paid = monthlyPrice(c, price.unitAmount);
    return c.discountId && c.discountEnd > at ? paid * 0.75 : paid;
  }

  private readActions(c: CustomerState, actions: ActionLookup, at: number): void {
    const a = actions(this.accountIds[c.account] ?? undefined, c.subId);
    if (!a) return;
    const intro = this.catalogs[c.account]!.introCoupon.id;
    const coupons = a.couponIds.filter((id) => id !== intro);
    c.actionCoupons = coupons;
    c.actionDiscountIds = (a.discountIds ?? []).filter((id) => id !== c.discountId);
    if (c.actionDiscountIds.length === 0 && coupons.length > 0) {
      c.actionDiscountIds = coupons.map((coupon) => stripeId('di', this.options.seed, c.index, hashWords(coupon.length, coupon.charCodeAt(0), coupon.charCodeAt(coupon.length - 1))));
    }
    c.actionTrialEnd = a.trialEnd && a.trialEnd > at && a.trialEnd !== c.trialEnd ? a.trialEnd : 0;
    c.pauseBehavior = a.pauseCollection?.behavior ?? '';
    c.pauseResumesAt = a.pauseCollection?.resumes_at ?? 0;
    const contacted = coupons.length > 0 || c.actionTrialEnd > 0 || c.pauseBehavior !== '';
    if (contacted && c.firstContactAt === 0) c.firstContactAt = at;
  }

  // ---------------------------------------------------------------------------------------------
  // one customer's month

  private simulateCustomerMonth(c: CustomerState, ms: number, me: number): void {
    const r = customerMonthStream(this.options.seed, c.index, this.month);
    // Fixed-position draws first, so the same customer sees the same numbers whatever happens.
    const uDecision = r.next();
    const healthNoise = r.normal();
    const uSeatTime = r.next();
    const uRefund = r.next();
    const uDispute = r.next();
    const uEventTime = r.next();

    if (c.status === SubStatus.NotStarted) {
      if (c.signupAt >= me) return;
      this.signup(c, c.signupAt, r);
    }
    const t0 = Math.max(ms, c.signupAt);
    let decisionAt = 0;
    let seatChangeAt = 0;
    let seatDirection = 0;
    let refundAt = 0;
    let disputeAt = 0;
    if (isLive(c) && c.churnedAt === 0) {
      const logit = voluntaryLogit(c, t0, this.monthlyPaid(c, t0));
      const rate = voluntaryDailyRate(logit, customerMultiplier(c, t0, currentTreatments(c, t0)));
      const waitDays = -Math.log(1 - uDecision) / rate;
      if (t0 + waitDays * DAY < me) decisionAt = Math.floor(t0 + waitDays * DAY);
      if (c.signupAt < ms) {
        const previous = c.health;
        const drift = HEALTH_DRIFT * c.frailty;
        c.health = drift + HEALTH_MEMORY * (c.health - drift) + HEALTH_NOISE * healthNoise;
        const delta = c.health - previous;
        if (Math.abs(delta) > SEAT_CHANGE_THRESHOLD) {
          seatDirection = delta > 0 ? 1 : -1;
          seatChangeAt = Math.floor(ms + uSeatTime * (me - ms));
        }
      }
      const struggling = c.health < -0.8;
      if (uRefund < (struggling ? 0.05 : 0.02)) refundAt = Math.floor(t0 + uEventTime * (me - t0));
      else if (uDispute < (struggling ? 0.01 : 0.003)) disputeAt = Math.floor(t0 + uEventTime * (me - t0));
    }

    for (let guard = 0; guard < 64; guard++) {
      let next = me;
      let what = 0;
      const consider = (at: number, kind: number) => {
        if (at > 0 && at < next) {
          next = at;
          what = kind;
        }
      };
      if (isLive(c)) {
        if (c.status === SubStatus.PastDue) consider(c.nextAttemptAt, 2);
        consider(c.periodEnd, 1);
        if (c.status === SubStatus.Trialing && !c.trialWillEndSent && !c.cancelAtPeriodEnd) consider(Math.max(c.trialEnd - 3 * DAY, c.signupAt + 1), 3);
        if (c.churnedAt === 0) consider(decisionAt, 4);
        consider(seatChangeAt, 5);
        consider(refundAt, 6);
        consider(disputeAt, 7);
        if (c.discountId && c.discountEndedAt === 0) consider(c.discountEnd, 9);
        if (c.autoUpdate === 0) consider(Math.max(cardExpiryMonthStart(c), c.signupAt + 1), 10);
      }
      consider(c.disputeCloseAt, 8);
      consider(c.deleteCustomerAt, 11);
      if (what === 0) break;
      switch (what) {
        case 1:
          this.renewal(c, next, r);
          break;
        case 2:
          this.attempt(c, next, c.attempts + 1, r);
          break;
        case 3:
          c.trialWillEndSent = true;
          this.emit(c, 'customer.subscription.trial_will_end', next, this.sub(c, next));
          break;
        case 4:
          decisionAt = 0;
          this.voluntaryCancel(c, next, r);
          break;
        case 5:
          seatChangeAt = 0;
          this.changeSeats(c, next, seatDirection, r);
          break;
        case 6:
          refundAt = 0;
          this.refund(c, next, r);
          break;
        case 7:
          disputeAt = 0;
          this.dispute(c, next, r);
          break;
        case 8:
          this.closeDispute(c, next);
          break;
        case 9:
          this.endIntroDiscount(c, next);
          break;
        case 10:
          this.cardExpiryMonth(c, next, r);
          break;
        case 11:
          this.deleteCustomer(c, next);
          break;
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // happenings

  private signup(c: CustomerState, t: number, r: Random): void {
    this.counters.signups++;
    const catalog = this.catalogs[c.account]!;
    const withTrial = c.trialStart === 1;
    const withIntro = c.discountStart === 1;
    c.trialStart = 0;
    c.discountStart = 0;
    this.emit(c, 'customer.created', t, customerObject(c, catalog, false));
    c.pmId = this.newId(c, 'pm');
    c.pmCreated = t;
    this.emit(c, 'payment_method.attached', t, paymentMethodObject(c, true));
    this.emit(c, 'customer.updated', t, customerObject(c, catalog, false), { invoice_settings: { default_payment_method: null } });
    c.subId = this.newId(c, 'sub');
    c.itemId = this.newId(c, 'si');
    c.subCreated = t;
    c.startQuantity = c.quantity;
    if (withTrial) {
      c.trialStart = t;
      c.trialEnd = t + 14 * DAY;
      c.status = SubStatus.Trialing;
      c.anchor = c.trialEnd;
      c.periodStart = t;
      c.periodEnd = c.trialEnd;
    } else {
      c.status = SubStatus.Active;
      c.anchor = t;
      c.periodStart = t;
      c.periodEnd = addMonths(t, c.annual ? 12 : 1);
    }
    c.cycle = 0;
    if (withIntro) {
      c.discountId = this.newId(c, 'di');
      c.discountStart = t;
      c.discountEnd = addMonths(t, catalog.introCoupon.durationInMonths);
    }
    const invoiceId = this.newId(c, 'in');
    c.latestInvoice = invoiceId;
    this.emit(c, 'customer.subscription.created', t, this.sub(c, t));
    if (withIntro) this.emit(c, 'customer.discount.created', t, discountObject(c, catalog, this.options.apiVersion));
    const subtotal = withTrial ? 0 : this.subtotal(c);
    const discount = this.discountAmount(c, subtotal, t);
    const facts = this.invoiceFacts(c, invoiceId, t, 'subscription_create', subtotal, discount, t, t);
    this.emit(c, 'invoice.created', t, this.invoice(c, facts));
    facts.status = 'open';
    facts.finalizedAt = t;
    this.emit(c, 'invoice.finalized', t, this.invoice(c, facts));
    this.pay(c, facts, t, 'Subscription creation');
  }

  private subtotal(c: CustomerState): number {
    return currentPrice(c, this.catalogs[c.account]!).unitAmount * c.quantity;
  }

  private discountAmount(c: CustomerState, subtotal: number, at: number): number {
    if (!c.discountId || c.discountEnd <= at) return 0;
    return Math.round((subtotal * this.catalogs[c.account]!.introCoupon.percentOff) / 100);
  }

  private invoiceFacts(
    c: CustomerState,
    id: string,
    t: number,
    reason: InvoiceFacts['billingReason'],
    subtotal: number,
    discountAmount: number,
    periodStart: number,
    periodEnd: number,
  ): InvoiceFacts {
    c.invoiceSeq++;
    return {
      id,
      number: `${c.id.slice(4, 12).toUpperCase()}-${String(c.invoiceSeq).padStart(4, '0')}`,
      created: t,
      status: 'draft',
      billingReason: reason,
      subtotal,
      discountAmount,
      amountPaid: 0,
      attemptCount: 0,
      nextPaymentAttempt: null,
      periodStart,
      periodEnd,
      linePeriodStart: c.periodStart,
      linePeriodEnd: c.periodEnd,
      chargeId: null,
      paymentIntentId: null,
      finalizedAt: null,
      paidAt: null,
      voidedAt: null,
      uncollectibleAt: null,
    };
  }

  /** Settles an invoice that needs no charge, or charges a first attempt that succeeds. */
  private pay(c: CustomerState, facts: InvoiceFacts, t: number, description: string): void {
    const amount = facts.subtotal - facts.discountAmount;
    if (amount > 0) {
      facts.chargeId = this.newId(c, 'ch');
      facts.paymentIntentId = this.newId(c, 'pi');
      facts.attemptCount = 1;
      this.emit(c, 'charge.succeeded', t, this.charge(c, facts, t, amount, true, null, description));
      this.emitPaymentIntent(c, facts, t, amount, true, null);
      this.rememberCharge(c, facts, amount, t);
    }
    facts.status = 'paid';
    facts.amountPaid = amount;
    facts.paidAt = t;
    const paid = this.invoice(c, facts);
    this.emit(c, 'invoice.paid', t, paid);
    this.emit(c, 'invoice.payment_succeeded', t, paid);
    this.emit(c, 'invoice.updated', t, paid, { status: 'open', amount_paid: 0, amount_remaining: amount, status_transitions: { paid_at: null } });
  }

  private rememberCharge(c: CustomerState, facts: InvoiceFacts, amount: number, t: number): void {
    c.lastCharge = facts.chargeId!;
    c.lastChargePi = facts.paymentIntentId!;
    c.lastChargeAmount = amount;
    c.lastChargeAt = t;
    c.lastChargeInvoice = facts.id;
    c.lastChargeRefunded = false;
    c.lastChargeDisputed = false;
  }

  private renewal(c: CustomerState, t: number, r: Random): void {
    if (c.cancelAtPeriodEnd) {
      this.endSubscription(c, t, r);
      return;
    }
    const previousItem = this.itemSnapshot(c);
    const previousStatus = subscriptionStatusName(c, t);
    const prevStart = c.periodStart;
    c.cycle++;
    c.periodStart = t;
    c.periodEnd = addMonths(c.anchor, c.annual ? 12 * c.cycle : c.cycle);
    if (c.periodEnd <= t) c.periodEnd = addMonths(t, c.annual ? 12 : 1);
    const invoiceId = this.newId(c, 'in');
    const prevInvoice = c.latestInvoice;
    c.latestInvoice = invoiceId;
    if (c.status === SubStatus.Trialing) c.status = SubStatus.Active;
    const previous: Record<string, unknown> = this.legacy
      ? { current_period_end: t, current_period_start: prevStart, latest_invoice: prevInvoice }
      : { items: { data: [previousItem] }, latest_invoice: prevInvoice };
    const status = subscriptionStatusName(c, t);
    if (status !== previousStatus) previous.status = previousStatus;
    this.emit(c, 'customer.subscription.updated', t, this.sub(c, t), previous);
    const inExtendedTrial = c.actionTrialEnd > t;
    const subtotal = inExtendedTrial ? 0 : this.subtotal(c);
    const facts = this.invoiceFacts(c, invoiceId, t, 'subscription_cycle', subtotal, this.discountAmount(c, subtotal, t), prevStart, t);
    this.emit(c, 'invoice.created', t, this.invoice(c, facts));
    const paused = c.pauseBehavior !== '' && (c.pauseResumesAt === 0 || c.pauseResumesAt > t);
    if (paused) {
      facts.status = 'void';
      facts.voidedAt = t;
      facts.finalizedAt = t;
      this.emit(c, 'invoice.voided', t, this.invoice(c, facts));
      return;
    }
    const at = this.inWindow(t + 3600);
    facts.status = 'open';
    facts.finalizedAt = at;
    this.emit(c, 'invoice.finalized', at, this.invoice(c, facts));
    if (facts.subtotal - facts.discountAmount <= 0) {
      this.pay(c, facts, at, 'Subscription update');
      return;
    }
    c.openInvoice = invoiceId;
    c.openInvoiceCreated = at;
    c.openInvoiceDraftedAt = t;
    c.openAmount = facts.subtotal - facts.discountAmount;
    c.openSubtotal = facts.subtotal;
    c.openPeriodStart = c.periodStart;
    c.openPeriodEnd = c.periodEnd;
    c.openPrevPeriodStart = prevStart;
    c.attempts = 0;
    c.failureKind = 0;
    this.attempt(c, at, 1, r);
  }

  private itemSnapshot(c: CustomerState): Record<string, unknown> {
    const price = currentPrice(c, this.catalogs[c.account]!);
    return {
      id: c.itemId,
      current_period_end: c.periodEnd,
      current_period_start: c.periodStart,
      price: { id: price.id, product: price.product, unit_amount: price.unitAmount, recurring: { interval: price.interval, interval_count: 1, usage_type: 'licensed' } },
      quantity: c.quantity,
    };
  }

  /** One payment attempt on the open renewal invoice (attempt 1 at finalisation, then retries). */
  private attempt(c: CustomerState, t: number, n: number, r: Random): void {
    const catalog = this.catalogs[c.account]!;
    let cardExpired = cardExpiresAt(c) <= t;
    if (n > 1 && cardExpired && r.chance(CARD_UPDATE_ON_FAILURE)) {
      // the dunning e-mail worked: a new card arrives just before the retry
      this.replaceCard(c, this.inWindow(t - 60), r);
      cardExpired = false;
    }
    let failureCode: string | null = null;
    if (cardExpired) failureCode = 'expired_card';
    else if (n === 1 ? r.chance(c.failRate) : c.failureKind === 2 ? r.chance(RETRY_FAIL) : false) {
      failureCode = r.chance(0.5) ? 'insufficient_funds' : 'card_declined';
    }
    c.attempts = n;
    const facts: InvoiceFacts = {
      id: c.openInvoice,
      number: `${c.id.slice(4, 12).toUpperCase()}-${String(c.invoiceSeq).padStart(4, '0')}`,
      created: c.openInvoiceDraftedAt,
      status: 'open',
      billingReason: 'subscription_cycle',
      subtotal: c.openSubtotal,
      discountAmount: c.openSubtotal - c.openAmount,
      amountPaid: 0,
      attemptCount: n,
      nextPaymentAttempt: null,
      periodStart: c.openPrevPeriodStart,
      periodEnd: c.openInvoiceDraftedAt,
      linePeriodStart: c.openPeriodStart,
      linePeriodEnd: c.openPeriodEnd,
      chargeId: this.newId(c, 'ch'),
      paymentIntentId: stripeId('pi', this.options.seed, c.index, hashWords(c.invoiceSeq, 0x91)),
      finalizedAt: c.openInvoiceCreated,
      paidAt: null,
      voidedAt: null,
      uncollectibleAt: null,
    };
    if (failureCode === null) {
      this.emit(c, 'charge.succeeded', t, this.charge(c, facts, t, c.openAmount, true, null, 'Subscription update'));
      this.emitPaymentIntent(c, facts, t, c.openAmount, true, null);
      this.rememberCharge(c, facts, c.openAmount, t);
      facts.status = 'paid';
      facts.amountPaid = c.openAmount;
      facts.paidAt = t;
      const paid = this.invoice(c, facts);
      this.emit(c, 'invoice.paid', t, paid);
      this.emit(c, 'invoice.payment_succeeded', t, paid);
      this.emit(c, 'invoice.updated', t, paid, { status: 'open', amount_paid: 0, amount_remaining: c.openAmount, status_transitions: { paid_at: null } });
      c.openInvoice = '';
      c.nextAttemptAt = 0;
      if (c.status === SubStatus.PastDue) {
        c.status = SubStatus.Active;
        this.emit(c, 'customer.subscription.updated', t, this.sub(c, t), { status: 'past_due' });
        this.emit(c, 'customer.updated', t, customerObject(c, catalog, false), { delinquent: true });
      }
      return;
    }
    c.failureKind = failureCode === 'expired_card' ? 1 : 2;
    c.lastFailureAt = t;
    const final = n >= RETRY_OFFSETS_DAYS.length;
    c.nextAttemptAt = final ? 0 : c.openInvoiceCreated + RETRY_OFFSETS_DAYS[n]! * DAY;
    facts.nextPaymentAttempt = final ? null : c.nextAttemptAt;
    this.emit(c, 'charge.failed', t, this.charge(c, facts, t, c.openAmount, false, failureCode, 'Subscription update'));
    this.emitPaymentIntent(c, facts, t, c.openAmount, false, failureCode);
    const failed = this.invoice(c, facts);
    this.emit(c, 'invoice.payment_failed', t, failed);
    this.emit(c, 'invoice.updated', t, failed, { attempt_count: n - 1, next_payment_attempt: n === 1 ? null : c.openInvoiceCreated + RETRY_OFFSETS_DAYS[n - 1]! * DAY });
    if (n === 1) {
      c.status = SubStatus.PastDue;
      this.emit(c, 'customer.subscription.updated', t, this.sub(c, t), { status: 'active' });
      this.emit(c, 'customer.updated', t, customerObject(c, catalog, true), { delinquent: false });
    }
    if (!final) return;
    // retries exhausted: Stripe cancels the subscription and marks the invoice uncollectible
    c.status = SubStatus.Canceled;
    c.canceledAt = t;
    c.endedAt = t;
    c.cancelReason = 'payment_failed';
    c.cancelFeedback = '';
    c.openInvoice = '';
    if (c.churnedAt === 0) {
      c.churnedAt = t;
      c.churnKind = 2;
      this.counters.involuntary++;
    }
    this.emit(c, 'customer.subscription.deleted', t, this.sub(c, t));
    facts.status = 'uncollectible';
    facts.uncollectibleAt = t;
    this.emit(c, 'invoice.marked_uncollectible', t, this.invoice(c, facts), { status: 'open' });
    if (r.chance(0.25)) c.deleteCustomerAt = t + r.int(2, 20) * DAY;
  }

  private replaceCard(c: CustomerState, t: number, r: Random): void {
    const catalog = this.catalogs[c.account]!;
    const oldPm = c.pmId;
    const detached = { ...paymentMethodObject(c, false) };
    c.pmId = this.newId(c, 'pm');
    c.pmCreated = t;
    c.brand = r.pick(BRANDS);
    c.last4 = String(1000 + r.int(0, 8999));
    const d = new Date(t * 1000);
    c.expMonth = r.int(1, 12);
    c.expYear = d.getUTCFullYear() + r.int(2, 5);
    c.autoUpdate = 0;
    this.emit(c, 'payment_method.attached', t, paymentMethodObject(c, true));
    this.emit(c, 'customer.updated', t, customerObject(c, catalog, c.status === SubStatus.PastDue), { invoice_settings: { default_payment_method: oldPm } });
    this.emit(c, 'payment_method.detached', t, detached, { customer: c.id });
  }

  /** Start of the card's expiry month: the card account updater refreshes it, or it will lapse. */
  private cardExpiryMonth(c: CustomerState, t: number, r: Random): void {
    if (!r.chance(CARD_AUTO_UPDATE)) {
      c.autoUpdate = 2;
      return;
    }
    c.autoUpdate = 1;
    // same day, so the event stays inside the month being simulated
    const at = this.inWindow(t + r.int(0, 20 * 3600));
    const previous = { card: { exp_month: c.expMonth, exp_year: c.expYear, last4: c.last4 } };
    c.expYear += r.int(3, 4);
    if (r.chance(0.3)) c.last4 = String(1000 + r.int(0, 8999));
    c.autoUpdate = 0;
    this.emit(c, 'payment_method.automatically_updated', at, paymentMethodObject(c, true), previous);
  }

  private voluntaryCancel(c: CustomerState, t: number, r: Random): void {
    if (!isLive(c) || c.cancelAtPeriodEnd || c.churnedAt !== 0) return;
    c.churnedAt = t;
    c.churnKind = 1;
    this.counters.voluntary++;
    const feedback = this.pickFeedback(c, t, r);
    const disputedRecently = c.lastDisputeAt > 0 && t - c.lastDisputeAt <= 90 * DAY;
    if (disputedRecently) {
      // the merchant cancels at once after a dispute
      c.status = SubStatus.Canceled;
      c.canceledAt = t;
      c.endedAt = t;
      c.cancelReason = 'payment_disputed';
      c.cancelFeedback = feedback;
      c.openInvoice = '';
      this.emit(c, 'customer.subscription.deleted', t, this.sub(c, t));
      if (r.chance(0.3)) c.deleteCustomerAt = t + r.int(1, 15) * DAY;
      return;
    }
    c.cancelAtPeriodEnd = true;
    c.canceledAt = t;
    c.cancelReason = 'cancellation_requested';
    c.cancelFeedback = feedback;
    this.emit(c, 'customer.subscription.updated', t, this.sub(c, t), {
      cancel_at: null,
      cancel_at_period_end: false,
      canceled_at: null,
      cancellation_details: { comment: null, feedback: null, reason: null },
    });
  }

  private pickFeedback(c: CustomerState, t: number, r: Random): string {
    if (r.chance(0.3)) return '';
    const recent = (at: number) => at > 0 && t - at <= 60 * DAY;
    const weights = [
      c.tier === 0 || recent(c.discountEndedAt) ? 4 : 2, // too_expensive
      c.health < -0.5 || recent(c.lastSeatShrinkAt) ? 4 : 1.5, // unused
      1.5, // missing_features
      1.5, // switched_service
      recent(c.lastRefundAt) || recent(c.lastDisputeAt) ? 3 : 0.5, // customer_service
      0.7, // too_complex
      0.7, // low_quality
      1, // other
    ];
    return FEEDBACK[r.weighted(weights)]!;
  }

  private endSubscription(c: CustomerState, t: number, r: Random): void {
    c.status = SubStatus.Canceled;
    c.endedAt = t;
    c.openInvoice = '';
    this.emit(c, 'customer.subscription.deleted', t, this.sub(c, t));
    if (r.chance(0.3)) c.deleteCustomerAt = t + r.int(1, 20) * DAY;
  }

  private changeSeats(c: CustomerState, t: number, direction: number, r: Random): void {
    if (!isLive(c) || c.cancelAtPeriodEnd) return;
    const previousItem = this.itemSnapshot(c);
    const previousPlan = { tier: c.tier, quantity: c.quantity };
    if (direction > 0) {
      if (c.tier === 0) {
        if (r.chance(0.5)) {
          c.tier = 1;
          c.quantity = r.int(2, 3);
        }
      } else if (c.tier === 1 && r.chance(0.15)) {
        c.tier = 2;
        c.quantity = Math.max(5, c.quantity);
      } else {
        c.quantity += c.tier === 1 ? r.int(1, 3) : r.int(1, 5);
      }
    } else if (c.tier === 1) {
      if (c.quantity <= 2 && r.chance(0.5)) {
        c.tier = 0;
        c.quantity = 1;
      } else c.quantity = Math.max(1, c.quantity - r.int(1, 2));
    } else if (c.tier === 2) {
      if (r.chance(0.2)) c.tier = 1;
      else c.quantity = Math.max(1, c.quantity - r.int(1, 4));
    }
    if (c.tier === previousPlan.tier && c.quantity === previousPlan.quantity) return;
    if (c.tier < previousPlan.tier) c.lastDowngradeAt = t;
    else if (c.tier > previousPlan.tier) c.lastUpgradeAt = t;
    else if (c.quantity < previousPlan.quantity) c.lastSeatShrinkAt = t;
    else c.lastSeatGrowAt = t;
    const previous: Record<string, unknown> = { items: { data: [previousItem] } };
    if (this.legacy) {
      previous.quantity = previousPlan.quantity;
      if (c.tier !== previousPlan.tier) previous.plan = { id: (previousItem.price as { id: string }).id };
    }
    this.emit(c, 'customer.subscription.updated', t, this.sub(c, t), previous);
  }

  private refund(c: CustomerState, t: number, r: Random): void {
    if (!c.lastCharge || c.lastChargeRefunded || c.lastChargeDisputed || t <= c.lastChargeAt) return;
    const amount = r.chance(0.6) ? c.lastChargeAmount : Math.max(1, Math.round(c.lastChargeAmount / 2));
    c.lastChargeRefunded = true;
    c.lastRefundAt = t;
    const facts = this.lastChargeFacts(c);
    this.emit(c, 'charge.refunded', t, this.charge(c, facts, c.lastChargeAt, c.lastChargeAmount, true, null, 'Subscription update', amount), { amount_refunded: 0, refunded: false });
    const refundId = this.newId(c, 're');
    this.emit(c, 'refund.created', t, refundObject(c, this.catalogs[c.account]!, refundId, c.lastCharge, c.lastChargePi, amount, t));
    // every refund is made through a credit note on the invoice it paid (ids hashed, so the
    // world's other ids stay as they were)
    const salt = hashWords(c.counter, 0xc7e0);
    const reason = CREDIT_NOTE_REASONS[salt % CREDIT_NOTE_REASONS.length]!;
    const creditNote = creditNoteObject(c, this.catalogs[c.account]!, { id: stripeId('cn', this.options.seed, c.index, salt), number: `${c.id.slice(4, 12).toUpperCase()}-CN-${c.counter}`, invoiceId: c.lastChargeInvoice, refundId, amount, reason, created: t });
    this.emitHashed(c, 'credit_note.created', t, creditNote, salt);
  }

  private dispute(c: CustomerState, t: number, r: Random): void {
    if (!c.lastCharge || c.lastChargeRefunded || c.lastChargeDisputed || t <= c.lastChargeAt) return;
    c.lastChargeDisputed = true;
    c.lastDisputeAt = t;
    c.disputeId = this.newId(c, 'dp');
    c.disputeCloseAt = t + r.int(10, 40) * DAY;
    c.disputeWon = r.chance(0.4);
    const catalog = this.catalogs[c.account]!;
    const reason = r.pick(DISPUTE_REASONS);
    c.disputeReason = reason;
    this.emit(c, 'charge.dispute.created', t, disputeObject(catalog, c.disputeId, c.lastCharge, c.lastChargePi, c.lastChargeAmount, t, 'needs_response', reason));
    this.emit(c, 'charge.updated', t, this.charge(c, this.lastChargeFacts(c), c.lastChargeAt, c.lastChargeAmount, true, null, 'Subscription update'), { disputed: false });
  }

  private closeDispute(c: CustomerState, t: number): void {
    const catalog = this.catalogs[c.account]!;
    c.disputeCloseAt = 0;
    this.emit(c, 'charge.dispute.closed', t, disputeObject(catalog, c.disputeId, c.lastCharge, c.lastChargePi, c.lastChargeAmount, c.lastDisputeAt, c.disputeWon ? 'won' : 'lost', c.disputeReason));
  }

  private lastChargeFacts(c: CustomerState): InvoiceFacts {
    return {
      id: c.lastChargeInvoice, number: '', created: c.lastChargeAt, status: 'paid', billingReason: 'subscription_cycle',
      subtotal: c.lastChargeAmount, discountAmount: 0, amountPaid: c.lastChargeAmount, attemptCount: 1, nextPaymentAttempt: null,
      periodStart: c.periodStart, periodEnd: c.periodEnd, linePeriodStart: c.periodStart, linePeriodEnd: c.periodEnd,
      chargeId: c.lastCharge, paymentIntentId: c.lastChargePi, finalizedAt: c.lastChargeAt, paidAt: c.lastChargeAt, voidedAt: null, uncollectibleAt: null,
    };
  }

  private endIntroDiscount(c: CustomerState, t: number): void {
    const catalog = this.catalogs[c.account]!;
    c.discountEndedAt = t;
    this.emit(c, 'customer.discount.deleted', t, discountObject(c, catalog, this.options.apiVersion));
    const previous: Record<string, unknown> = this.legacy
      ? { discount: discountObject(c, catalog, this.options.apiVersion) }
      : { discounts: [c.discountId, ...c.actionDiscountIds] };
    this.emit(c, 'customer.subscription.updated', t, this.sub(c, t), previous);
  }

  private deleteCustomer(c: CustomerState, t: number): void {
    c.deleteCustomerAt = 0;
    if (c.customerDeleted) return;
    c.customerDeleted = true;
    this.emit(c, 'customer.deleted', t, customerObject(c, this.catalogs[c.account]!, false));
  }

  // ---------------------------------------------------------------------------------------------
  // objects and events

  private sub(c: CustomerState, t: number): Record<string, unknown> {
    return subscriptionObject(c, this.catalogs[c.account]!, this.options.apiVersion, t);
  }

  private invoice(c: CustomerState, facts: InvoiceFacts): Record<string, unknown> {
    return invoiceObject(c, this.catalogs[c.account]!, facts, this.options.apiVersion);
  }

  private charge(c: CustomerState, facts: InvoiceFacts, t: number, amount: number, ok: boolean, failureCode: string | null, description: string, refunded = 0): Record<string, unknown> {
    return chargeObject(
      c,
      this.catalogs[c.account]!,
      {
        id: facts.chargeId!,
        paymentIntentId: facts.paymentIntentId!,
        invoiceId: facts.id,
        created: t,
        amount,
        succeeded: ok,
        failureCode,
        amountRefunded: refunded,
        disputed: c.lastChargeDisputed && c.lastCharge === facts.chargeId,
        description,
      },
      this.options.apiVersion,
    );
  }

  private emit(c: CustomerState, type: string, created: number, object: Record<string, unknown>, previous?: Record<string, unknown>): void {
    const id = this.newId(c, 'evt');
    const account = this.accountIds[c.account]!;
    const buffer = this.buffer!;
    this.counters.events++;
    if (!buffer.serialize) {
      buffer.push(eventEnvelope(id, type, created, object, previous, account, this.options.apiVersion), c.index);
      return;
    }
    // consecutive events about the same snapshot (the payment trio) serialise it once
    if (object !== this.lastObject) {
      this.lastObject = object;
      this.lastObjectJson = JSON.stringify(object);
    }
    buffer.pushJson(created, eventEnvelopeJson(id, type, created, this.lastObjectJson, previous, account, this.options.apiVersion), c.index);
  }

  /** The payment intent collecting an invoice, after one attempt on it (the same intent across an invoice's retries). */
  private emitPaymentIntent(c: CustomerState, facts: InvoiceFacts, t: number, amount: number, ok: boolean, failureCode: string | null): void {
    const created = facts.finalizedAt ?? t;
    const intent = paymentIntentObject(c, this.catalogs[c.account]!, { id: facts.paymentIntentId!, created: Math.min(created, t), amount, chargeId: facts.chargeId!, invoiceId: facts.id, succeeded: ok, failureCode });
    this.emitHashed(c, ok ? 'payment_intent.succeeded' : 'payment_intent.payment_failed', t, intent, hashWords(c.counter, 0x9e1));
  }

  /**
   * An event whose id is hashed from `salt` instead of taken from the customer's id counter: events
   * added to the world (payment intents, credit notes) leave every earlier id, and so every
   * earlier event, byte for byte as it was.
   */
  private emitHashed(c: CustomerState, type: string, created: number, object: Record<string, unknown>, salt: number): void {
    const id = stripeId('evt', this.options.seed, c.index, hashWords(salt, 0xe7e));
    const account = this.accountIds[c.account]!;
    const buffer = this.buffer!;
    this.counters.events++;
    if (!buffer.serialize) {
      buffer.push(eventEnvelope(id, type, created, object, undefined, account, this.options.apiVersion), c.index);
      return;
    }
    this.lastObject = object;
    this.lastObjectJson = JSON.stringify(object);
    buffer.pushJson(created, eventEnvelopeJson(id, type, created, this.lastObjectJson, undefined, account, this.options.apiVersion), c.index);
  }

  private lastObject: Record<string, unknown> | null = null;
  private lastObjectJson = '';

  private pushCatalog(event: StripeEventShape): void {
    this.counters.events++;
    this.buffer!.push(event, -1);
  }

  private emitCatalog(t: number): void {
    const seed = this.options.seed;
    this.catalogs.forEach((catalog, a) => {
      const account = this.accountIds[a]!;
      const next = () => stripeId('evt', seed, catalogOwner(a), this.catalogEventCounter++);
      for (let tier = 0; tier < catalog.products.length; tier++) {
        this.pushCatalog(eventEnvelope(next(), 'product.created', t, productObject(catalog, tier), undefined, account, this.options.apiVersion));
        for (const price of catalog.prices[tier]!) {
          this.pushCatalog(eventEnvelope(next(), 'price.created', t, priceObject(catalog, price), undefined, account, this.options.apiVersion));
        }
      }
      this.pushCatalog(eventEnvelope(next(), 'coupon.created', t, couponObject(catalog.introCoupon), undefined, account, this.options.apiVersion));
    });
  }
}

function isLive(c: CustomerState): boolean {
  return c.status === SubStatus.Trialing || c.status === SubStatus.Active || c.status === SubStatus.PastDue;
}

export { ResponseType };
