import { Hono } from 'hono';
import type Stripe from 'stripe';
import { completeEvent } from '../complete-shapes.js';
import { type SandboxEnv } from '../context.js';
import { invalidParam, resourceMissing } from '../errors.js';
import { aboveTimeRange, arraySequence, belowTimeRange, inTimeRange, pageRequest, paginate, timeRangeParam, type ItemFilter } from '../list.js';
import { stringParam, type ParamObject } from '../params.js';

/** `customer.*` and `customer.subscription.*` style wildcards, as Stripe's `type` filter takes them. */
function typeMatcher(pattern: string): (type: string) => boolean {
  if (!pattern.includes('*')) return (type) => type === pattern;
  const regex = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return (type) => regex.test(type);
}

function typesParam(params: ParamObject): string[] | undefined {
  const value = params.types;
  if (value === undefined) return undefined;
  const list = typeof value === 'string' ? [value] : Array.isArray(value) ? value : null;
  if (!list || list.some((v) => typeof v !== 'string')) throw invalidParam('types', 'Invalid array');
  if (list.length > 20) throw invalidParam('types', 'You may pass at most 20 event types.');
  return list as string[];
}

/** /v1/events: list, newest first (`type`, `types[]`, `created[gt|gte|lt|lte]`), retrieve. */
export function eventRoutes(): Hono<SandboxEnv> {
  const app = new Hono<SandboxEnv>();

  app.get('/events', (c) => {
    const { store, account, params } = c.var;
    const type = stringParam(params, 'type');
    const types = typesParam(params);
    if (type !== undefined && types !== undefined) throw invalidParam('types', 'You may only specify one of these parameters: type, types.');
    const created = timeRangeParam(params, 'created');
    const index = store.eventIndex(account);
    const list = index?.list ?? [];
    const positionOf = (id: string) => index?.positions.get(id);
    const exactType = type !== undefined && !type.includes('*');
    const sequence = arraySequence(list, positionOf, exactType ? (index?.byType.get(type) ?? []) : undefined, index?.floor ?? 0);
    const matchers = (types ?? (type !== undefined && !exactType ? [type] : [])).map(typeMatcher);
    const sorted = index?.sortedByCreated ?? true;
    const filter: ItemFilter<Stripe.Event> = (event, direction) => {
      if (created) {
        if (sorted && direction === 'down' && belowTimeRange(event.created, created)) return 'stop';
        if (sorted && direction === 'up' && aboveTimeRange(event.created, created)) return 'stop';
        if (!inTimeRange(event.created, created)) return 'skip';
      }
      if (matchers.length > 0 && !matchers.some((m) => m(event.type))) return 'skip';
      return 'match';
    };
    const page = paginate(sequence, pageRequest(params), '/v1/events', filter, 'event');
    return c.json({ ...page, data: page.data.map(completeEvent) });
  });

  app.get('/events/:id', (c) => {
    const { store, account } = c.var;
    const id = c.req.param('id');
    const index = store.eventIndex(account);
    const position = index?.positions.get(id);
    if (position === undefined) throw resourceMissing('event', id);
    return c.json(completeEvent(index!.list[position]!));
  });

  return app;
}
