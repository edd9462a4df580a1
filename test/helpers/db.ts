import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { describe } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';

/** The server tests use; CI points DATABASE_URL at a fresh database on it. */
export const TEST_PG_URL =
  process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export type DbKind = 'postgres' | 'pglite';
export const DB_KINDS: DbKind[] = ['postgres', 'pglite'];

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/**
 * A fresh, migrated database for one test file: a new database on the real PostgreSQL server
 * (dropped on close) or an in-memory PGlite.
 */
export async function createTestDatabase(kind: DbKind, options: { poolSize?: number } = {}): Promise<Database & { url?: string }> {
  if (kind === 'pglite') return openDatabase({ dataDir: ':memory:' });
  const name = `churn_t_${randomBytes(6).toString('hex')}`;
  const admin = postgres(TEST_PG_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = withDatabase(TEST_PG_URL, name);
  const database = await openDatabase({ databaseUrl: url, poolSize: options.poolSize ?? 10 });
  const close = database.close;
  return {
    ...database,
    url,
    close: async () => {
      await close();
      const a = postgres(TEST_PG_URL, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists ${name} with (force)`).catch(() => {});
      await a.end();
    },
  };
}

/** Runs the same suite once on real PostgreSQL and once on PGlite. */
export function describeEachDb(title: string, body: (kind: DbKind) => void): void {
  for (const kind of DB_KINDS) describe(`${title} [${kind}]`, () => body(kind));
}
