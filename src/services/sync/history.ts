import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { pgArray } from '../../db/bulk.js';
import type { UnixSeconds } from '../../lib/clock.js';
import { ingestEvents } from '../events/ingest.js';
import type { StripeEventEnvelope } from '../events/parse.js';
import { SYNTHETIC_EVENT_PREFIX, objectHash } from './synthetic.js';

/**
 * Point-in-time history rebuilt from what Stripe objects record about their own past.
 *
 * A backfill stores each object's current state (a snapshot) and the last 30 days of events. Before
 * the oldest stored real event there are no events, but the objects still date their own past: a
 * subscription its start, trial, cancellation request (`canceled_at`) and end; a failed charge when
 * it failed, why, and (through the invoice open then) which invoice's dunning it belongs to; an
 * invoice its status transitions. From these this module makes synthetic, dated history events:
 *
 * - one subscription version at every moment its state changed before the cutoff (start, trial end,
 *   each renewal, first failed payment of an invoice → past_due, that invoice settled → active,
 *   cancellation request), each the object as it then stood;
 * - one payment failure per failed charge before the cutoff, with its failure and decline codes, the
 *   invoice it was collecting and the attempt number, and one per payment intent whose failure left
 *   no failed charge (deduplicated by the intent's latest charge), dated at the intent's creation;
 * - the items (price, quantity) and billing period of every billed period, from the invoices'
 *   lines (billedPeriods), so seat and plan changes show, dated at the period they were billed in;
 *   a prorated change at its proration line's start, an add-on at its item's `created`;
 * - the payment methods the customer's charges were made with, attached, updated (a new expiry)
 *   and, for one Stripe no longer lists, detached (paymentMethodHistory has the dating rules);
 * - the discounts the invoices applied, over the periods they applied (invoicedDiscounts): in the
 *   subscription's versions, and, for one that ended and that nothing else stored, as its removal.
 *
 * They are marked `churn_synthetic: 'history'`, ids `evt_sync_h_…`, and the projector writes them
 * only to the history tables (subscription_versions, payment_failures; payment_methods and
 * discounts rows only where no real event or fetched object wrote one), never to current rows, and
 * ranks them below every real event at the same second. The cutoff is the oldest real event stored
 * for the account (or, for a subscription, its own oldest real event if older): from there on the
 * events themselves say what happened, so the two never describe the same stretch twice.
 *
 * What the objects do not record is not invented: a change made mid-period without proration (a
 * seat count, a plan) shows from the next period's invoice on; a payment method no charge used is
 * unknown; an ended discount's coupon and terms are unknown where the invoices name only the
 * discount (current API versions), and one on a period longer than its coupon (a yearly invoice)
 * is taken to last that whole period.
 */

type Obj = Record<string, any>;

/** Ids of rebuilt-history events. */
export const HISTORY_EVENT_PREFIX = `${SYNTHETIC_EVENT_PREFIX}h_`;

/** An invoice's dunning as its failed charges date it: first failure, and when the invoice was settled (paid, voided, written off). */
export interface DunningWindow {
  firstFailedAt: UnixSeconds;
  settledAt: UnixSeconds | null;
}

/** What a subscription's items were during one billed period, from the period's invoice lines. */
export interface BilledPeriod {
  start: UnixSeconds;
  end: UnixSeconds;
  /** for a stretch opened by a prorated change mid-period: where its billing period began */
  cycleStart?: UnixSeconds;
  items: { id: string; priceId: string | null; productId: string | null; unitAmount: number | null; quantity: number }[];
}

/**
 * The billed periods of a subscription from its invoices' lines: every non-proration subscription
 * line says which price and quantity an item had over its period. Stripe writes a period's line
 * when the period starts (at renewal), so a change made mid-period shows from the next period on
 * unless Stripe prorated it, in which case the proration line dates it exactly.
 */
