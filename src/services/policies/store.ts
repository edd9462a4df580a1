import { and, desc, eq, sql } from 'drizzle-orm';
import type { Database, DbOrTx } from '../../db/client.js';
import { auditLog, policies } from '../../db/schema/index.js';
import { ChurnError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { formatPolicyIssues, parsePolicyDefinition, type PolicyDefinition } from './definition.js';

/**
 * Policies are versioned: a change inserts version n + 1 and leaves n readable, so every
 * intervention can be traced to the exact rules it was decided under. Every change is written to
 * the audit log (actor, action, before, after) in the same transaction as the change.
 */

export interface StoredPolicy {
  id: string;
  version: number;
  name: string;
  definition: PolicyDefinition;
  createdBy: string;
  createdAt: Date;
}

/** Who is acting: an API key id, 'cli', 'demo', 'system'. */
export type Actor = string;

function invalid(issues: ReturnType<typeof parsePolicyDefinition>): never {
  if (issues.ok) throw new Error('unreachable');
  throw new ChurnError('VALIDATION_FAILED', `invalid policy: ${formatPolicyIssues(issues.issues)}`, { details: issues.issues });
}

function toStored(row: typeof policies.$inferSelect): StoredPolicy {
  return { id: row.id, version: row.version, name: row.name, definition: row.definition, createdBy: row.createdBy, createdAt: row.createdAt };
}

export async function writeAudit(
  on: DbOrTx,
  entry: { actor: Actor; action: string; entityType: string; entityId: string; before: unknown; after: unknown },
): Promise<void> {
  await on.insert(auditLog).values({ id: newId('aud'), ...entry, before: entry.before ?? null, after: entry.after ?? null });
}

/** Validates and stores a new policy as version 1. */
export async function createPolicy(database: Database, input: unknown, actor: Actor): Promise<StoredPolicy> {
  const parsed = parsePolicyDefinition(input);
  if (!parsed.ok) invalid(parsed);
  const definition = parsed.policy;
  const id = newId('pol');
  return database.db.transaction(async (tx) => {
    const [row] = await tx.insert(policies).values({ id, version: 1, name: definition.name, definition, createdBy: actor }).returning();
    await writeAudit(tx, { actor, action: 'policy.create', entityType: 'policy', entityId: id, before: null, after: { version: 1, ...definition } });
    return toStored(row!);
  });
}

/**
 * A partial change merged onto a definition (objects merge one level deep, so
 * `{"targeting": {"minProbability": 0.3}}` keeps the targeting kind; an object with another `kind`
 * replaces the old one), validated as a whole: an invalid result is a VALIDATION_FAILED naming
 * each failing field. Used by update and by simulating an unsaved draft.
 */
export function mergePolicyChange(current: PolicyDefinition, change: Record<string, unknown>): PolicyDefinition {
  const merged: Record<string, unknown> = { ...current };
  for (const [key, value] of Object.entries(change)) {
    const before = merged[key];
    merged[key] =
      value && typeof value === 'object' && !Array.isArray(value) && before && typeof before === 'object' && !Array.isArray(before) && !('kind' in value && (value as { kind: unknown }).kind !== (before as { kind?: unknown }).kind)
        ? { ...(before as object), ...(value as object) }
        : value;
  }
  const parsed = parsePolicyDefinition(merged);
  if (!parsed.ok) invalid(parsed);
  return parsed.policy;
}

/**
 * A new version from a partial change merged onto the current one (objects merge one level deep,
 * so `{"targeting": {"minProbability": 0.3}}` keeps the targeting kind). The merged whole is
 * validated again; nothing is written if it is invalid. Concurrent updates cannot both take the
 * same version number: the (id, version) primary key refuses the second, reported as a conflict.
 */
export async function updatePolicy(database: Database, id: string, change: Record<string, unknown>, actor: Actor): Promise<StoredPolicy> {
  return database.db.transaction(async (tx) => {
    const current = await currentPolicy(tx, id);
    if (!current) throw new ChurnError('NOT_FOUND', `no policy ${id}`);
    const definition = mergePolicyChange(current.definition, change);
    const version = current.version + 1;
    let row: typeof policies.$inferSelect | undefined;
    try {
      [row] = await tx.insert(policies).values({ id, version, name: definition.name, definition, createdBy: actor }).returning();
    } catch (err) {
      throw new ChurnError('CONFLICT', `policy ${id} was changed at the same time; read it again and retry`, { cause: err });
    }
    await writeAudit(tx, { actor, action: 'policy.update', entityType: 'policy', entityId: id, before: { version: current.version, ...current.definition }, after: { version, ...definition } });
    return toStored(row!);
  });
}

/** The newest version of one policy, or null. */
export async function currentPolicy(on: DbOrTx, id: string): Promise<StoredPolicy | null> {
  const [row] = await on.select().from(policies).where(eq(policies.id, id)).orderBy(desc(policies.version)).limit(1);
  return row ? toStored(row) : null;
}

export async function policyVersion(on: DbOrTx, id: string, version: number): Promise<StoredPolicy | null> {
  const [row] = await on.select().from(policies).where(and(eq(policies.id, id), eq(policies.version, version))).limit(1);
  return row ? toStored(row) : null;
}

export async function policyVersions(on: DbOrTx, id: string): Promise<StoredPolicy[]> {
  const rows = await on.select().from(policies).where(eq(policies.id, id)).orderBy(desc(policies.version));
  return rows.map(toStored);
}

/** The newest version of every policy, highest priority first (ties by id). */
export async function listPolicies(database: Database): Promise<StoredPolicy[]> {
  const rows = await database.query<{ id: string; version: number; name: string; definition: PolicyDefinition; created_by: string; created_at: string | Date }>(
    sql`select distinct on (id) id, version, name, definition, created_by, created_at from policies order by id, version desc`,
  );
  return rows
    .map((r) => ({ id: r.id, version: Number(r.version), name: r.name, definition: r.definition, createdBy: r.created_by, createdAt: new Date(r.created_at) }))
    .sort((a, b) => b.definition.priority - a.definition.priority || a.id.localeCompare(b.id));
}

/** Resolves a policy by id or by exact name (names are not unique; an ambiguous name is an error). */
export async function findPolicy(database: Database, idOrName: string): Promise<StoredPolicy> {
  if (idOrName.startsWith('pol_')) {
    const found = await currentPolicy(database.db, idOrName);
    if (found) return found;
  }
  const matches = (await listPolicies(database)).filter((p) => p.name === idOrName);
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) throw new ChurnError('CONFLICT', `${matches.length} policies are named "${idOrName}": use the id (${matches.map((m) => m.id).join(', ')})`);
  throw new ChurnError('NOT_FOUND', `no policy ${idOrName}`);
}
