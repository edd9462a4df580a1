import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { stripeEvents } from '../../db/schema/index.js';
import { isProjectedType } from '../projections/apply.js';
import { pgArray } from '../../db/bulk.js';
import { eventAccount, type StripeEventEnvelope } from './parse.js';
import type { Database } from '../../db/client.js';

export type EventSource = 'webhook' | 'ingest' | 'backfill' | 'reconcile';

export interface StoreResult {
  /** ids newly stored by this call */
  inserted: string[];
  /** ids that were already stored (a duplicate delivery is a no-op) */
  duplicates: string[];
}

/** Inngest event name for a Stripe event. */
export function outboxTopic(type: string): string {
  return `stripe/${type}`;
}

/**
 * Stores events and their outbox rows in the caller's transaction. A duplicate id inserts
 * nothing (ON CONFLICT DO NOTHING), so two deliveries racing each other store one row and one
 * outbox entry whichever commits first.
 */
export async function storeEvents(
  tx: DbOrTx,
  events: StripeEventEnvelope[],
  source: EventSource,
  options: { projectedInThisTransaction?: boolean } = {},
): Promise<StoreResult> {
  if (events.length === 0) return { inserted: [], duplicates: [] };
  const unique = new Map<string, StripeEventEnvelope>();
  for (const e of events) if (!unique.has(e.id)) unique.set(e.id, e);
  const list = [...unique.values()];
  // One set-based statement (unnest of column arrays): event rows and outbox rows together,
  // a handful of parameters however large the batch. History rebuilt by backfill (evt_sync_h_…)
  // describes the past: it is stored and projected but not relayed, so it triggers no workflow.
  // A caller that projects the new rows in this same transaction has them stored as processed:
  // marking them afterwards rewrote every row (and its index entries) a second time.
  const processed = options.projectedInThisTransaction === true;
  const result = await tx.execute(sql`
    with e as (
      insert into stripe_events (id, account, type, created, api_version, livemode, object_id, payload, source, unhandled, processed_at)
      select id, account, type, created, api_version, livemode, object_id, payload, ${source}, unhandled, case when ${processed}::boolean then now() end
        from unnest(${pgArray(list.map((e) => e.id))}::text[], ${pgArray(list.map((e) => eventAccount(e)))}::text[],
                    ${pgArray(list.map((e) => e.type))}::text[], ${pgArray(list.map((e) => e.created))}::bigint[],
                    ${pgArray(list.map((e) => e.api_version ?? null))}::text[], ${pgArray(list.map((e) => e.livemode === true))}::boolean[],
                    ${pgArray(list.map((e) => (typeof e.data.object.id === 'string' ? e.data.object.id : null)))}::text[],
                    ${pgArray(list.map((e) => JSON.stringify(e)))}::jsonb[], ${pgArray(list.map((e) => !isProjectedType(e.type)))}::boolean[])
             as t(id, account, type, created, api_version, livemode, object_id, payload, unhandled)
      on conflict (id) do nothing
      returning id, account, type, created
    ), o as (
      insert into outbox (event_id, topic, payload)
      select id, 'stripe/' || type, jsonb_build_object('id', id, 'account', account, 'type', type, 'created', created) from e
       where id not like 'evt\\_sync\\_h\\_%'
      on conflict do nothing
    )
    select id from e`);
  const rows = Array.isArray(result) ? (result as { id: string }[]) : ((result as { rows?: { id: string }[] }).rows ?? []);
  const inserted = new Set(rows.map((r) => r.id));
  const ids = [...unique.keys()];
  return { inserted: ids.filter((id) => inserted.has(id)), duplicates: ids.filter((id) => !inserted.has(id)) };
}

export async function countStoredEvents(tx: DbOrTx): Promise<number> {
  const r = await tx.select({ n: sql<number>`count(*)::int` }).from(stripeEvents);
  return r[0]?.n ?? 0;
}

const INSERT_WEBHOOK_EVENT = `
  with e as (
    insert into stripe_events (id, account, type, created, api_version, livemode, object_id, payload, source, unhandled)
    values ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, 'webhook', $9)
    on conflict (id) do nothing
    returning id, account, type, created
  )
  insert into outbox (event_id, topic, payload)
  select id, 'stripe/' || type, jsonb_build_object('id', id, 'account', account, 'type', type, 'created', created) from e
  on conflict do nothing
  returning event_id`;

/**
 * The webhook hot path: event and outbox row in ONE prepared statement (a data-modifying CTE
 * is atomic, so this is one transaction in one round trip). Returns false for a duplicate id.
 * `rawJson` is the verified body, stored as received.
 */
export async function storeWebhookEvent(database: Database, event: StripeEventEnvelope, rawJson: string): Promise<boolean> {
  const rows = await database.prepared(INSERT_WEBHOOK_EVENT, [
    event.id,
    eventAccount(event),
    event.type,
    event.created,
    event.api_version ?? null,
    event.livemode === true,
    typeof event.data.object.id === 'string' ? event.data.object.id : null,
    rawJson,
    !isProjectedType(event.type),
  ]);
  return rows.length === 1;
}