export function billedPeriods(invoices: readonly Obj[]): BilledPeriod[] {
  const byStart = new Map<number, BilledPeriod>();
  const plainStarts = new Set<number>();
  const credited = new Set<string>();
  for (const invoice of invoices) {
    if (invoice.status === 'void' || invoice.status === 'draft') continue;
    const lines: Obj[] = Array.isArray(invoice.lines?.data) ? invoice.lines.data : [];
    for (const line of lines) {
      const details = line.parent?.subscription_item_details ?? null;
      const itemId = details?.subscription_item ?? line.subscription_item ?? null;
      const start = num(line.period?.start);
      const end = num(line.period?.end);
      if (typeof itemId !== 'string' || start === null || end === null || end <= start) continue;
      const prorated = details ? details.proration === true : line.proration === true;
      const priceDetails = line.pricing?.price_details ?? null;
      const price = line.price ?? line.plan ?? null;
      const unit = line.pricing?.unit_amount_decimal ?? price?.unit_amount_decimal ?? price?.unit_amount ?? null;
      const item = {
        id: itemId,
        priceId: (typeof price === 'object' && price ? price.id : null) ?? priceDetails?.price ?? null,
        productId: (typeof price === 'object' && price ? (typeof price.product === 'string' ? price.product : price.product?.id) : null) ?? priceDetails?.product ?? null,
        unitAmount: unit === null || unit === undefined ? null : Math.round(Number(unit)),
        quantity: num(line.quantity) ?? 1,
      };
      // a prorated line starts where the change happened; a plain one where the period did
      let period = byStart.get(start);
      if (!period) byStart.set(start, (period = { start, end, items: [] }));
      if (!prorated) plainStarts.add(start);
      // a prorated credit (negative amount) is the old item's unused time, not a state: the item
      // ended there unless a positive line of the same change gives its new state
      if (prorated && (item.quantity <= 0 || Number(line.amount) < 0)) {
        credited.add(`${start}:${item.id}`);
        continue;
      }
      const same = period.items.findIndex((i) => i.id === item.id);
      if (same >= 0) period.items[same] = item;
      else period.items.push(item);
    }
  }
  const periods = [...byStart.values()].sort((a, b) => a.start - b.start);
  // A period opened by a prorated line (a change mid-period) holds only the changed items: the
  // others carry on from the period it falls in, whose start stays the billing cycle's.
  periods.forEach((p, k) => {
    if (plainStarts.has(p.start)) return;
    const enclosing = periods.slice(0, k).reverse().find((q) => q.start < p.start && p.start < q.end);
    if (!enclosing) return;
    p.cycleStart = enclosing.cycleStart ?? enclosing.start;
    const changed = new Map(p.items.map((i) => [i.id, i]));
    const carried = enclosing.items.filter((i) => changed.has(i.id) || !credited.has(`${p.start}:${i.id}`)).map((i) => changed.get(i.id) ?? i);
    p.items = [...carried, ...p.items.filter((i) => !enclosing.items.some((e) => e.id === i.id))];
  });
  return periods;
}

/** The subscription line's period of an invoice (Stripe's invoice period_start/end is the period before). */
function invoicePeriod(invoice: Obj): [UnixSeconds, UnixSeconds] | null {
  const lines: Obj[] = Array.isArray(invoice.lines?.data) ? invoice.lines.data : [];
  const plain = lines.find((l) => !(l.parent?.subscription_item_details?.proration ?? l.proration) && num(l.period?.start) !== null && num(l.period?.end) !== null);
  if (plain) return [plain.period.start, plain.period.end];
  const start = num(invoice.period_start);
  const end = num(invoice.period_end);
  return start !== null && end !== null ? [start, end] : null;
}

/**
 * The discounts a subscription's invoices record, as discount objects dated by the periods they
 * applied to: `start` the first such period's start (moved back over the zero-amount invoices just
 * before it, a trial the discount already covered), `end` as many months after the start as those
 * periods add up to (a repeating coupon's end is its start plus its duration, so a trial that
 * shifted the periods does not lengthen it), never after the last such period's end. An invoice
 * names the discounts it applied (`discounts`, `total_discount_amounts`; in older API versions a
 * `discount` object with its coupon, start and end, which are then taken as they are). Current
 * versions name neither the coupon nor its terms, and neither do their discount events or the
 * subscriptions' expanded discounts, so a rebuilt discount carries no percentage either: it reads
 * as the events would have. A discount on a period longer than the coupon (a three-month coupon on
 * a yearly invoice) is taken to run to that period's end: the invoice does not say when it ran out.
 */
