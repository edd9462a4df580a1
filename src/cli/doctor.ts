import { existsSync } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { sql } from 'drizzle-orm';
import { MIGRATIONS_DIR, openDatabase, type Database } from '../db/client.js';
import { parseEnv, type Env } from '../env.js';
import { ChurnError, errorMessage } from '../lib/errors.js';
import { initBackend } from '../ml/backend.js';
import { championVersion, DEFAULT_MODEL_NAME } from '../ml/registry.js';

export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

function describeStripe(env: Env): string {
  const key = env.STRIPE_SECRET_KEY;
  if (!key) return 'dry-run (STRIPE_SECRET_KEY not set: retention actions are logged, not sent)';
  const mode = key.includes('_live_') ? 'live mode' : 'test mode';
  const kind = key.startsWith('rk_') ? 'restricted key' : 'secret key';
  return `configured (${kind}, ${mode})${env.STRIPE_API_BASE ? ` via ${env.STRIPE_API_BASE}` : ''}`;
}

/**
 * Why a connection failed, in the words an operator acts on: nothing listens, the host name is
 * unknown, the credentials were refused, the database does not exist, no answer in time.
 * Never echoes the URL (it may carry a password).
 */
export function describeConnectionError(err: unknown, where: string): string {
  const chain: Array<{ code?: unknown; message?: unknown; hostname?: unknown }> = [];
  for (let e: unknown = err; e && typeof e === 'object' && chain.length < 5; e = (e as { cause?: unknown }).cause) chain.push(e as never);
  const codes = chain.map((e) => String(e.code ?? ''));
  // drizzle wraps the driver's error ("Failed query: …"); the innermost one says what happened.
  const message = chain.map((e) => String(e.message ?? '')).filter(Boolean).pop() ?? errorMessage(err);
  const has = (...wanted: string[]) => codes.some((c) => wanted.includes(c));
  if (has('ECONNREFUSED')) return `connection refused: nothing accepts connections at ${where} (is PostgreSQL running there?)`;
  if (has('ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME')) return `unknown host: ${where.replace(/:\d+$/, '')} does not resolve`;
  if (has('28P01', '28000')) return `authentication failed: ${message} (check the user and password in DATABASE_URL, and pg_hba.conf)`;
  if (has('3D000')) return `${message} (create it, or fix the database name in DATABASE_URL)`;
  if (has('CONNECT_TIMEOUT', 'ETIMEDOUT')) return `no answer from ${where} in time (firewall, or the server is overloaded)`;
  if (has('EHOSTUNREACH', 'ENETUNREACH')) return `${where} is unreachable from this machine (network)`;
  return message;
}

interface MigrationJournal {
  entries: Array<{ tag: string; when: number }>;
}

/**
 * Migrations committed with this version and not yet applied. drizzle applies every migration
 * newer than the last one recorded, so "newer than the last recorded" is what is pending.
 */
async function describeMigrations(database: Database): Promise<DoctorCheck> {
  const journal = JSON.parse(await readFile(join(MIGRATIONS_DIR, 'meta', '_journal.json'), 'utf8')) as MigrationJournal;
  const [table] = await database.query<{ name: string | null }>(sql`select to_regclass('drizzle.__drizzle_migrations')::text as name`);
  let last = 0;
  if (table?.name) {
    const [row] = await database.query<{ last: string | number | null }>(sql`select max(created_at) as last from drizzle.__drizzle_migrations`);
    last = Number(row?.last ?? 0);
  }
  const pending = journal.entries.filter((e) => e.when > last);
  const total = journal.entries.length;
  if (pending.length === 0) return { name: 'migrations', ok: true, detail: `${total} of ${total} applied` };
  return {
    name: 'migrations',
    ok: false,
    detail: `${total - pending.length} of ${total} applied; pending ${pending.map((p) => p.tag).join(', ')} (run \`churn migrate\`)`,
  };
}

