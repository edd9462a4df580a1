import { access, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { databaseReachable, openDatabase, type Database } from '../db/client.js';
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
    return { name: 'champion', ok: false, detail: `cannot read model_versions (run \`churn migrate\`?): ${errorMessage((err as { cause?: unknown }).cause ?? err)}` };
  }
}

/** Everything `churn doctor` checks; the database being unreachable is the one fatal finding. */
export async function runDoctor(env: Env): Promise<{ checks: DoctorCheck[]; databaseReachable: boolean }> {
  const checks: DoctorCheck[] = [{ name: 'node', ok: true, detail: process.version }];
  try {
    checks.push({ name: 'tfjs backend', ok: true, detail: await initBackend(env.TFJS_BACKEND) });
  } catch (err) {
    checks.push({ name: 'tfjs backend', ok: false, detail: errorMessage(err) });
  }
  const kind = env.DATABASE_URL ? 'postgres' : 'pglite';
  // Never print the URL: it may carry a password.
  const where = env.DATABASE_URL ? new URL(env.DATABASE_URL).host : resolve(env.DATA_DIR);
  let database: Database | null = null;
  let reachable = false;
  try {
    database = await openDatabase({ databaseUrl: env.DATABASE_URL, dataDir: env.DATA_DIR, migrate: false, poolSize: 1 });
    reachable = await databaseReachable(database);
    checks.push({ name: 'database', ok: reachable, detail: `${kind} at ${where}: ${reachable ? 'reachable' : 'unreachable'}` });
  } catch (err) {
    checks.push({ name: 'database', ok: false, detail: `${kind} at ${where}: unreachable (${errorMessage(err)})` });
  }
  const modelDir = resolve(env.MODEL_DIR);
  checks.push({ name: 'model dir', ok: true, detail: `${modelDir}${(await exists(modelDir)) ? '' : ' (does not exist yet)'}` });
  if (database && reachable) checks.push(await describeChampion(database, env.MODEL_DIR));
  else checks.push({ name: 'champion', ok: false, detail: 'unknown (database unreachable)' });
  checks.push({ name: 'stripe', ok: true, detail: describeStripe(env) });
  await database?.close().catch(() => {});
  return { checks, databaseReachable: reachable };
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check the runtime: node, TF.js backend, database, models, Stripe')
    .action(async () => {
      const env = parseEnv();
      const { checks, databaseReachable: reachable } = await runDoctor(env);
      const width = Math.max(...checks.map((c) => c.name.length));
      for (const c of checks) process.stdout.write(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name.padEnd(width)}  ${c.detail}\n`);
      if (!reachable) throw new ChurnError('UNAVAILABLE', 'database unreachable');
    });
}