export function invoicedDiscounts(invoices: readonly Obj[], subscription: { id: string; customer: string }): Obj[] {
  const billed = invoices
    .filter((i) => i.status !== 'void' && i.status !== 'draft')
    .map((invoice) => ({ invoice, period: invoicePeriod(invoice) }))
    .filter((b): b is { invoice: Obj; period: [number, number] } => b.period !== null)
    .sort((a, b) => a.period[0] - b.period[0]);
  const uses = new Map<string, { legacy: Obj | null; periods: [number, number][] }>();
  for (const { invoice, period } of billed) {
    const legacy = invoice.discount && typeof invoice.discount === 'object' ? (invoice.discount as Obj) : null;
    const amounts: Obj[] = Array.isArray(invoice.total_discount_amounts) ? invoice.total_discount_amounts : [];
    const named = new Set<string>();
    for (const d of Array.isArray(invoice.discounts) ? invoice.discounts : []) {
      const id = typeof d === 'string' ? d : d && typeof d === 'object' && typeof d.id === 'string' ? d.id : null;
      if (id) named.add(id);
    }
    for (const a of amounts) if (typeof a?.discount === 'string' || typeof a?.discount?.id === 'string') named.add(typeof a.discount === 'string' ? a.discount : a.discount.id);
    if (legacy && typeof legacy.id === 'string') named.add(legacy.id);
    for (const id of named) {
      const amount = amounts.filter((a) => (typeof a?.discount === 'string' ? a.discount : a?.discount?.id) === id).reduce((sum, a) => sum + (num(a.amount) ?? 0), 0);
      const use = uses.get(id) ?? { legacy: null, periods: [] };
      if (legacy?.id === id) use.legacy = legacy;
      else {
        const expanded = (Array.isArray(invoice.discounts) ? invoice.discounts : []).find((d: unknown) => !!d && typeof d === 'object' && (d as Obj).id === id);
        if (expanded) use.legacy ??= expanded as Obj;
      }
      if (amount <= 0 && !legacy && amounts.length > 0) continue;
      use.periods.push(period);
      uses.set(id, use);
    }
  }
  const out: Obj[] = [];
  for (const [id, use] of uses) {
    let start = use.periods[0]![0];
    // a trial (zero-amount period) just before the first discounted one was already covered
    for (;;) {
      const before = billed.find((b) => b.period[1] === start && (num(b.invoice.subtotal) ?? 0) === 0);
      if (!before || before.period[0] >= start) break;
      start = before.period[0];
    }
    // A repeating coupon ends its duration after it started, which may fall inside the last period
    // it discounted (a trial shifted the periods): it ran as many months as those periods add up to.
    const months = use.periods.reduce((sum, [a, b]) => sum + Math.max(1, Math.round((b - a) / MONTH_SECONDS)), 0);
    const end = Math.min(use.periods.at(-1)![1], addMonths(start, months));
    const recorded = use.legacy;
    const coupon = recorded?.coupon ?? recorded?.source?.coupon ?? null;
    out.push({
      id,
      object: 'discount',
      customer: subscription.customer,
      subscription: subscription.id,
      start: num(recorded?.start) ?? start,
      end: Math.min(num(recorded?.end) ?? Infinity, end),
      // as the API's own discount objects: the coupon expanded where the invoice had it, else its id
      ...(coupon && typeof coupon === 'object' ? { coupon } : { source: { coupon: typeof coupon === 'string' ? coupon : null, type: 'coupon' } }),
      churn_rebuilt_from: 'invoices',
    });
  }
  return out;
}

export interface HistoryPoint {
  at: UnixSeconds;
  type: 'customer.subscription.created' | 'customer.subscription.updated';
  object: Obj;
}

function addMonths(t: UnixSeconds, months: number): UnixSeconds {
  const d = new Date(t * 1000);
  const m = d.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(d.getUTCFullYear(), m + 1, 0)).getUTCDate();
  return Date.UTC(d.getUTCFullYear(), m, Math.min(d.getUTCDate(), lastDay), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()) / 1000;
}

/** The billing period containing `t`, stepping from the anchor by the item's interval. */
export function periodAt(anchor: UnixSeconds, interval: string | null | undefined, count: number | null | undefined, t: UnixSeconds): [UnixSeconds, UnixSeconds] {
  const n = count && count > 0 ? count : 1;
  const step = (k: number): UnixSeconds => {
    switch (interval) {
      case 'day':
        return anchor + k * n * 86_400;
      case 'week':
        return anchor + k * n * 7 * 86_400;
      case 'year':
        return addMonths(anchor, k * n * 12);
      default:
        return addMonths(anchor, k * n);
    }
  };
  if (t < anchor) return [t, anchor];
  // months between, as a first guess, then walk to the exact period
  let k = Math.max(0, Math.floor((t - anchor) / (86_400 * 28 * n * (interval === 'year' ? 12 : 1))) - 1);
  if (interval === 'day' || interval === 'week') k = Math.floor((t - anchor) / (step(1) - anchor));
  while (step(k + 1) <= t) k++;
  while (k > 0 && step(k) > t) k--;
  return [step(k), step(k + 1)];
}

const MONTH_SECONDS = (365.25 / 12) * 86_400;

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * The subscription as it stood at `t`, from `current` (a later state of it) and what it dates:
 * trial, dunning windows, cancellation request, end. Items keep their current prices and quantities.
 */
