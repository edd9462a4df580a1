import { sql } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { bulkInsert, excludedAssignments, pgArray } from '../../db/bulk.js';
import type { DbOrTx } from '../../db/client.js';
import {
  charges,
  creditNotes,
  customers,
  discounts,
  disputes,
  invoices,
  paymentFailures,
  paymentIntents,
  paymentMethods,
  refunds,
  subscriptionItems,
  subscriptionSchedules,
  subscriptionVersions,
  subscriptions,
} from '../../db/schema/index.js';
import { eventAccount, type StripeEventEnvelope } from '../events/parse.js';
import { SYNTHETIC_EVENT_PREFIX } from '../sync/synthetic.js';
import {
  invoiceFailureCode,
  normalizeCharge,
  normalizeCreditNote,
  normalizeCustomer,
  normalizeDiscount,
  normalizeDispute,
  normalizeInvoice,
  normalizePaymentIntent,
  normalizePaymentMethod,
  normalizeRefund,
  normalizeSubscription,
  normalizeSubscriptionSchedule,
  type NormalizedSubscription,
} from './normalize.js';
import {
  chargeRank,
  compareVersions,
  customerRank,
  discountRank,
  disputeRank,
  invoiceRank,
  orderRank,
  paymentMethodRank,
  subscriptionRank,
  type VersionKey,
} from './ordering.js';

const SUBSCRIPTION_TYPES = /^customer\.subscription\./;
/** Ids of rebuilt-history events (sync/history.ts). */
const HISTORY_PREFIX = `${SYNTHETIC_EVENT_PREFIX}h_`;
const PROJECTED = [
  /^customer\.(created|updated|deleted)$/,
  SUBSCRIPTION_TYPES,
  /^customer\.discount\.(created|updated|deleted)$/,
  /^invoice\.(created|finalized|updated|paid|payment_succeeded|payment_failed|payment_action_required|voided|marked_uncollectible|finalization_failed|overdue|sent|deleted)$/,
  /^payment_method\.(attached|detached|updated|automatically_updated)$/,
  /^charge\.(succeeded|failed|refunded|updated|captured|pending|expired)$/,
  /^charge\.refund\.updated$/,
  /^refund\.(created|updated|failed)$/,
  /^charge\.dispute\.(created|updated|closed|funds_withdrawn|funds_reinstated)$/,
  /^payment_intent\.(created|succeeded|payment_failed|processing|requires_action|canceled|amount_capturable_updated|partially_funded)$/,
  /^credit_note\.(created|updated|voided)$/,
  /^subscription_schedule\.(created|updated|released|canceled|completed|aborted|expiring)$/,
];

/**
 * Lifecycle ranks of the objects that need one beyond (created, id): a terminal state wins over an
 * update in the same second. Payment intents: a settled intent over an attempt in flight.
 */
function terminalRank(type: string, status: unknown): number {
  if (type.startsWith('credit_note.')) return type === 'credit_note.voided' || status === 'void' ? 2 : type === 'credit_note.created' ? 0 : 1;
  if (type.startsWith('subscription_schedule.')) return ['released', 'canceled', 'completed'].includes(String(status)) ? 2 : type === 'subscription_schedule.created' ? 0 : 1;
  return status === 'succeeded' || status === 'canceled' ? 2 : type === 'payment_intent.created' ? 0 : 1;
}

/** Event types the projector understands; others are stored and marked unhandled. */
export function isProjectedType(type: string): boolean {
  return PROJECTED.some((re) => re.test(type));
}

type Obj = Record<string, any>;

interface Versioned<T> extends VersionKey {
  account: string;
  row: T;
  type: string;
}

/** Keeps the newest snapshot per (account, id) of one batch; the database guard does the rest. */
function newestPerKey<T extends { id: string }>(items: Versioned<T>[]): Versioned<T>[] {
  const best = new Map<string, Versioned<T>>();
  for (const item of items) {
    const key = `${item.account}\u0000${item.row.id}`;
    const cur = best.get(key);
    if (!cur || compareVersions(item, cur) > 0) best.set(key, item);
  }
  return [...best.values()];
}

