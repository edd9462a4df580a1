import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { sql, type SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import * as schema from './schema/index.js';

export { schema };

/** Either driver's database, typed by what they share: the query builder and transactions. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;
/** A database or a transaction: services take this so they compose inside callers' transactions. */
export type DbOrTx = Parameters<Parameters<Db['transaction']>[0]>[0] | Db;

export interface Database {
  db: Db;
  kind: 'postgres' | 'pglite';
  /** raw rows of a SQL query, whichever driver runs it */
  query<T = Record<string, unknown>>(query: SQL, on?: DbOrTx): Promise<T[]>;
  /**
   * A fixed SQL text with $n parameters, prepared once per connection and reused (hot paths
   * such as the webhook insert skip query building and re-planning).
   */
  prepared<T = Record<string, unknown>>(text: string, params: unknown[]): Promise<T[]>;
  close(): Promise<void>;
  /** postgres.js client when kind === 'postgres' (bulk COPY/streaming paths use it) */
  pg?: import('postgres').Sql;
}

export const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

export interface OpenOptions {
  databaseUrl?: string;
  /** directory for the embedded database; ':memory:' for a throwaway one */
  dataDir?: string;
  poolSize?: number;
  migrate?: boolean;
}

/** Postgres when a URL is given, otherwise embedded PGlite; migrations applied unless told not to. */
export async function openDatabase(options: OpenOptions = {}): Promise<Database> {
  const database = options.databaseUrl
    ? await openPostgres(options.databaseUrl, options.poolSize ?? 10)
    : await openPglite(options.dataDir ?? './.data');
  if (options.migrate !== false) await migrateDatabase(database);
  return database;
}

async function openPostgres(url: string, max: number): Promise<Database> {
  const { default: postgres } = await import('postgres');
  const { drizzle } = await import('drizzle-orm/postgres-js');
  const pg = postgres(url, { max, onnotice: () => {}, connect_timeout: 10 });
  const db = drizzle(pg, { schema }) as unknown as Db;
  return {
    db,
    kind: 'postgres',
    pg,
    query: async <T>(q: SQL, on: DbOrTx = db) => rowsOf<T>(await (on as Db).execute(q)),
    prepared: async <T>(text: string, params: unknown[]) => (await pg.unsafe(text, params as never[], { prepare: true })) as unknown as T[],
    close: () => pg.end({ timeout: 5 }),
  };
}

async function openPglite(dataDir: string): Promise<Database> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  let client: InstanceType<typeof PGlite>;
  if (dataDir === ':memory:') client = new PGlite();
  else {
    mkdirSync(dataDir, { recursive: true });
    client = new PGlite(join(dataDir, 'pglite'));
  }
  await client.waitReady;
  const db = drizzle(client, { schema }) as unknown as Db;
  return {
    db,
    kind: 'pglite',
    query: async <T>(q: SQL, on: DbOrTx = db) => rowsOf<T>(await (on as Db).execute(q)),
    prepared: async <T>(text: string, params: unknown[]) => (await client.query<T>(text, params)).rows,
    close: () => client.close(),
  };
}

export async function migrateDatabase(database: Database): Promise<void> {
  if (database.kind === 'postgres') {
    const { migrate } = await import('drizzle-orm/postgres-js/migrator');
    // Several processes may start at once; an advisory lock keeps migrations single-file.
    // The lock lives on one reserved connection so lock and unlock pair up.
    const lockConn = await database.pg!.reserve();
    try {
      await lockConn`select pg_advisory_lock(872364501)`;
      await migrate(database.db as never, { migrationsFolder: MIGRATIONS_DIR });
    } finally {
      await lockConn`select pg_advisory_unlock(872364501)`.catch(() => {});
      lockConn.release();
    }
  } else {
    const { migrate } = await import('drizzle-orm/pglite/migrator');
    await migrate(database.db as never, { migrationsFolder: MIGRATIONS_DIR });
  }
}

/** Returns true when the database answers a trivial query. */
export async function databaseReachable(database: Database): Promise<boolean> {
  try {
    await database.query(sql`select 1`);
    return true;
  } catch {
    return false;
  }
}
