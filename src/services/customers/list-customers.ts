import { sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { LIVE_STATUSES } from '../../db/queries/features.sql.js';
import { ChurnError } from '../../lib/errors.js';
import type { Driver, RiskBand } from '../../ml/types.js';

/**
 * Customers with their latest score, riskiest first. "Latest" is one scoring snapshot: the newest
 * as-of scored by the champion (or, with no champion, by whichever model scored last), so every
 * row on every page is comparable. Pages are keyset-paginated on (probability desc, account,
 * customer id) — a stable order that the snapshot index serves directly, so deep pages cost the
 * same as the first.
 */

export interface CustomerListFilters {
  band?: RiskBand;
  minProbability?: number;
  maxProbability?: number;
  /** live-subscription MRR range, minor units */
  minMrr?: number;
  maxMrr?: number;
  account?: string;
  /** customers with an intervention under this policy */
  policyId?: string;
}

export interface CustomerListItem {
  account: string;
  customerId: string;
  email: string | null;
  name: string | null;
  probability: number;
  band: RiskBand;
  asOf: number;
  modelVersion: string;
  mrr: number;
  currency: string | null;
  topDriver: string | null;
}

export interface Snapshot {
  modelName: string;
  modelVersion: string;
  asOf: number;
}

export interface CustomerPage {
  snapshot: Snapshot | null;
  items: CustomerListItem[];
  nextCursor: string | null;
}

interface Cursor {
  p: number;
  a: string;
  c: string;
  /** the snapshot the cursor belongs to: a newer scoring run invalidates old cursors */
  s: string;
}

function snapshotKey(s: Snapshot): string {
  return `${s.modelName}/${s.modelVersion}/${s.asOf}`;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeCursor(text: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Cursor;
    if (typeof c.p !== 'number' || typeof c.a !== 'string' || typeof c.c !== 'string' || typeof c.s !== 'string') throw new Error('shape');
    return c;
  } catch {
    throw new ChurnError('VALIDATION_FAILED', 'cursor is not one this API issued', { details: [{ path: ['query', 'cursor'], message: 'invalid cursor' }] });
  }
}

/**
 * The snapshot lists and reports read: the champion's newest as-of (one index probe on
 * scores_model_as_of_idx), else — no champion, or it has not scored yet — the newest scores.
 */
export async function latestSnapshot(database: Database): Promise<Snapshot | null> {
  const [champion] = await database.query<{ name: string; version: string }>(sql`select name, version from model_versions where status = 'champion' order by name limit 1`);
  if (champion) {
    const [r] = await database.query<{ as_of: string | number }>(
      sql`select as_of from scores where model_name = ${champion.name} and model_version = ${champion.version} order by as_of desc limit 1`,
    );
    if (r) return { modelName: champion.name, modelVersion: champion.version, asOf: Number(r.as_of) };
  }
  const [any] = await database.query<{ model_name: string; model_version: string; as_of: string | number }>(
    sql`select model_name, model_version, as_of from scores order by as_of desc, created_at desc limit 1`,
  );
  return any ? { modelName: any.model_name, modelVersion: any.model_version, asOf: Number(any.as_of) } : null;
}

const LIVE = sql.raw(LIVE_STATUSES.map((s) => `'${s}'`).join(', '));

function mrrOf(alias: string): SQL {
  return sql.raw(
    `(select coalesce(sum(sb.mrr), 0) from subscriptions sb where sb.account = ${alias}.account and sb.customer_id = ${alias}.customer_id and not sb.deleted and sb.status in (${LIVE_STATUSES.map((s) => `'${s}'`).join(', ')}))`,
  );
}

export async function listCustomers(
  database: Database,
  input: { filters?: CustomerListFilters; limit: number; cursor?: string },
): Promise<CustomerPage> {
  const snapshot = await latestSnapshot(database);
  if (!snapshot) return { snapshot: null, items: [], nextCursor: null };
  const f = input.filters ?? {};
  const where: SQL[] = [sql`s.model_name = ${snapshot.modelName}`, sql`s.model_version = ${snapshot.modelVersion}`, sql`s.as_of = ${snapshot.asOf}`];
  if (f.band) where.push(sql`s.band = ${f.band}`);
  if (f.minProbability !== undefined) where.push(sql`s.probability >= ${f.minProbability}`);
  if (f.maxProbability !== undefined) where.push(sql`s.probability <= ${f.maxProbability}`);
  if (f.account) where.push(sql`s.account = ${f.account}`);
  if (f.policyId) where.push(sql`exists (select 1 from interventions i where i.policy_id = ${f.policyId} and i.account = s.account and i.customer_id = s.customer_id)`);
  if (f.minMrr !== undefined) where.push(sql`${mrrOf('s')} >= ${f.minMrr}`);
  if (f.maxMrr !== undefined) where.push(sql`${mrrOf('s')} <= ${f.maxMrr}`);
  if (input.cursor) {
    const c = decodeCursor(input.cursor);
    if (c.s !== snapshotKey(snapshot)) throw new ChurnError('CONFLICT', 'the scores were refreshed since this cursor was issued: start again from the first page');
    // real is compared as real so the cursor's float matches the stored value exactly
    where.push(sql`(s.probability < ${c.p}::real or (s.probability = ${c.p}::real and (s.account, s.customer_id) > (${c.a}, ${c.c})))`);
  }
  const rows = await database.query<{
    account: string;
    customer_id: string;
    probability: number;
    band: RiskBand;
    drivers: Driver[] | null;
    email: string | null;
    name: string | null;
    mrr: string | number;
    currency: string | null;
  }>(sql`
    select page.*, c.email, c.name, ${mrrOf('page')} as mrr,
      (select sb.currency from subscriptions sb where sb.account = page.account and sb.customer_id = page.customer_id and sb.status in (${LIVE}) order by sb.mrr desc limit 1) as currency
    from (
      select s.account, s.customer_id, s.probability, s.band, s.drivers from scores s
      where ${sql.join(where, sql` and `)}
      order by s.probability desc, s.account, s.customer_id
      limit ${input.limit + 1}
    ) page
    left join customers c on c.account = page.account and c.id = page.customer_id
    order by page.probability desc, page.account, page.customer_id`);
  const more = rows.length > input.limit;
  const page = rows.slice(0, input.limit);
  const last = page[page.length - 1];
  return {
    snapshot,
    items: page.map((r) => ({
      account: r.account,
      customerId: r.customer_id,
      email: r.email,
      name: r.name,
      probability: Number(r.probability),
      band: r.band,
      asOf: snapshot.asOf,
      modelVersion: snapshot.modelVersion,
      mrr: Number(r.mrr),
      currency: r.currency,
      topDriver: r.drivers?.[0]?.sentence ?? null,
    })),
    nextCursor: more && last ? encodeCursor({ p: Number(last.probability), a: last.account, c: last.customer_id, s: snapshotKey(snapshot) }) : null,
  };
}