/** Champion row plus whether its three files are on disk (loading them needs the live feature set). */
async function describeChampion(database: Database, modelDir: string): Promise<DoctorCheck> {
  try {
    const row = await championVersion(database.db, DEFAULT_MODEL_NAME);
    if (!row) return { name: 'champion', ok: true, detail: 'none yet (run `churn train`)' };
    const dir = resolve(modelDir, row.path);
    const missing: string[] = [];
    for (const file of ['model.json', 'weights.bin', 'metadata.json']) if (!(await exists(join(dir, file)))) missing.push(file);
    if (missing.length) return { name: 'champion', ok: false, detail: `${row.version}: missing ${missing.join(', ')} in ${dir}` };
    const metadata = JSON.parse(await readFile(join(dir, 'metadata.json'), 'utf8')) as { featureSet?: { version?: string }; metrics?: { overall?: { rocAuc?: number } } };
    const auc = metadata.metrics?.overall?.rocAuc;
    return {
      name: 'champion',
      ok: true,
      detail: `${row.version} (features ${metadata.featureSet?.version ?? '?'}${typeof auc === 'number' ? `, held-out AUC ${auc.toFixed(3)}` : ''})`,
    };
  } catch (err) {
    return { name: 'champion', ok: false, detail: `cannot read model_versions: ${errorMessage((err as { cause?: unknown }).cause ?? err)}` };
  }
}

/** Everything `churn doctor` checks. Any check that is not ok makes the command exit 1. */
export async function runDoctor(env: Env): Promise<{ checks: DoctorCheck[]; databaseReachable: boolean; failed: string[] }> {
  const checks: DoctorCheck[] = [{ name: 'node', ok: true, detail: process.version }];
  try {
    checks.push({ name: 'tfjs backend', ok: true, detail: await initBackend(env.TFJS_BACKEND) });
  } catch (err) {
    checks.push({ name: 'tfjs backend', ok: false, detail: errorMessage(err) });
  }
  const kind = env.DATABASE_URL ? 'postgres' : 'pglite';
  // Never print the URL: it may carry a password.
  const where = env.DATABASE_URL ? new URL(env.DATABASE_URL).host : resolve(env.DATA_DIR);
  // A first run has no embedded database yet: the first command that needs one creates and
  // migrates it, so that is not a failure (and doctor must not create it half-way).
  const freshPglite = !env.DATABASE_URL && !existsSync(join(env.DATA_DIR, 'pglite'));
  let database: Database | null = null;
  let reachable = false;
  if (freshPglite) {
    checks.push({ name: 'database', ok: true, detail: `pglite at ${where}: not created yet (the first command creates and migrates it)` });
  } else {
    try {
      database = await openDatabase({ databaseUrl: env.DATABASE_URL, dataDir: env.DATA_DIR, migrate: false, poolSize: 1 });
      await database.query(sql`select 1`);
      reachable = true;
      checks.push({ name: 'database', ok: true, detail: `${kind} at ${where}: reachable` });
    } catch (err) {
      checks.push({ name: 'database', ok: false, detail: `${kind} at ${where}: unreachable: ${describeConnectionError(err, where)}` });
    }
  }
  let migrated = false;
  if (database && reachable) {
    const migrations = await describeMigrations(database).catch((err): DoctorCheck => ({ name: 'migrations', ok: false, detail: `cannot read: ${errorMessage(err)}` }));
    migrated = migrations.ok;
    checks.push(migrations);
  }
  const modelDir = resolve(env.MODEL_DIR);
  checks.push({ name: 'model dir', ok: true, detail: `${modelDir}${(await exists(modelDir)) ? '' : ' (does not exist yet)'}` });
  if (freshPglite) checks.push({ name: 'champion', ok: true, detail: 'none yet (run `churn train`)' });
  else if (database && migrated) checks.push(await describeChampion(database, env.MODEL_DIR));
  else if (database && reachable) checks.push({ name: 'champion', ok: false, detail: 'unknown until the migrations are applied' });
  else checks.push({ name: 'champion', ok: false, detail: 'unknown (database unreachable)' });
  checks.push({ name: 'stripe', ok: true, detail: describeStripe(env) });
  await database?.close().catch(() => {});
  return { checks, databaseReachable: reachable, failed: checks.filter((c) => !c.ok).map((c) => c.name) };
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check the runtime: node, TF.js backend, database, migrations, models, Stripe (exit 1 when any check fails)')
    .action(async () => {
      const env = parseEnv();
      const { checks, failed } = await runDoctor(env);
      const width = Math.max(...checks.map((c) => c.name.length));
      for (const c of checks) process.stdout.write(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name.padEnd(width)}  ${c.detail}\n`);
      if (failed.length) throw new ChurnError('UNAVAILABLE', `${failed.length} check(s) failed: ${failed.join(', ')}`);
    });
}
