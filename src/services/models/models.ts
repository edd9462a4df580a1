import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { eq } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { trainingRuns } from '../../db/schema/index.js';
import { ChurnError } from '../../lib/errors.js';
import { championVersion, DEFAULT_MODEL_NAME, listModelVersions, promote, rollback, type ModelVersionRow } from '../../ml/registry.js';
import { writeAudit, type Actor } from '../policies/store.js';

/** Model versions for the API, and promote/rollback written to the audit log with the change. */

export interface ModelView {
  name: string;
  version: string;
  status: string;
  metrics: Record<string, unknown>;
  featureVersion: string | null;
  createdAt: string;
  promotedAt: string | null;
  retiredAt: string | null;
}

export function modelView(r: ModelVersionRow): ModelView {
  return {
    name: r.name, version: r.version, status: r.status, metrics: r.metrics, featureVersion: r.featureVersion,
    createdAt: r.createdAt.toISOString(), promotedAt: r.promotedAt?.toISOString() ?? null, retiredAt: r.retiredAt?.toISOString() ?? null,
  };
}

export async function listModels(database: Database, name = DEFAULT_MODEL_NAME): Promise<ModelView[]> {
  return (await listModelVersions(database.db, name)).map(modelView);
}

async function readJson(path: string): Promise<unknown | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** A version's metrics plus its evaluation.json (ROC, PR, calibration) when the report was written. */
export async function modelReport(database: Database, modelDir: string, version: string | 'champion', name = DEFAULT_MODEL_NAME): Promise<{ model: ModelView; evaluation: unknown | null }> {
  const row = version === 'champion' ? await championVersion(database.db, name) : (await listModelVersions(database.db, name)).find((v) => v.version === version);
  if (!row) throw new ChurnError('NOT_FOUND', version === 'champion' ? `model ${name} has no champion yet` : `model ${name} has no version ${version}`);
  const dir = isAbsolute(row.path) ? row.path : join(modelDir, row.path);
  return { model: modelView(row), evaluation: await readJson(join(dir, 'evaluation.json')) };
}

export async function promoteModel(database: Database, input: { version: string; actor: Actor; now: Date; name?: string }): Promise<ModelView> {
  const name = input.name ?? DEFAULT_MODEL_NAME;
  // promote's own transaction becomes a savepoint inside this one, so the audit row commits with it
  return database.db.transaction(async (tx) => {
    const before = await championVersion(tx, name);
    const row = await promote(tx, name, input.version, input.now);
    await writeAudit(tx, { actor: input.actor, action: 'model.promote', entityType: 'model', entityId: `${name}/${row.version}`, before: before ? { champion: before.version } : null, after: { champion: row.version } });
    return modelView(row);
  });
}

export async function rollbackModel(database: Database, input: { actor: Actor; now: Date; name?: string }): Promise<{ retired: ModelView; restored: ModelView }> {
  const name = input.name ?? DEFAULT_MODEL_NAME;
  return database.db.transaction(async (tx) => {
    const { retired, restored } = await rollback(tx, name, input.now);
    await writeAudit(tx, { actor: input.actor, action: 'model.rollback', entityType: 'model', entityId: `${name}/${restored.version}`, before: { champion: retired.version }, after: { champion: restored.version } });
    return { retired: modelView(retired), restored: modelView(restored) };
  });
}

export async function getTrainingRun(database: Database, id: string) {
  const [row] = await database.db.select().from(trainingRuns).where(eq(trainingRuns.id, id));
  if (!row) throw new ChurnError('NOT_FOUND', `no training run ${id}`);
  return {
    id: row.id, modelName: row.modelName, status: row.status, trigger: row.trigger, params: row.params, modelVersion: row.modelVersion,
    metrics: row.metrics, decision: row.decision, error: row.error, startedAt: row.startedAt.toISOString(), finishedAt: row.finishedAt?.toISOString() ?? null,
  };
}
