import { invalidParam } from './errors.js';

/**
 * Stripe's v1 API takes form-encoded (POST) or query-string (GET) parameters with bracketed nesting:
 * `discounts[0][coupon]=X`, `metadata[plan]=pro`, `expand[]=data.discounts`, `created[gte]=…`.
 * An empty value (`pause_collection=`) is meaningful: it clears the field.
 */
export type ParamValue = string | ParamObject | ParamValue[];
export interface ParamObject {
  [key: string]: ParamValue;
}

function splitKey(key: string): string[] {
  const open = key.indexOf('[');
  if (open <= 0) return [key];
  const segments = [key.slice(0, open)];
  const pattern = /\[([^\]]*)\]/g;
  let match: RegExpExecArray | null;
  while ((match = pattern.exec(key.slice(open))) !== null) segments.push(match[1]!);
  return segments;
}

type Building = Record<string, unknown>;

function toValue(node: unknown): ParamValue {
  if (typeof node === 'string') return node;
  const object = node as Building;
  const keys = Object.keys(object);
  if (keys.length > 0 && keys.every((k) => /^\d+$/.test(k))) {
    return keys.sort((a, b) => Number(a) - Number(b)).map((k) => toValue(object[k]));
  }
  const out: ParamObject = {};
  for (const k of keys) out[k] = toValue(object[k]);
  return out;
}

export function parseStripeParams(search: URLSearchParams): ParamObject {
  const root: Building = {};
  for (const [rawKey, value] of search) {
    const segments = splitKey(rawKey);
    let node: Building = root;
    for (let i = 0; i < segments.length; i++) {
      let segment = segments[i]!;
      const last = i === segments.length - 1;
      if (segment === '') segment = String(Object.keys(node).length);
      if (last) {
        node[segment] = value;
      } else {
        const next = node[segment];
        if (typeof next === 'object' && next !== null) node = next as Building;
        else {
          const created: Building = {};
          node[segment] = created;
          node = created;
        }
      }
    }
  }
  return toValue(root) as ParamObject;
}

/** A canonical text form of the parameters, for comparing idempotent requests. */
export function canonicalParams(params: ParamValue): string {
  if (typeof params === 'string') return JSON.stringify(params);
  if (Array.isArray(params)) return `[${params.map(canonicalParams).join(',')}]`;
  return `{${Object.keys(params)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalParams(params[k]!)}`)
    .join(',')}}`;
}

export function stringParam(params: ParamObject, name: string): string | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalidParam(name, `Invalid string: ${name} must be a string.`);
  return value;
}

export function integerParam(params: ParamObject, name: string): number | undefined {
  const value = stringParam(params, name);
  if (value === undefined || value === '') return undefined;
  if (!/^-?\d+$/.test(value)) throw invalidParam(name, `Invalid integer: ${value}`);
  return Number(value);
}

export function numberParam(params: ParamObject, name: string): number | undefined {
  const value = stringParam(params, name);
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw invalidParam(name, `Invalid decimal: ${value}`);
  return n;
}

export function booleanParam(params: ParamObject, name: string): boolean | undefined {
  const value = stringParam(params, name);
  if (value === undefined) return undefined;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw invalidParam(name, `Invalid boolean: ${value}`);
}

export function objectParam(params: ParamObject, name: string): ParamObject | '' | undefined {
  const value = params[name];
  if (value === undefined || value === '') return value;
  if (typeof value === 'string' || Array.isArray(value)) throw invalidParam(name, `Invalid object`);
  return value;
}

/** `expand[]=a&expand[]=b` or `expand[0]=a`; always a list of dotted paths. */
export function expandParam(params: ParamObject): string[] {
  const value = params.expand;
  if (value === undefined) return [];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  throw invalidParam('expand', 'Invalid array');
}

/** Metadata updates: `metadata=` clears all keys, `metadata[k]=` removes one key, other values set it. */
export function applyMetadata(current: Record<string, string>, update: ParamValue): Record<string, string> {
  if (update === '') return {};
  if (typeof update === 'string' || Array.isArray(update)) throw invalidParam('metadata', 'Invalid object');
  const next: Record<string, string> = { ...current };
  for (const [key, value] of Object.entries(update)) {
    if (typeof value !== 'string') throw invalidParam(`metadata[${key}]`, 'Metadata values must be strings');
    if (value === '') delete next[key];
    else next[key] = value;
  }
  return next;
}

/** Rejects parameters the endpoint does not take, as Stripe does (`parameter_unknown`). */
export function assertKnownParams(params: ParamObject, allowed: readonly string[]): void {
  for (const key of Object.keys(params)) {
    if (!allowed.includes(key)) {
      throw invalidParam(key, `Received unknown parameter: ${key}`, 'parameter_unknown');
    }
  }
}
