import type Stripe from 'stripe';
import { newId } from '../../lib/ids.js';
import { systemNow, type UnixSeconds } from '../../lib/clock.js';

/** Any Stripe API object as stored: `id` and `object` always present, the rest is the object's own shape. */
export interface StripeObject {
  id: string;
  object: string;
  [field: string]: unknown;
}

/** The platform account has no `acct_` id; Stripe leaves `account` off its events. */
export const PLATFORM = 'platform';

export const PINNED_API_VERSION = '2026-10-28.endive';

/** Fields that keep a secondary index so filtered lists walk only the matching objects. */
type ParentField = 'customer' | 'subscription';

interface StoredRecord {
  object: StripeObject;
  /** Position in the type's creation order; lists page by it. */
  position: number;
  deleted: boolean;
}

/** One object type inside one account: creation order plus id and parent lookups, all O(1) to append. */
export interface TypeIndex {
  readonly order: string[];
  readonly records: Map<string, StoredRecord>;
  /** `customer:cus_…` or `subscription:sub_…` → positions in `order`, ascending. */
  readonly byParent: Map<string, number[]>;
}

export interface AccountEvents {
  /** Events in recording order; entries before `floor` were dropped by the retention window. */
  readonly list: (Stripe.Event | undefined)[];
  floor: number;
  readonly positions: Map<string, number>;
  readonly byType: Map<string, number[]>;
  /** True while every event so far was recorded with `created` not before its predecessor. */
  sortedByCreated: boolean;
}

interface AccountState {
  readonly types: Map<string, TypeIndex>;
  readonly events: AccountEvents;
}

export interface EventRequestInfo {
  id: string | null;
  idempotency_key: string | null;
}

export type EventListener = (event: Stripe.Event) => void;

/** Event types whose object is gone afterwards (retrieve says `deleted: true`, lists skip it). */
const DELETING_EVENTS = new Set(['customer.deleted', 'coupon.deleted', 'product.deleted', 'price.deleted', 'customer.discount.deleted', 'invoice.deleted']);

/** The subscription an object belongs to, wherever the API version puts it. */
function subscriptionOf(object: StripeObject): string | null {
  if (typeof object.subscription === 'string') return object.subscription;
  const parent = object.parent as { subscription_details?: { subscription?: unknown } | null } | null | undefined;
  const fromParent = parent?.subscription_details?.subscription;
  return typeof fromParent === 'string' ? fromParent : null;
}

function parentValue(object: StripeObject, field: ParentField): string | null {
  if (field === 'subscription') return subscriptionOf(object);
  const value = object.customer;
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { id?: unknown }).id === 'string') return (value as { id: string }).id;
  return null;
}

/**
 * The sandbox's in-memory Stripe account(s). Every object is keyed by (account, object type, id) and
 * always holds its latest state; every event is kept per account in the order it was recorded.
 * The clock is simulated: the world advances it, nothing here reads the wall clock after construction.
 */
export class SandboxStore {
  private clock: UnixSeconds;
  readonly apiVersion: string;
  private readonly state = new Map<string, AccountState>();
  private readonly listeners = new Set<EventListener>();
  private readonly eventRetentionSeconds: number | null;

  /**
   * `eventRetentionDays`: keep events only this long (Stripe lists the last 30 days); unset = keep all.
   * Objects are always kept.
   */
  constructor(options: { now?: number; apiVersion?: string; eventRetentionDays?: number } = {}) {
    this.clock = options.now ?? systemNow();
    this.apiVersion = options.apiVersion ?? PINNED_API_VERSION;
    this.eventRetentionSeconds = options.eventRetentionDays ? options.eventRetentionDays * 86_400 : null;
    this.account(undefined);
  }

  now(): UnixSeconds {
    return this.clock;
  }

  setNow(unix: UnixSeconds): void {
    if (!Number.isInteger(unix)) throw new Error(`setNow needs whole unix seconds, got ${unix}`);
    this.clock = unix;
  }

