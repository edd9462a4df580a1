import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { desc, eq, isNull, and } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { apiKeys } from '../../db/schema/index.js';
import { ChurnError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { writeAudit, type Actor } from '../policies/store.js';

/** Roles are ordered: each one may do everything the ones before it may. */
export const ROLES = ['viewer', 'editor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export function roleAtLeast(have: Role, need: Role): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

const KEY_PATTERN = /^(churn_live_[0-9a-f]{8})_([A-Za-z0-9_-]{32,})$/;

export interface ApiKeyInfo {
  id: string;
  prefix: string;
  name: string | null;
  role: Role;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export interface Principal {
  /** the audit actor: the key id, or 'admin-token' for CHURN_ADMIN_TOKEN */
  id: string;
  role: Role;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function info(row: typeof apiKeys.$inferSelect): ApiKeyInfo {
  return { id: row.id, prefix: row.prefix, name: row.name, role: row.role as Role, createdAt: row.createdAt, lastUsedAt: row.lastUsedAt, revokedAt: row.revokedAt };
}

/** Creates a key and returns it whole exactly once; only the secret's hash is stored. */
export async function createApiKey(database: Database, input: { role: Role; name?: string; actor: Actor; now: Date }): Promise<{ key: string; apiKey: ApiKeyInfo }> {
  if (!isRole(input.role)) throw new ChurnError('VALIDATION_FAILED', `role must be one of ${ROLES.join(', ')}`);
  const prefix = `churn_live_${randomBytes(4).toString('hex')}`;
  const secret = randomBytes(32).toString('base64url');
  const id = newId('key');
  return database.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(apiKeys)
      .values({ id, prefix, name: input.name ?? null, role: input.role, secretHash: sha256(secret).toString('hex'), createdAt: input.now })
      .returning();
    await writeAudit(tx, { actor: input.actor, action: 'api_key.create', entityType: 'api_key', entityId: id, before: null, after: { prefix, role: input.role, name: input.name ?? null } });
    return { key: `${prefix}_${secret}`, apiKey: info(row!) };
  });
}

export async function listApiKeys(database: Database): Promise<ApiKeyInfo[]> {
  return (await database.db.select().from(apiKeys).orderBy(desc(apiKeys.createdAt), apiKeys.id)).map(info);
}

export async function revokeApiKey(database: Database, prefix: string, actor: Actor, now: Date): Promise<ApiKeyInfo> {
  return database.db.transaction(async (tx) => {
    const [row] = await tx.update(apiKeys).set({ revokedAt: now }).where(and(eq(apiKeys.prefix, prefix), isNull(apiKeys.revokedAt))).returning();
    if (!row) {
      const [existing] = await tx.select().from(apiKeys).where(eq(apiKeys.prefix, prefix));
      if (!existing) throw new ChurnError('NOT_FOUND', `no API key ${prefix}`);
      return info(existing);
    }
    await writeAudit(tx, { actor, action: 'api_key.revoke', entityType: 'api_key', entityId: row.id, before: { revokedAt: null }, after: { revokedAt: now.toISOString() } });
    return info(row);
  });
}

/**
 * Who a bearer token belongs to, or null. The admin token and stored hashes are compared in
 * constant time, so response timing says nothing about how much of a guess was right.
 */
export async function authenticate(database: Database, token: string, options: { adminToken?: string; now: Date }): Promise<Principal | null> {
  if (options.adminToken) {
    const a = sha256(token);
    if (timingSafeEqual(a, sha256(options.adminToken))) return { id: 'admin-token', role: 'admin' };
  }
  const match = KEY_PATTERN.exec(token);
  if (!match) return null;
  const [row] = await database.db.select().from(apiKeys).where(eq(apiKeys.prefix, match[1]!)).limit(1);
  if (!row || row.revokedAt) return null;
  const stored = Buffer.from(row.secretHash, 'hex');
  const given = sha256(match[2]!);
  if (stored.length !== given.length || !timingSafeEqual(stored, given)) return null;
  // last used is advisory: at most one write a minute per key keeps reads cheap
  if (!row.lastUsedAt || options.now.getTime() - row.lastUsedAt.getTime() > 60_000) {
    await database.db.update(apiKeys).set({ lastUsedAt: options.now }).where(eq(apiKeys.id, row.id));
  }
  return { id: row.id, role: row.role as Role };
}