export function subscriptionAt(current: Obj, t: UnixSeconds, dunning: readonly DunningWindow[], billed: readonly BilledPeriod[] = [], past: readonly Obj[] = []): Obj {
  const endedAt = num(current.ended_at);
  const canceledAt = num(current.canceled_at);
  const trialStart = num(current.trial_start);
  const trialEnd = num(current.trial_end);
  const ended = endedAt !== null && t >= endedAt;
  const requested = canceledAt !== null && t >= canceledAt && (endedAt === null || canceledAt < endedAt || ended);
  let status: string;
  if (ended) status = current.status;
  else if (trialStart !== null && trialEnd !== null && t >= trialStart && t < trialEnd) status = 'trialing';
  else if (dunning.some((d) => d.firstFailedAt <= t && (d.settledAt === null || t < d.settledAt))) status = 'past_due';
  else status = 'active';

  const anchor = num(current.billing_cycle_anchor) ?? num(current.start_date) ?? num(current.created) ?? t;
  const currentItems: Obj[] = Array.isArray(current.items?.data) ? current.items.data : [];
  const inTrial = status === 'trialing' && trialStart !== null && trialEnd !== null;
  // the billed period containing t, else (before the first invoice, after the last) the current items
  const period = [...billed].reverse().find((p) => p.start <= t && t < p.end) ?? null;
  const items: Obj[] = period ? period.items.map((b) => billedItem(b, currentItems)) : currentItems.filter((i) => !(num(i.created)! > t));
  if (items.length === 0 && !period) items.push(...currentItems);
  if (period) {
    // an item (add-on) added mid-period without proration is billed from the next period on, but
    // its own `created` dates when it was added
    const from = period.cycleStart ?? period.start;
    for (const i of currentItems) {
      const created = num(i.created);
      if (created !== null && created > from && created <= t && !items.some((x) => x.id === i.id)) items.push(i);
    }
  }
  const periodOf = (item: Obj): [number, number] => {
    if (inTrial) return [trialStart!, trialEnd!];
    if (period) return [period.cycleStart ?? period.start, period.end];
    const recurring = item.price?.recurring ?? item.plan ?? {};
    return periodAt(anchor, recurring.interval, recurring.interval_count, t);
  };
  const periods = items.map(periodOf);
  // the current discounts by their own start and end, and those that ended (rebuilt from the
  // invoices they applied to) over the periods they applied
  const inForce = (d: Obj) => (num(d.start) ?? Infinity) <= t && (num(d.end) === null || num(d.end)! > t);
  const currentDiscounts = (Array.isArray(current.discounts) ? current.discounts : []).filter((d: unknown): d is Obj => !!d && typeof d === 'object');
  const discounts = [...currentDiscounts, ...past.filter((d) => !currentDiscounts.some((c: Obj) => c.id === d.id))].filter(inForce);
  const out: Obj = {
    ...current,
    status,
    ended_at: ended ? endedAt : null,
    canceled_at: requested ? canceledAt : null,
    cancel_at_period_end: requested ? current.cancel_at_period_end === true || (!ended && current.cancel_at == null) : false,
    cancel_at: requested ? (current.cancel_at ?? null) : null,
    cancellation_details: requested || ended ? current.cancellation_details : { comment: null, feedback: null, reason: null },
    discounts,
    discount: 'discount' in current ? (discounts[0] ?? null) : null,
    latest_invoice: null,
    pause_collection: null,
    items: { ...(current.items ?? {}), data: items.map((item, i) => ({ ...item, current_period_start: periods[i]![0], current_period_end: periods[i]![1] })) },
  };
  if ('current_period_start' in current && periods[0]) {
    out.current_period_start = periods[0][0];
    out.current_period_end = periods[0][1];
  }
  return out;
}

/** An item as a billed line describes it, its price completed from the current item with the same price (interval). */
function billedItem(b: BilledPeriod['items'][number], currentItems: readonly Obj[]): Obj {
  const samePrice = currentItems.find((i) => (i.price?.id ?? i.plan?.id) === b.priceId);
  const sameItem = currentItems.find((i) => i.id === b.id) ?? currentItems[0];
  const template = samePrice ?? sameItem ?? {};
  const price = samePrice?.price ?? {
    ...(template.price ?? {}),
    id: b.priceId,
    product: b.productId ?? template.price?.product ?? null,
    unit_amount: b.unitAmount,
    unit_amount_decimal: b.unitAmount === null ? null : String(b.unitAmount),
  };
  return { ...template, id: b.id, price, quantity: b.quantity };
}

/**
 * The versions a subscription went through before `before`, from its start: one at each moment its
 * state changed (start, trial end, each renewal, each dunning window's start and settlement, the
 * cancellation request). The end itself is in the object's own snapshot, so it is not repeated here.
 */
export function subscriptionHistory(
  current: Obj,
  before: UnixSeconds,
  dunning: readonly DunningWindow[],
  billed: readonly BilledPeriod[] = [],
  past: readonly Obj[] = [],
): HistoryPoint[] {
  const start = num(current.start_date) ?? num(current.created);
  if (start === null) return [];
  const endedAt = num(current.ended_at);
  const limit = Math.min(before, endedAt ?? Infinity);
  const moments = new Set<number>([start]);
  const add = (t: number | null) => {
    if (t !== null && t > start && t < limit) moments.add(t);
  };
  if (num(current.trial_start) !== null) add(num(current.trial_end));
  for (const d of dunning) {
    add(d.firstFailedAt);
    add(d.settledAt);
  }
  add(num(current.canceled_at));
  // every renewal: a new period (and the items billed for it); an add-on added mid-period
  for (const p of billed) add(p.start);
  for (const i of Array.isArray(current.items?.data) ? (current.items.data as Obj[]) : []) add(num(i.created));
  for (const d of [...past, ...(Array.isArray(current.discounts) ? current.discounts : [])]) {
    if (!d || typeof d !== 'object') continue;
    add(num(d.start));
    add(num(d.end));
  }
  const points: HistoryPoint[] = [];
  let previous = '';
  for (const at of [...moments].filter((t) => t < limit).sort((a, b) => a - b)) {
    const object = subscriptionAt(current, at, dunning, billed, past);
    const items = (object.items?.data as Obj[]).map((i) => `${i.id}:${i.price?.id}:${i.quantity}:${i.current_period_start}`).join(',');
    const discounts = (object.discounts as Obj[]).map((d) => d.id).join(',');
    const state = `${object.status}|${object.cancel_at_period_end}|${object.canceled_at}|${items}|${discounts}`;
    if (state === previous) continue;
    previous = state;
    points.push({ at, type: points.length === 0 ? 'customer.subscription.created' : 'customer.subscription.updated', object });
  }
  return points;
}