  /** Called for every event recorded (applied or emitted), after the store reflects it. */
  onEvent(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Makes an account known so `Stripe-Account: acct_…` is accepted before it has any objects. */
  registerAccount(account: string): void {
    this.account(account);
  }

  accounts(): string[] {
    return [...this.state.keys()];
  }

  hasAccount(account: string | undefined): boolean {
    return this.state.has(account ?? PLATFORM);
  }

  /** Records an event produced elsewhere (the world) and makes its object the latest state. */
  applyEvent(event: Stripe.Event): void {
    const account = (event as { account?: string }).account;
    const state = this.account(account);
    const object = event.data.object as unknown as StripeObject;
    if (object && typeof object.id === 'string' && typeof object.object === 'string') {
      this.put(state, object, DELETING_EVENTS.has(event.type) || object.deleted === true);
    }
    const events = state.events;
    const last = events.list.length > events.floor ? events.list[events.list.length - 1] : undefined;
    if (last && event.created < last.created) events.sortedByCreated = false;
    const position = events.list.length;
    events.list.push(event);
    events.positions.set(event.id, position);
    let ofType = events.byType.get(event.type);
    if (!ofType) events.byType.set(event.type, (ofType = []));
    ofType.push(position);
    if (this.eventRetentionSeconds !== null) this.dropExpiredEvents(events);
    for (const listener of this.listeners) listener(event);
  }

  /** Creates a new event at the store's `now()`, applies it and hands it to the listeners (webhooks). */
  emit(
    account: string | undefined,
    type: string,
    object: any,
    previousAttributes?: any,
    request: EventRequestInfo = { id: null, idempotency_key: null },
  ): Stripe.Event {
    const event = this.buildEvent(account, type, object, previousAttributes, request, this.clock);
    this.applyEvent(event);
    return event;
  }

  /** An event object as Stripe shapes it, not yet recorded (for callers that order events before applying). */
  buildEvent(
    account: string | undefined,
    type: string,
    object: unknown,
    previousAttributes: unknown,
    request: EventRequestInfo,
    created: UnixSeconds,
  ): Stripe.Event {
    const data: { object: unknown; previous_attributes?: unknown } = { object };
    if (previousAttributes !== undefined) data.previous_attributes = previousAttributes;
    const event: Record<string, unknown> = {
      id: newId('evt', 24),
      object: 'event',
      api_version: this.apiVersion,
      created,
      data,
      livemode: false,
      pending_webhooks: 1,
      request,
      type,
    };
    if (account !== undefined && account !== PLATFORM) event.account = account;
    return event as unknown as Stripe.Event;
  }

  /** Stores an object's new state without an event (objects the API creates silently, e.g. seed data). */
  putObject(account: string | undefined, object: StripeObject): void {
    this.put(this.account(account), object, false);
  }

  getObject<T = any>(account: string | undefined, objectType: string, id: string): T | undefined {
    const record = this.state.get(account ?? PLATFORM)?.types.get(objectType)?.records.get(id);
    return record ? (record.object as T) : undefined;
  }

  /** Whether the object existed and was deleted (Stripe retrieve answers `{id, object, deleted: true}`). */
  isDeleted(account: string | undefined, objectType: string, id: string): boolean {
    return this.state.get(account ?? PLATFORM)?.types.get(objectType)?.records.get(id)?.deleted ?? false;
  }

  /** Every live object of one type, in creation order. */
  listObjects<T = any>(account: string | undefined, objectType: string): T[] {
    const index = this.state.get(account ?? PLATFORM)?.types.get(objectType);
    if (!index) return [];
    const out: T[] = [];
    for (const id of index.order) {
      const record = index.records.get(id)!;
      if (!record.deleted) out.push(record.object as T);
    }
    return out;
  }

  listEvents(account: string | undefined): Stripe.Event[] {
    const events = this.state.get(account ?? PLATFORM)?.events;
    return events ? events.list.slice(events.floor).filter((e): e is Stripe.Event => e !== undefined) : [];
  }

  /** The raw indexes, for the paginated list endpoints (O(page), never a copy of everything). */
  typeIndex(account: string | undefined, objectType: string): TypeIndex | undefined {
    return this.state.get(account ?? PLATFORM)?.types.get(objectType);
  }

  eventIndex(account: string | undefined): AccountEvents | undefined {
    return this.state.get(account ?? PLATFORM)?.events;
  }

  private dropExpiredEvents(events: AccountEvents): void {
    const cutoff = this.clock - this.eventRetentionSeconds!;
    while (events.floor < events.list.length) {
      const oldest = events.list[events.floor]!;
      if (oldest.created >= cutoff) break;
      events.positions.delete(oldest.id);
      events.list[events.floor] = undefined;
      events.floor++;
    }
  }

  private account(account: string | undefined): AccountState {
    const key = account ?? PLATFORM;
    let state = this.state.get(key);
    if (!state) {
      state = {
        types: new Map(),
        events: { list: [], floor: 0, positions: new Map(), byType: new Map(), sortedByCreated: true },
      };
      this.state.set(key, state);
    }
    return state;
  }

  private put(state: AccountState, object: StripeObject, deleted: boolean): void {
    let index = state.types.get(object.object);
    if (!index) {
      index = { order: [], records: new Map(), byParent: new Map() };
      state.types.set(object.object, index);
    }
    const existing = index.records.get(object.id);
    if (existing) {
      const before = { customer: parentValue(existing.object, 'customer'), subscription: parentValue(existing.object, 'subscription') };
      // A deletion event often carries a trimmed object; keep the last full state for retrieves of related data.
      existing.object = deleted && Object.keys(object).length <= 3 ? existing.object : object;
      existing.deleted = deleted;
      for (const field of ['customer', 'subscription'] as const) {
        const after = parentValue(existing.object, field);
        if (after && after !== before[field]) this.indexParent(index, field, after, existing.position);
      }
      return;
    }
    const position = index.order.length;
    index.order.push(object.id);
    index.records.set(object.id, { object, position, deleted });
    for (const field of ['customer', 'subscription'] as const) {
      const value = parentValue(object, field);
      if (value) this.indexParent(index, field, value, position);
    }
  }

  private indexParent(index: TypeIndex, field: ParentField, value: string, position: number): void {
    const key = `${field}:${value}`;
    let positions = index.byParent.get(key);
    if (!positions) index.byParent.set(key, (positions = []));
    // Re-parenting appends an older position; keep the list ascending so pagination can binary-search it.
    if (positions.length === 0 || positions[positions.length - 1]! < position) positions.push(position);
    else if (!positions.includes(position)) {
      positions.push(position);
      positions.sort((a, b) => a - b);
    }
  }
}