/** The row-comparison guard of ordering.ts, in SQL, with byte-order ids like compareVersions. */
function newerThanStored(tableName: string): string {
  return `(excluded.src_created, excluded.src_rank, excluded.src_event_id collate "C") > ("${tableName}".src_created, "${tableName}".src_rank, "${tableName}".src_event_id collate "C")`;
}

/** Upsert clause: every non-key column from the new row, only when the new snapshot is newer. */
function upsertNewer(table: PgTable, name: string, overrides: Record<string, string> = {}, extraGuard = ''): string {
  return `on conflict (account, id) do update set ${excludedAssignments(table, ['account', 'id'], overrides)} where ${extraGuard}${newerThanStored(name)}`;
}



const CHUNK = 1000;
function chunks<T>(xs: T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

function versionColumns(v: VersionKey) {
  return { srcCreated: v.created, srcRank: v.rank, srcEventId: v.eventId };
}

/**
 * Applies a batch of stored events to the projections, idempotently and order-safely
 * (ordering.ts). Events of types it does not project are ignored.
 */
export async function projectEvents(tx: DbOrTx, events: StripeEventEnvelope[]): Promise<void> {
  const custs: Versioned<ReturnType<typeof normalizeCustomer> & { deleted: boolean }>[] = [];
  const subs: Versioned<NormalizedSubscription & { deleted: boolean }>[] = [];
  const invs: Versioned<ReturnType<typeof normalizeInvoice>>[] = [];
  const pms: Versioned<ReturnType<typeof normalizePaymentMethod> & { detached: boolean; attached: boolean }>[] = [];
  const chs: Versioned<ReturnType<typeof normalizeCharge>>[] = [];
  const rfs: Versioned<ReturnType<typeof normalizeRefund>>[] = [];
  const dps: Versioned<ReturnType<typeof normalizeDispute>>[] = [];
  const dcs: Versioned<ReturnType<typeof normalizeDiscount> & { deleted: boolean }>[] = [];
  const pis: Versioned<ReturnType<typeof normalizePaymentIntent>>[] = [];
  const cns: Versioned<ReturnType<typeof normalizeCreditNote>>[] = [];
  const schedules: Versioned<ReturnType<typeof normalizeSubscriptionSchedule>>[] = [];
  const failures: (typeof paymentFailures.$inferInsert)[] = [];
  // Rebuilt history (backfill, `churn_synthetic: 'history'`): dated states of the past that go to
  // the history tables only, never to the current rows.
  const subHistory: Versioned<NormalizedSubscription & { deleted: boolean }>[] = [];
  // Payment methods and discounts Stripe no longer lists (detached, ended), rebuilt from charges and
  // invoices: they fill rows nothing else knows, never one a real event or a fetched object wrote.
  const pmHistory: typeof pms = [];
  const discountHistory: typeof dcs = [];

  for (const event of events) {
    const obj = event.data.object as Obj;
    if (typeof obj?.id !== 'string') continue;
    const account = eventAccount(event);
    const base = { account, created: event.created, eventId: event.id, type: event.type };
    const t = event.type;
    const ranked = (lifecycleRank: number) => orderRank(event.id, lifecycleRank);
    const historyOnly = event.churn_synthetic === 'history';
    if (historyOnly && SUBSCRIPTION_TYPES.test(t)) {
      subHistory.push({ ...base, rank: ranked(subscriptionRank(t, obj)), row: { ...normalizeSubscription(obj), deleted: false } });
    } else if (historyOnly && t === 'invoice.payment_failed') {
      failures.push(failureRow(account, event.id, normalizeInvoice(obj), obj, event.created));
    } else if (historyOnly && t.startsWith('payment_method.')) {
      pmHistory.push({
        ...base,
        rank: ranked(paymentMethodRank(t)),
        row: { ...normalizePaymentMethod(obj), detached: t === 'payment_method.detached', attached: t === 'payment_method.attached' },
      });
    } else if (historyOnly && t.startsWith('customer.discount.')) {
      discountHistory.push({ ...base, rank: ranked(discountRank(t)), row: { ...normalizeDiscount(obj), deleted: t === 'customer.discount.deleted' } });
    } else if (historyOnly) {
      continue;
    } else if (/^customer\.(created|updated|deleted)$/.test(t)) {
      custs.push({ ...base, rank: ranked(customerRank(t)), row: { ...normalizeCustomer(obj), deleted: t === 'customer.deleted' || obj.deleted === true } });
    } else if (SUBSCRIPTION_TYPES.test(t)) {
      subs.push({ ...base, rank: ranked(subscriptionRank(t, obj)), row: { ...normalizeSubscription(obj), deleted: t === 'customer.subscription.deleted' } });
    } else if (t.startsWith('customer.discount.')) {
      dcs.push({ ...base, rank: ranked(discountRank(t)), row: { ...normalizeDiscount(obj), deleted: t === 'customer.discount.deleted' } });
    } else if (t.startsWith('invoice.')) {
      const inv = normalizeInvoice(obj);
      invs.push({ ...base, rank: ranked(invoiceRank(t, obj)), row: inv });
      if (t === 'invoice.payment_failed') failures.push(failureRow(account, event.id, inv, obj, event.created));
    } else if (t.startsWith('payment_method.')) {
      pms.push({
        ...base,
        rank: ranked(paymentMethodRank(t)),
        row: { ...normalizePaymentMethod(obj), detached: t === 'payment_method.detached', attached: t === 'payment_method.attached' },
      });
    } else if (t.startsWith('charge.dispute.')) {
      dps.push({ ...base, rank: ranked(disputeRank(t, obj)), row: normalizeDispute(obj, event.created) });
    } else if (t.startsWith('refund.') || t === 'charge.refund.updated') {
      rfs.push({ ...base, rank: ranked(0), row: normalizeRefund(obj, event.created) });
    } else if (t.startsWith('payment_intent.')) {
      pis.push({ ...base, rank: ranked(terminalRank(t, obj.status)), row: normalizePaymentIntent(obj) });
    } else if (t.startsWith('credit_note.')) {
      cns.push({ ...base, rank: ranked(terminalRank(t, obj.status)), row: normalizeCreditNote(obj, event.created) });
    } else if (t.startsWith('subscription_schedule.')) {
      schedules.push({ ...base, rank: ranked(terminalRank(t, obj.status)), row: normalizeSubscriptionSchedule(obj) });
    } else if (t.startsWith('charge.')) {
      chs.push({ ...base, rank: ranked(chargeRank(t, obj)), row: normalizeCharge(obj) });
    }
  }

  await upsertCustomers(tx, newestPerKey(custs));
  await upsertSubscriptions(tx, subs);
  await insertSubscriptionVersions(tx, subHistory);
  await upsertInvoices(tx, newestPerKey(invs));
  for (const part of chunks(failures)) await tx.execute(bulkInsert(paymentFailures, part as Record<string, unknown>[], 'on conflict do nothing'));
  await upsertPaymentMethods(tx, pms);
  await upsertCharges(tx, newestPerKey(chs));
  await upsertRefunds(tx, newestPerKey(rfs));
  await upsertDisputes(tx, newestPerKey(dps));
  await upsertDiscounts(tx, newestPerKey(dcs));
  await upsertPaymentMethods(tx, pmHistory, HISTORY_ROWS_ONLY('payment_methods'));
  await upsertDiscounts(tx, newestPerKey(discountHistory), HISTORY_ROWS_ONLY('discounts'));
  await upsertNewest(tx, paymentIntents, 'payment_intents', newestPerKey(pis));
  await upsertNewest(tx, creditNotes, 'credit_notes', newestPerKey(cns));
  await upsertNewest(tx, subscriptionSchedules, 'subscription_schedules', newestPerKey(schedules));
}

/** The newest snapshot of each object wins (ordering.ts), whatever order events arrive in. */
async function upsertNewest<T extends { id: string }>(tx: DbOrTx, table: PgTable, name: string, rows: Versioned<T>[]) {
  for (const part of chunks(rows)) {
    await tx.execute(bulkInsert(table, part.map((v) => ({ account: v.account, ...v.row, ...versionColumns(v) })), upsertNewer(table, name)));
  }
}

/** A guard that lets rebuilt history update only rows rebuilt history made. */
const HISTORY_ROWS_ONLY = (table: string) => `left("${table}".src_event_id, ${HISTORY_PREFIX.length}) = '${HISTORY_PREFIX}' and `;

async function upsertCustomers(tx: DbOrTx, rows: Versioned<ReturnType<typeof normalizeCustomer> & { deleted: boolean }>[]) {
  for (const part of chunks(rows)) {
    await tx.execute(
      bulkInsert(
        customers,
        part.map((v) => ({ account: v.account, ...v.row, ...versionColumns(v) })),
        // A deleted customer stays deleted whatever arrives after.
        upsertNewer(customers, 'customers', { deleted: 'customers.deleted or excluded.deleted' }),
      ),
    );
  }
}

function failureRow(account: string, eventId: string, inv: ReturnType<typeof normalizeInvoice>, obj: Obj, failedAt: number): typeof paymentFailures.$inferInsert {
  return {
    account,
    eventId,
    customerId: inv.customerId,
    invoiceId: inv.id,
    subscriptionId: inv.subscriptionId,
    amount: inv.amountDue,
    currency: inv.currency,
    attempt: inv.attemptCount,
    ...invoiceFailureCode(obj),
    failedAt,
  };
}

/** Every snapshot of a subscription, for point-in-time features. */
async function insertSubscriptionVersions(tx: DbOrTx, all: Versioned<NormalizedSubscription & { deleted: boolean }>[]) {
  for (const part of chunks(all)) {
    await tx.execute(
      bulkInsert(
        subscriptionVersions,
        part.map((v) => {
          const { id, items, expandedDiscounts, deleted, ...cols } = v.row;
          return { account: v.account, subscriptionId: id, eventId: v.eventId, validFrom: v.created, rank: v.rank, ...cols };
        }),
        'on conflict do nothing',
      ),
    );
  }
}

async function upsertSubscriptions(tx: DbOrTx, all: Versioned<NormalizedSubscription & { deleted: boolean }>[]) {
  if (all.length === 0) return;
  await insertSubscriptionVersions(tx, all);
  const rows = newestPerKey(all);
  const won: Versioned<NormalizedSubscription & { deleted: boolean }>[] = [];
  for (const part of chunks(rows)) {
    const result = await tx.execute(
      bulkInsert(
        subscriptions,
        part.map((v) => {
          const { items, expandedDiscounts, ...cols } = v.row;
          return { account: v.account, ...cols, ...versionColumns(v) };
        }),
        // A deleted subscription stays deleted: only a newer deletion snapshot may touch it.
        `${upsertNewer(subscriptions, 'subscriptions', {}, '(not subscriptions.deleted or excluded.deleted) and ')} returning account, id`,
      ),
    );
    const updated = rowsOf<{ account: string; id: string }>(result);
    const ok = new Set(updated.map((r) => `${r.account}\u0000${r.id}`));
    for (const v of part) if (ok.has(`${v.account}\u0000${v.row.id}`)) won.push(v);
  }
  // Items follow the winning snapshot: upsert its items, mark the rest of that subscription's items deleted.
  const itemRows = won.flatMap((v) =>
    v.row.items.map((i) => ({ account: v.account, subscriptionId: v.row.id, ...i, deleted: false, ...versionColumns(v) })),
  );
  for (const part of chunks(itemRows)) {
    await tx.execute(bulkInsert(subscriptionItems, part, upsertNewer(subscriptionItems, 'subscription_items')));
  }
  for (const part of chunks(won)) {
    const keep = part.flatMap((v) => v.row.items.map((i) => `${v.account} ${i.id}`));
    await tx.execute(sql`
      update subscription_items si
         set deleted = true, src_created = w.created, src_rank = w.rank, src_event_id = w.event_id
        from (select * from unnest(${pgArray(part.map((v) => v.account))}::text[], ${pgArray(part.map((v) => v.row.id))}::text[],
                                   ${pgArray(part.map((v) => v.created))}::bigint[], ${pgArray(part.map((v) => v.rank))}::int[],
                                   ${pgArray(part.map((v) => v.eventId))}::text[]) as w(account, sub_id, created, rank, event_id)) w
       where si.account = w.account and si.subscription_id = w.sub_id and not si.deleted
         and not (si.account || ' ' || si.id = any(${pgArray(keep)}::text[]))`);
  }
  const expandedDiscounts = won.flatMap((v) =>
    v.row.expandedDiscounts.map((d) => ({ ...v, row: { ...d, subscriptionId: d.subscriptionId ?? v.row.id, customerId: d.customerId ?? v.row.customerId, deleted: false } })),
  );
  if (expandedDiscounts.length) await upsertDiscounts(tx, newestPerKey(expandedDiscounts));
}

async function upsertInvoices(tx: DbOrTx, rows: Versioned<ReturnType<typeof normalizeInvoice>>[]) {
  for (const part of chunks(rows)) {
    await tx.execute(
      bulkInsert(
        invoices,
        part.map((v) => {
          const { chargeId, ...cols } = v.row;
          return { account: v.account, ...cols, ...versionColumns(v) };
        }),
        upsertNewer(invoices, 'invoices'),
      ),
    );
  }
}

async function upsertPaymentMethods(tx: DbOrTx, all: Versioned<ReturnType<typeof normalizePaymentMethod> & { detached: boolean; attached: boolean }>[], guard = '') {
  // attached_at / detached_at are facts of their own events: they merge (least/greatest) whatever
  // the order, while card details follow only the newest snapshot.
  const attachedAt = new Map<string, number>();
  const detachedAt = new Map<string, number>();
  const owner = new Map<string, Versioned<{ customerId: string | null }>>();
  for (const v of all) {
    const key = `${v.account}\u0000${v.row.id}`;
    const known = owner.get(key);
    if (v.row.customerId && (!known || compareVersions(v, known) > 0)) owner.set(key, v);
    if (v.row.attached) attachedAt.set(key, Math.min(attachedAt.get(key) ?? Infinity, v.created));
    if (v.row.detached) detachedAt.set(key, Math.max(detachedAt.get(key) ?? -Infinity, v.created));
  }
  for (const part of chunks(newestPerKey(all))) {
    const values = part.map((v) => {
      const key = `${v.account}\u0000${v.row.id}`;
      const { detached, attached, ...cols } = v.row;
      const customerId = cols.customerId ?? owner.get(key)?.row.customerId ?? null;
      return { account: v.account, ...cols, customerId, attachedAt: attachedAt.get(key) ?? null, detachedAt: detachedAt.get(key) ?? null, ...versionColumns(v) };
    });
    await tx.execute(
      bulkInsert(
        paymentMethods,
        values,
        // A detached method's payload has customer null; keep whom it belonged to.
        upsertNewer(
          paymentMethods,
          'payment_methods',
          {
            customer_id: 'coalesce(excluded.customer_id, payment_methods.customer_id)',
            attached_at: 'payment_methods.attached_at',
            detached_at: 'payment_methods.detached_at',
          },
          guard,
        ),
      ),
    );
    await tx.execute(
      bulkInsert(
        paymentMethods,
        values,
        // The detach snapshot may land first with customer null; the owner comes from any snapshot.
        // (A method re-attached to another customer is the one case this can get wrong.)
        `on conflict (account, id) do update set
           attached_at = least(payment_methods.attached_at, excluded.attached_at),
           detached_at = greatest(payment_methods.detached_at, excluded.detached_at),
           customer_id = coalesce(payment_methods.customer_id, excluded.customer_id)${guard ? ` where ${guard.replace(/ and $/, '')}` : ''}`,
      ),
    );
  }
}

async function upsertCharges(tx: DbOrTx, rows: Versioned<ReturnType<typeof normalizeCharge>>[]) {
  for (const part of chunks(rows)) {
    await tx.execute(
      bulkInsert(
        charges,
        part.map((v) => ({ account: v.account, ...v.row, ...versionColumns(v) })),
        upsertNewer(charges, 'charges', { invoice_id: 'coalesce(excluded.invoice_id, charges.invoice_id)' }),
      ),
    );
  }
}

async function upsertRefunds(tx: DbOrTx, rows: Versioned<ReturnType<typeof normalizeRefund>>[]) {
  for (const part of chunks(rows)) {
    // Refunds name only their charge; the customer comes from the charge when we know it.
    await tx.execute(
      bulkInsert(
        refunds,
        part.map((v) => ({ account: v.account, ...v.row, customerId: null })),
        'on conflict (account, id) do update set status = excluded.status, amount = excluded.amount',
      ),
    );
  }
  if (rows.length) await linkCustomersThroughCharges(tx, 'refunds');
}

async function upsertDisputes(tx: DbOrTx, rows: Versioned<ReturnType<typeof normalizeDispute>>[]) {
  for (const part of chunks(rows)) {
    await tx.execute(
      bulkInsert(
        disputes,
        part.map((v) => ({ account: v.account, ...v.row, customerId: null, ...versionColumns(v) })),
        upsertNewer(disputes, 'disputes', { customer_id: 'disputes.customer_id' }),
      ),
    );
  }
  if (rows.length) await linkCustomersThroughCharges(tx, 'disputes');
}

async function linkCustomersThroughCharges(tx: DbOrTx, table: 'refunds' | 'disputes') {
  await tx.execute(
    sql.raw(
      `update ${table} t set customer_id = c.customer_id from charges c
       where t.customer_id is null and c.account = t.account and c.id = t.charge_id and c.customer_id is not null`,
    ),
  );
}

async function upsertDiscounts(tx: DbOrTx, rows: Versioned<ReturnType<typeof normalizeDiscount> & { deleted: boolean }>[], guard = '') {
  for (const part of chunks(rows)) {
    await tx.execute(
      bulkInsert(
        discounts,
        part.map((v) => {
          const { deleted, ...cols } = v.row;
          return { account: v.account, ...cols, deletedAt: deleted ? v.created : null, ...versionColumns(v) };
        }),
        upsertNewer(discounts, 'discounts', {
          coupon_id: 'coalesce(excluded.coupon_id, discounts.coupon_id)',
          percent_off: 'coalesce(excluded.percent_off, discounts.percent_off)',
          amount_off: 'coalesce(excluded.amount_off, discounts.amount_off)',
          deleted_at: 'coalesce(discounts.deleted_at, excluded.deleted_at)',
        }, guard),
      ),
    );
  }
}

/** Projection tables, emptied by `churn rebuild` before replaying the event store. */
export const PROJECTION_TABLES = [
  'customers',
  'subscriptions',
  'subscription_items',
  'subscription_versions',
  'invoices',
  'payment_failures',
  'payment_methods',
  'charges',
  'refunds',
  'disputes',
  'discounts',
  'payment_intents',
  'credit_notes',
  'subscription_schedules',
] as const;


function rowsOf<T>(result: unknown): T[] {
  return Array.isArray(result) ? (result as T[]) : ((result as { rows?: T[] }).rows ?? []);
}