/** One charge's record of the payment method it was made with. */
export interface PaymentMethodUse {
  at: UnixSeconds;
  paymentMethod: string;
  /** the charge's `payment_method_details` */
  details: Obj | null;
}

/** A payment method the backfill knows from the API (attached now, or in the events). */
export interface KnownPaymentMethod {
  id: string;
  attachedAt: UnixSeconds | null;
}

export interface PaymentMethodPoint {
  at: UnixSeconds;
  type: 'payment_method.attached' | 'payment_method.updated' | 'payment_method.detached';
  object: Obj;
}

/** What a charge's details say about the method (the part card features read), as a payment method's fields. */
function methodFields(details: Obj | null): { type: string | null; card: Obj | null; key: string } {
  const type = typeof details?.type === 'string' ? details.type : null;
  const card = type === 'card' && details?.card && typeof details.card === 'object' ? (details.card as Obj) : null;
  const key = JSON.stringify([type, card?.brand, card?.funding, card?.exp_month, card?.exp_year, card?.last4, card?.wallet?.type ?? null]);
  return { type, card, key };
}

/**
 * When a method's card changed between two charges: at the later charge, except that a card
 * updater delivers a renewed card before the old one expires, so a change that brings a new expiry
 * is dated no later than the old card's last valid moment (and never before the earlier charge).
 */
function changedAt(before: PaymentMethodUse, after: PaymentMethodUse): UnixSeconds {
  const old = methodFields(before.details).card;
  const renewed = methodFields(after.details).card;
  const month = num(old?.exp_month);
  const year = num(old?.exp_year);
  if (!old || !renewed || month === null || year === null || (renewed.exp_month === month && renewed.exp_year === year)) return after.at;
  const oldExpiresAt = Date.UTC(year, month, 1) / 1000; // the start of the month after the expiry month
  return Math.max(before.at + 1, Math.min(after.at, oldExpiresAt - 1));
}

/**
 * A customer's payment methods before `before`, as their charges record them. Stripe lists only
 * the methods attached now; a charge keeps the method it was made with (`payment_method`) and what
 * it was then (`payment_method_details`: type, card brand, funding, expiry, last4, wallet).
 *
 * - A method Stripe no longer lists is attached at its first use, or, when it is the customer's
 *   first method (none known from before that use), at the customer's creation: a subscription's
 *   first charge goes to the method given at sign-up. It is detached when the next method (by
 *   attachment) takes over, and never before its own last use (right after that when none took
 *   over), and before `before`, since a detachment inside the events window has its real event.
 *   Replacing a card is the usual reason a method goes: the old one is detached as the new one
 *   arrives, so the method on file reads as the newest attached one, as it did.
 * - A method's card as charges record it changes (the card updater's new expiry): each change is a
 *   dated `payment_method.updated`, from the first charge that shows it, or, when that charge came
 *   after the old card expired, from the old card's last valid moment (an updater renews a card
 *   before it lapses; the charges do not say exactly when).
 * - A method Stripe still lists keeps its row (the projector writes history only where there is
 *   none); its card as charges recorded it is dated from its attachment on, so reading it at a past
 *   date gives the card then, not the one refreshed since.
 *
 * A method no charge ever used is not known at all.
 */
export function paymentMethodHistory(
  customer: { id: string; created: UnixSeconds | null },
  uses: readonly PaymentMethodUse[],
  known: readonly KnownPaymentMethod[],
  before: UnixSeconds,
): PaymentMethodPoint[] {
  const byMethod = new Map<string, PaymentMethodUse[]>();
  for (const u of [...uses].filter((u) => u.at < before).sort((a, b) => a.at - b.at || (a.paymentMethod < b.paymentMethod ? -1 : 1))) {
    const list = byMethod.get(u.paymentMethod);
    if (list) list.push(u);
    else byMethod.set(u.paymentMethod, [u]);
  }
  const knownAt = new Map(known.map((k) => [k.id, k.attachedAt]));
  const firstKnown = Math.min(...known.map((k) => k.attachedAt ?? Infinity));
  const firstUse = Math.min(...[...byMethod.values()].map((l) => l[0]!.at));
  const attachedAt = new Map<string, number>();
  for (const [id, list] of byMethod) {
    const first = list[0]!.at;
    if (knownAt.has(id)) attachedAt.set(id, Math.min(knownAt.get(id) ?? first, first));
    else if (first === firstUse && !(firstKnown < first) && customer.created !== null && customer.created < first) attachedAt.set(id, customer.created);
    else attachedAt.set(id, first);
  }
  const allAttachments = [...new Set([...attachedAt.values(), ...known.map((k) => k.attachedAt).filter((t): t is number => t !== null)])].sort((a, b) => a - b);
  const points: PaymentMethodPoint[] = [];
  for (const [id, list] of byMethod) {
    const attach = attachedAt.get(id)!;
    const isKnown = knownAt.has(id);
    const object = (u: PaymentMethodUse): Obj => {
      const { type, card } = methodFields(u.details);
      return { id, object: 'payment_method', type, ...(card ? { card: { ...card } } : {}), created: attach, customer: customer.id, livemode: false, churn_rebuilt_from: 'charges' };
    };
    let previous = '';
    list.forEach((u, k) => {
      const { key } = methodFields(u.details);
      if (key === previous) return;
      previous = key;
      const at = k === 0 ? attach : changedAt(list[k - 1]!, u);
      points.push({ at, type: k === 0 && !isKnown ? 'payment_method.attached' : 'payment_method.updated', object: object(u) });
    });
    if (!isKnown) {
      const last = list.at(-1)!;
      const next = allAttachments.find((t) => t > attach);
      const detach = Math.min(before - 1, Math.max(last.at + 1, next ?? last.at + 1));
      if (detach > attach) points.push({ at: detach, type: 'payment_method.detached', object: object(last) });
    }
  }
  return points.sort((a, b) => a.at - b.at || (a.object.id < b.object.id ? -1 : a.object.id > b.object.id ? 1 : 0));
}

