import { StripeApiError, invalidParam } from './errors.js';
import { integerParam, stringParam, type ParamObject } from './params.js';
import type { StripeObject, TypeIndex } from './store.js';

/** Stripe's list envelope. */
export interface ListPage<T> {
  object: 'list';
  data: T[];
  has_more: boolean;
  url: string;
}

export interface PageRequest {
  limit: number;
  startingAfter?: string;
  endingBefore?: string;
}

export function pageRequest(params: ParamObject): PageRequest {
  const limit = integerParam(params, 'limit') ?? 10;
  if (limit < 1 || limit > 100) {
    throw invalidParam('limit', 'This value must be greater than or equal to 1 and less than or equal to 100.');
  }
  const startingAfter = stringParam(params, 'starting_after') || undefined;
  const endingBefore = stringParam(params, 'ending_before') || undefined;
  if (startingAfter && endingBefore) {
    throw invalidParam('ending_before', 'You may only specify one of these parameters: ending_before, starting_after.');
  }
  return { limit, startingAfter, endingBefore };
}

/** Walking newest → oldest is `down`; `ending_before` walks `up`. `stop` ends the walk early (sorted data). */
export type Direction = 'down' | 'up';
export type Verdict = 'match' | 'skip' | 'stop';
export type ItemFilter<T> = (item: T, direction: Direction) => Verdict;

/**
 * A sequence of slots in creation order (oldest first). A slot may be empty (deleted object).
 * `around(cursor)` gives the nearest slots strictly older and strictly newer than the cursor object.
 */
export interface Sequence<T> {
  /** The first slot that can hold an item (older slots were dropped). */
  readonly first: number;
  readonly length: number;
  at(slot: number): T | undefined;
  around(cursorId: string): { older: number; newer: number } | undefined;
}

function lowerBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Objects of one type, optionally only those under one parent (`customer:cus_…`). */
export function objectSequence(index: TypeIndex | undefined, parentKey?: string): Sequence<StripeObject> {
  if (!index) return { first: 0, length: 0, at: () => undefined, around: () => undefined };
  const positionOf = (id: string): number | undefined => index.records.get(id)?.position;
  const objectAt = (position: number): StripeObject | undefined => {
    const record = index.records.get(index.order[position]!);
    return record && !record.deleted ? record.object : undefined;
  };
  if (parentKey === undefined) {
    return {
      first: 0,
      length: index.order.length,
      at: objectAt,
      around(cursorId) {
        const p = positionOf(cursorId);
        return p === undefined ? undefined : { older: p - 1, newer: p + 1 };
      },
    };
  }
  const positions = index.byParent.get(parentKey) ?? [];
  return {
    first: 0,
    length: positions.length,
    at: (slot) => objectAt(positions[slot]!),
    around(cursorId) {
      const p = positionOf(cursorId);
      if (p === undefined) return undefined;
      const l = lowerBound(positions, p);
      return { older: l - 1, newer: positions[l] === p ? l + 1 : l };
    },
  };
}

/** Positions into a flat array (events), all of it or an ascending subset (one event type). */
export function arraySequence<T extends { id: string }>(
  items: readonly (T | undefined)[],
  positionOf: (id: string) => number | undefined,
  subset?: readonly number[],
  floor = 0,
): Sequence<T> {
  if (!subset) {
    return {
      first: floor,
      length: items.length,
      at: (slot) => items[slot],
      around(cursorId) {
        const p = positionOf(cursorId);
        return p === undefined ? undefined : { older: p - 1, newer: p + 1 };
      },
    };
  }
  return {
    first: lowerBound(subset, floor),
    length: subset.length,
    at: (slot) => items[subset[slot]!],
    around(cursorId) {
      const p = positionOf(cursorId);
      if (p === undefined) return undefined;
      const l = lowerBound(subset, p);
      return { older: l - 1, newer: subset[l] === p ? l + 1 : l };
    },
  };
}

/**
 * One page, newest first, touching only the slots it walks: O(limit) for unfiltered lists, O(scanned)
 * when a filter skips items. `has_more` looks one match further in the walking direction.
 */
export function paginate<T extends { id: string }>(
  sequence: Sequence<T>,
  request: PageRequest,
  url: string,
  filter: ItemFilter<T> = () => 'match',
  cursorKind = 'object',
): ListPage<T> {
  const cursorId = request.startingAfter ?? request.endingBefore;
  let start = sequence.length - 1;
  let direction: Direction = 'down';
  if (cursorId !== undefined) {
    const around = sequence.around(cursorId);
    if (!around) {
      throw new StripeApiError(400, {
        type: 'invalid_request_error',
        code: 'resource_missing',
        message: `No such ${cursorKind}: '${cursorId}'`,
        param: request.startingAfter !== undefined ? 'starting_after' : 'ending_before',
      });
    }
    if (request.startingAfter !== undefined) start = around.older;
    else {
      start = around.newer;
      direction = 'up';
    }
  }
  const step = direction === 'down' ? -1 : 1;
  const data: T[] = [];
  let hasMore = false;
  for (let slot = start; slot >= sequence.first && slot < sequence.length; slot += step) {
    const item = sequence.at(slot);
    if (item === undefined) continue;
    const verdict = filter(item, direction);
    if (verdict === 'stop') break;
    if (verdict === 'skip') continue;
    if (data.length === request.limit) {
      hasMore = true;
      break;
    }
    data.push(item);
  }
  if (direction === 'up') data.reverse();
  return { object: 'list', data, has_more: hasMore, url };
}

/** `created=…` or `created[gt|gte|lt|lte]=…`, as every Stripe list takes it. */
export interface TimeRange {
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
}

export function timeRangeParam(params: ParamObject, name: string): TimeRange | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  const toInt = (text: unknown, param: string): number => {
    if (typeof text !== 'string' || !/^\d+$/.test(text)) throw invalidParam(param, `Invalid integer: ${String(text)}`);
    return Number(text);
  };
  if (typeof value === 'string') {
    const exact = toInt(value, name);
    return { gte: exact, lte: exact };
  }
  if (Array.isArray(value)) throw invalidParam(name, 'Invalid object');
  const range: TimeRange = {};
  for (const [op, text] of Object.entries(value)) {
    if (op !== 'gt' && op !== 'gte' && op !== 'lt' && op !== 'lte') throw invalidParam(`${name}[${op}]`, `Received unknown parameter: ${name}[${op}]`, 'parameter_unknown');
    range[op] = toInt(text, `${name}[${op}]`);
  }
  return range;
}

export function inTimeRange(value: number, range: TimeRange): boolean {
  return (
    (range.gt === undefined || value > range.gt) &&
    (range.gte === undefined || value >= range.gte) &&
    (range.lt === undefined || value < range.lt) &&
    (range.lte === undefined || value <= range.lte)
  );
}

/** Below the range's lower bound: on data sorted by time, walking down can stop there. */
export function belowTimeRange(value: number, range: TimeRange): boolean {
  return (range.gt !== undefined && value <= range.gt) || (range.gte !== undefined && value < range.gte);
}

/** Above the range's upper bound: walking up can stop there. */
export function aboveTimeRange(value: number, range: TimeRange): boolean {
  return (range.lt !== undefined && value >= range.lt) || (range.lte !== undefined && value > range.lte);
}

/** A filter on `created` for objects (not time-sorted in general, so it never stops early). */
export function createdFilter(range: TimeRange | undefined): ((item: StripeObject) => boolean) | undefined {
  if (!range) return undefined;
  return (item) => typeof item.created === 'number' && inTimeRange(item.created, range);
}
