import type { Context } from 'hono';
import type Stripe from 'stripe';
import type { ParamObject } from './params.js';
import type { SandboxStore, StripeObject } from './store.js';
import { resourceMissing } from './errors.js';
import type { ItemFilter } from './list.js';

/** What every route handler gets through Hono's context, set by the shared middleware. */
export interface SandboxVariables {
  store: SandboxStore;
  requestId: string;
  /** `acct_…` from `Stripe-Account`, or undefined for the platform account. */
  account: string | undefined;
  apiKey: string;
  idempotencyKey: string | null;
  /** Query (GET/DELETE) or form body (POST) parameters, bracket-nesting decoded. */
  params: ParamObject;
}

export interface SandboxEnv {
  Variables: SandboxVariables;
}

export type SandboxContext = Context<SandboxEnv>;

/** Emits an event for a mutation made by this request, with `request.id` and `request.idempotency_key` set. */
export function emitForRequest(c: SandboxContext, type: string, object: unknown, previousAttributes?: unknown): Stripe.Event {
  return c.var.store.emit(c.var.account, type, object, previousAttributes, {
    id: c.var.requestId,
    idempotency_key: c.var.idempotencyKey,
  });
}

/** The object, or Stripe's 404 `resource_missing` naming the kind (`No such customer: 'cus_…'`). */
export function requireObject(c: SandboxContext, objectType: string, id: string, kind = objectType): StripeObject {
  const object = c.var.store.getObject<StripeObject>(c.var.account, objectType, id);
  if (!object || c.var.store.isDeleted(c.var.account, objectType, id)) throw resourceMissing(kind, id);
  return object;
}

/** Combines optional predicates into one list filter. */
export function allOf<T>(...predicates: (((item: T) => boolean) | undefined)[]): ItemFilter<T> {
  const active = predicates.filter((p): p is (item: T) => boolean => p !== undefined);
  return (item) => (active.every((p) => p(item)) ? 'match' : 'skip');
}