function historyEnvelope(id: string, type: string, created: UnixSeconds, object: Obj, account: string | undefined, apiVersion: string | null): StripeEventEnvelope {
  return {
    id,
    object: 'event',
    type,
    created,
    api_version: apiVersion,
    livemode: object.livemode === true,
    ...(account ? { account } : {}),
    data: { object },
    pending_webhooks: 0,
    request: { id: null, idempotency_key: null },
    churn_synthetic: 'history',
  };
}

interface FailedChargeRow {
  charge_id: string;
  customer_id: string;
  created: number;
  amount: number;
  currency: string | null;
  failure_code: string | null;
  decline_code: string | null;
  invoice_id: string | null;
  subscription_id: string | null;
  settled_at: number | null;
  attempt: number;
}

/**
 * Failed charges of these customers before `before`, each with the invoice it was collecting: the
 * charge's own `invoice` where the API version still has it, else the customer's invoice that was
 * open (finalized, not yet settled) at the charge's moment for the same amount. `attempt` counts
 * the failures on that invoice up to this one.
 */
function failedChargesQuery(account: string, customerIds: readonly string[], before: UnixSeconds) {
  return sql`with f as (
      select ch.id as charge_id, ch.customer_id, ch.created, ch.amount, ch.currency, ch.failure_code,
        e.payload->'data'->'object'->'outcome'->>'reason' as decline_code,
        coalesce(ch.invoice_id, (select i.id from invoices i
           where i.account = ch.account and i.customer_id = ch.customer_id and i.finalized_at <= ch.created
             and i.amount_due = ch.amount
             and coalesce(least(i.paid_at, i.voided_at, i.marked_uncollectible_at), ch.created) >= ch.created
           order by i.finalized_at desc, i.id desc limit 1)) as invoice_id
      from charges ch
      left join stripe_events e on e.id = ch.src_event_id
      where ch.account = ${account} and ch.customer_id = any(${pgArray(customerIds)}::text[])
        and ch.status = 'failed' and ch.created < ${before}::bigint
    )
    select f.charge_id, f.customer_id, f.created::float8 as created, f.amount::float8 as amount, f.currency, f.failure_code,
      f.decline_code, f.invoice_id, i.subscription_id,
      least(i.paid_at, i.voided_at, i.marked_uncollectible_at)::float8 as settled_at,
      (row_number() over (partition by f.customer_id, coalesce(f.invoice_id, f.charge_id) order by f.created, f.charge_id))::float8 as attempt
    from f left join invoices i on i.account = ${account} and i.id = f.invoice_id
    order by f.customer_id, f.created`;
}

export interface HistorySummary {
  subscriptions: number;
  versions: number;
  failures: number;
  /** dated payment-method facts rebuilt from the charges */
  paymentMethods: number;
  /** ended discounts rebuilt from the invoices */
  discounts: number;
  stored: number;
}

const HISTORY_ROW = sql.raw(`'${HISTORY_EVENT_PREFIX}'`);

/**
 * Rebuilds the history of one account's subscriptions (ordered by id, after `after`), in batches,
 * from the projections the backfill filled. Idempotent: ids are deterministic, so a rerun stores
 * nothing new for unchanged objects.
 */
