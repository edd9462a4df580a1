import { parseEnv, type Env } from '../env.js';
import { UsageError } from '../lib/errors.js';
import { parseIsoToUnix } from '../lib/clock.js';
import { openDatabase, type Database } from '../db/client.js';

/** Opens the configured database (Postgres or embedded PGlite), runs `fn`, always closes it. */
export async function withDatabase<T>(fn: (database: Database, env: Env) => Promise<T>, env: Env = parseEnv()): Promise<T> {
  const database = await openDatabase({ databaseUrl: env.DATABASE_URL, dataDir: env.DATA_DIR });
  try {
    return await fn(database, env);
  } finally {
    await database.close();
  }
}

/** Parses a positive integer option or throws a usage error naming it. */
export function intOption(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a whole number`);
  return n;
}

/** Parses an optional `--as-of` ISO date or date-time to unix seconds; a usage error otherwise. */
export function asOfOption(value: string | undefined, flag = 'as-of'): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseIsoToUnix(value);
  } catch {
    throw new UsageError(`--${flag} must be an ISO date or date-time, got "${value}"`);
  }
}
