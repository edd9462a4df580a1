import { completeStripeObject } from './complete-shapes.js';
import { invalidParam } from './errors.js';
import type { SandboxStore } from './store.js';

/** Fields that hold an id Stripe can expand, and the object type the id names. */
const EXPANDABLE: Record<string, string> = {
  customer: 'customer',
  subscription: 'subscription',
  latest_invoice: 'invoice',
  invoice: 'invoice',
  default_payment_method: 'payment_method',
  payment_method: 'payment_method',
  discounts: 'discount',
  coupon: 'coupon',
  product: 'product',
  price: 'price',
  charge: 'charge',
};

type Json = unknown;

function expandValue(store: SandboxStore, account: string | undefined, type: string, value: Json): Json {
  if (typeof value === 'string') return completeStripeObject(store.getObject(account, type, value)) ?? value;
  return value;
}

function expandPath(store: SandboxStore, account: string | undefined, node: Json, segments: string[], fullPath: string): Json {
  if (node === null || typeof node !== 'object') return node;
  if (Array.isArray(node)) return node.map((item) => expandPath(store, account, item, segments, fullPath));
  const [field, ...rest] = segments;
  const object = node as Record<string, Json>;
  if (field === undefined || !(field in object)) return node;
  let value = object[field];
  if (rest.length === 0 || typeof value === 'string' || (Array.isArray(value) && value.some((v) => typeof v === 'string'))) {
    const type = EXPANDABLE[field];
    if (!type && (typeof value === 'string' || Array.isArray(value))) {
      throw invalidParam('expand', `This property cannot be expanded (${fullPath}).`);
    }
    if (type) value = Array.isArray(value) ? value.map((v) => expandValue(store, account, type, v)) : expandValue(store, account, type, value);
  }
  if (rest.length > 0) value = expandPath(store, account, value, rest, fullPath);
  return { ...object, [field]: value };
}

/**
 * The object as the API answers with it: Stripe's full shape (see complete-shapes.ts) with `expand[]`
 * paths applied; list endpoints pass the paths with their `data.` prefix removed.
 */
export function expandObject<T>(store: SandboxStore, account: string | undefined, object: T, paths: readonly string[]): T {
  let out: Json = completeStripeObject(object);
  for (const path of paths) {
    const segments = path.split('.');
    if (segments.length > 4) throw invalidParam('expand', `You cannot expand more than 4 levels of a property. Property: ${path}`);
    out = expandPath(store, account, out, segments, path);
  }
  return out as T;
}

/** For list responses: `data.discounts` → `discounts`; other paths are not allowed on lists. */
export function listExpandPaths(paths: readonly string[]): string[] {
  return paths.map((path) => {
    if (!path.startsWith('data.')) throw invalidParam('expand', `This property cannot be expanded (${path}). You may want to try expanding 'data.${path}' instead.`);
    return path.slice('data.'.length);
  });
}