export async function rebuildAccountHistory(
  database: Database,
  options: {
    account: string;
    stripeAccount?: string;
    apiVersion: string | null;
    batchSize?: number;
    after?: string | null;
    signal?: AbortSignal;
    onBatch?: (lastSubscriptionId: string, summary: HistorySummary, subscriptionsInBatch: number) => Promise<void> | void;
  },
): Promise<HistorySummary> {
  const { account } = options;
  const summary: HistorySummary = { subscriptions: 0, versions: 0, failures: 0, paymentMethods: 0, discounts: 0, stored: 0 };
  const [{ oldest } = { oldest: null }] = await database.query<{ oldest: number | null }>(
    sql`select min(created)::float8 as oldest from stripe_events where account = ${account} and id not like ${`${SYNTHETIC_EVENT_PREFIX}%`}`,
  );
  const accountCutoff = oldest ?? Number.MAX_SAFE_INTEGER;
  let after = options.after ?? null;
  const batchSize = options.batchSize ?? 500;
  for (;;) {
    if (options.signal?.aborted) return summary;
    const subs = await database.query<{ id: string; customer_id: string; src_event_id: string }>(
      sql`select id, customer_id, src_event_id from subscriptions
          where account = ${account} and (${after}::text is null or id collate "C" > ${after}) order by id collate "C" limit ${batchSize}`,
    );
    if (subs.length === 0) return summary;
    const ids = subs.map((s) => s.id);
    // The base state: the subscription's oldest real event if it has one (closest to the stretch
    // being rebuilt), else its current snapshot.
    const earliestReal = await database.query<{ subscription_id: string; event_id: string; valid_from: number }>(
      sql`select distinct on (subscription_id) subscription_id, event_id, valid_from::float8 as valid_from from subscription_versions
          where account = ${account} and subscription_id = any(${pgArray(ids)}::text[]) and event_id not like ${`${SYNTHETIC_EVENT_PREFIX}%`}
          order by subscription_id, valid_from, rank, event_id`,
    );
    const realOf = new Map(earliestReal.map((r) => [r.subscription_id, r]));
    const baseIds = subs.map((s) => realOf.get(s.id)?.event_id ?? s.src_event_id);
    const payloads = await database.query<{ id: string; object: Obj }>(
      sql`select id, payload->'data'->'object' as object from stripe_events where id = any(${pgArray(baseIds)}::text[])`,
    );
    const objectOf = new Map(payloads.map((p) => [p.id, typeof p.object === 'string' ? (JSON.parse(p.object) as Obj) : p.object]));
    const customerIds = [...new Set(subs.map((s) => s.customer_id))];
    const failures = await database.query<FailedChargeRow>(failedChargesQuery(account, customerIds, accountCutoff));
    const invoiceRows = await database.query<{ subscription_id: string; object: Obj | string }>(
      sql`select i.subscription_id, e.payload->'data'->'object' as object from invoices i join stripe_events e on e.id = i.src_event_id
          where i.account = ${account} and i.customer_id = any(${pgArray(customerIds)}::text[]) and i.subscription_id = any(${pgArray(ids)}::text[])`,
    );
    const invoicesOf = new Map<string, Obj[]>();
    for (const r of invoiceRows) {
      const list = invoicesOf.get(r.subscription_id) ?? [];
      list.push(typeof r.object === 'string' ? (JSON.parse(r.object) as Obj) : r.object);
      invoicesOf.set(r.subscription_id, list);
    }

    // What the backfill knows from the API or real events (rows history itself made do not count,
    // so a rerun makes the same events again, which are then duplicates).
    const [uses, knownMethods, customerRows, knownDiscounts] = await Promise.all([
      database.query<{ customer_id: string; at: number; payment_method: string; details: Obj | string | null }>(
        sql`select ch.customer_id, ch.created::float8 as at, e.payload->'data'->'object'->>'payment_method' as payment_method,
              e.payload->'data'->'object'->'payment_method_details' as details
            from charges ch join stripe_events e on e.id = ch.src_event_id
            where ch.account = ${account} and ch.customer_id = any(${pgArray(customerIds)}::text[]) and ch.created < ${accountCutoff}::bigint
              and e.payload->'data'->'object'->>'payment_method' is not null`,
      ),
      database.query<{ id: string; customer_id: string; attached_at: number | null }>(
        sql`select id, customer_id, coalesce(attached_at, created)::float8 as attached_at from payment_methods
            where account = ${account} and customer_id = any(${pgArray(customerIds)}::text[]) and left(src_event_id, ${HISTORY_EVENT_PREFIX.length}) <> ${HISTORY_ROW}`,
      ),
      database.query<{ id: string; created: number | null }>(
        sql`select id, created::float8 as created from customers where account = ${account} and id = any(${pgArray(customerIds)}::text[])`,
      ),
      database.query<{ id: string }>(
        sql`select id from discounts where account = ${account} and customer_id = any(${pgArray(customerIds)}::text[]) and left(src_event_id, ${HISTORY_EVENT_PREFIX.length}) <> ${HISTORY_ROW}`,
      ),
    ]);
    const usesOf = new Map<string, PaymentMethodUse[]>();
    for (const u of uses) {
      const list = usesOf.get(u.customer_id) ?? [];
      list.push({ at: u.at, paymentMethod: u.payment_method, details: typeof u.details === 'string' ? (JSON.parse(u.details) as Obj) : u.details });
      usesOf.set(u.customer_id, list);
    }
    const knownOf = new Map<string, KnownPaymentMethod[]>();
    for (const m of knownMethods) {
      const list = knownOf.get(m.customer_id) ?? [];
      list.push({ id: m.id, attachedAt: m.attached_at });
      knownOf.set(m.customer_id, list);
    }
    const createdOf = new Map(customerRows.map((c) => [c.id, c.created]));
    const knownDiscountIds = new Set(knownDiscounts.map((d) => d.id));

    const events: StripeEventEnvelope[] = [];
    for (const customerId of customerIds) {
      const points = paymentMethodHistory({ id: customerId, created: createdOf.get(customerId) ?? null }, usesOf.get(customerId) ?? [], knownOf.get(customerId) ?? [], accountCutoff);
      for (const p of points) {
        events.push(historyEnvelope(`${HISTORY_EVENT_PREFIX}${p.object.id}_${p.at}_${objectHash(p.object)}`, p.type, p.at, p.object, options.stripeAccount, options.apiVersion));
      }
      summary.paymentMethods += points.length;
    }
    // A payment intent whose failure left no failed charge (declined before a charge was made):
    // one failure, dated at the intent's creation, the only time it records.
    const chargeless = await database.query<{ id: string; customer_id: string; created: number; amount: number; currency: string | null; failure_code: string | null; decline_code: string | null }>(
      sql`select pi.id, pi.customer_id, pi.created::float8 as created, pi.amount::float8 as amount, pi.currency, pi.failure_code, pi.decline_code
          from payment_intents pi
          where pi.account = ${account} and pi.customer_id = any(${pgArray(customerIds)}::text[]) and pi.created < ${accountCutoff}::bigint
            and (pi.failure_code is not null or pi.decline_code is not null)
            and not exists (select 1 from charges ch where ch.account = pi.account and ch.id = pi.latest_charge_id and ch.status = 'failed')`,
    );
    for (const p of chargeless) {
      const invoice: Obj = {
        id: `in_unknown_${p.id}`, object: 'invoice', customer: p.customer_id, parent: null, status: 'open', amount_due: p.amount, currency: p.currency, attempt_count: 1,
        last_payment_error: { code: p.failure_code ?? 'card_declined', decline_code: p.decline_code, payment_intent: p.id },
      };
      events.push(historyEnvelope(`${HISTORY_EVENT_PREFIX}${p.id}`, 'invoice.payment_failed', p.created, invoice, options.stripeAccount, options.apiVersion));
      summary.failures += 1;
    }
    const dunningOf = new Map<string, Map<string, DunningWindow>>();
    for (const f of failures) {
      if (f.subscription_id) {
        let windows = dunningOf.get(f.subscription_id);
        if (!windows) dunningOf.set(f.subscription_id, (windows = new Map()));
        const key = f.invoice_id ?? f.charge_id;
        const w = windows.get(key);
        if (!w || f.created < w.firstFailedAt) windows.set(key, { firstFailedAt: f.created, settledAt: f.settled_at });
      }
      const invoice: Obj = {
        id: f.invoice_id ?? `in_unknown_${f.charge_id}`,
        object: 'invoice',
        customer: f.customer_id,
        parent: f.subscription_id ? { subscription_details: { subscription: f.subscription_id }, type: 'subscription_details' } : null,
        status: 'open',
        amount_due: f.amount,
        currency: f.currency,
        attempt_count: f.attempt,
        last_payment_error: { code: f.failure_code ?? 'card_declined', decline_code: f.decline_code, charge: f.charge_id },
      };
      events.push(historyEnvelope(`${HISTORY_EVENT_PREFIX}${f.charge_id}`, 'invoice.payment_failed', f.created, invoice, options.stripeAccount, options.apiVersion));
      summary.failures += 1;
    }
    for (const s of subs) {
      const base = objectOf.get(realOf.get(s.id)?.event_id ?? s.src_event_id);
      if (!base) continue;
      const cutoff = Math.min(accountCutoff, realOf.get(s.id)?.valid_from ?? Infinity);
      const past = invoicedDiscounts(invoicesOf.get(s.id) ?? [], { id: s.id, customer: s.customer_id });
      // an ended discount Stripe no longer shows: one dated fact, its removal (it carries its start)
      for (const d of past) {
        if (knownDiscountIds.has(d.id) || d.end === null || d.end >= accountCutoff) continue;
        events.push(historyEnvelope(`${HISTORY_EVENT_PREFIX}${d.id}_${d.end}_${objectHash(d)}`, 'customer.discount.deleted', d.end, d, options.stripeAccount, options.apiVersion));
        summary.discounts += 1;
      }
      const points = subscriptionHistory(base, cutoff, [...(dunningOf.get(s.id)?.values() ?? [])], billedPeriods(invoicesOf.get(s.id) ?? []), past);
      for (const p of points) {
        events.push(historyEnvelope(`${HISTORY_EVENT_PREFIX}${s.id}_${p.at}_${objectHash(p.object)}`, p.type, p.at, p.object, options.stripeAccount, options.apiVersion));
      }
      summary.versions += points.length;
    }
    const r = await ingestEvents(database, events, { source: 'backfill', batchSize: 1000 });
    summary.stored += r.stored;
    summary.subscriptions += subs.length;
    after = subs.at(-1)!.id;
    await options.onBatch?.(after, summary, subs.length);
  }
}
