import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { and, desc, eq, lt, sql } from 'drizzle-orm';
import type { Db, DbOrTx } from '../db/client.js';
import { modelVersions, trainingRuns } from '../db/schema/ml.js';
import { ChurnError, errorMessage } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import { logger as defaultLogger, type Logger } from '../lib/logger.js';
import { tf } from './backend.js';
// Side effect: registers the SeededDropout layer class, which saved topologies name.
import './network.js';
import type { ChurnModel, ModelMetadata } from './model.js';
import type { FeatureSet } from './types.js';
import { featureSetWithVocabulary } from './catalogue.js';

export const DEFAULT_MODEL_NAME = 'churn';

/** The model files could not be read or do not describe a usable model. */
export class ModelLoadError extends Error {
  constructor(readonly dir: string, message: string, options?: { cause?: unknown }) {
    super(`model at ${dir}: ${message}`, options);
    this.name = 'ModelLoadError';
  }
}

// ---------------------------------------------------------------------------------------------
// Files: models/<name>/<version>/{model.json, weights.bin, metadata.json}

/** Sortable version id from the training time and data hash: v20261127T101500Z-1a2b3c4. */
export function modelVersionId(now: Date, dataHash: string): string {
  const stamp = now.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
  return `v${stamp}-${dataHash.slice(0, 7)}`;
}

export function modelVersionDir(modelDir: string, name: string, version: string): string {
  return join(modelDir, name, version);
}

function joinWeights(weightData: tf.io.WeightData): ArrayBuffer {
  return Array.isArray(weightData) ? tf.io.CompositeArrayBuffer.join(weightData) : weightData;
}

/**
 * Writes model.json + weights.bin + metadata.json into `dir`. Files go to a sibling temp folder
 * first and are renamed into place, so a reader never sees half a model.
 */
export async function saveModelFiles(model: ChurnModel, dir: string): Promise<void> {
  const temp = `${dir}.tmp-${process.pid}-${Math.floor(performance.now())}`;
  await rm(temp, { recursive: true, force: true });
  await mkdir(temp, { recursive: true });
  try {
    await model.network.save(
      tf.io.withSaveHandler(async (artifacts) => {
        const weights = joinWeights(artifacts.weightData ?? new ArrayBuffer(0));
        const modelJson = {
          format: 'layers-model',
          generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
          convertedBy: null,
          modelTopology: artifacts.modelTopology,
          weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
        };
        await writeFile(join(temp, 'model.json'), JSON.stringify(modelJson));
        await writeFile(join(temp, 'weights.bin'), new Uint8Array(weights));
        return { modelArtifactsInfo: { dateSaved: new Date(model.metadata.createdAt), modelTopologyType: 'JSON', weightDataBytes: weights.byteLength } };
      }),
    );
    await writeFile(join(temp, 'metadata.json'), JSON.stringify(model.metadata, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2));
    await mkdir(join(dir, '..'), { recursive: true });
    await rename(temp, dir);
  } catch (err) {
    await rm(temp, { recursive: true, force: true });
    throw err;
  }
}

const BYTES_PER_DTYPE: Record<string, number> = { float32: 4, int32: 4, bool: 1 };

/**
 * Loads a saved model and re-binds the live feature set's sentence functions by name. Refuses a
 * model whose feature version or feature names differ from the live set: its columns would mean
 * something else.
 */
export async function loadModelFiles(dir: string, featureSet: FeatureSet): Promise<ChurnModel> {
  let metadata: ModelMetadata;
  let modelJson: { modelTopology?: unknown; weightsManifest?: Array<{ weights: tf.io.WeightsManifestEntry[] }> };
  let weights: Buffer;
  try {
    metadata = JSON.parse(await readFile(join(dir, 'metadata.json'), 'utf8')) as ModelMetadata;
    modelJson = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    weights = await readFile(join(dir, 'weights.bin'));
  } catch (err) {
    throw new ModelLoadError(dir, `cannot read model files: ${errorMessage(err)}`, { cause: err });
  }
  if (metadata.format !== 'churn-model/1') throw new ModelLoadError(dir, `unknown metadata format ${String(metadata.format)}`);
  if (metadata.featureSet.version !== featureSet.version) {
    throw new ModelLoadError(dir, `trained on feature set ${metadata.featureSet.version}, the running code computes ${featureSet.version}`);
  }
  const live = new Set(featureSet.features.map((f) => f.name));
  const missing = metadata.featureSet.features.filter((f) => !live.has(f.name)).map((f) => f.name);
  if (missing.length) throw new ModelLoadError(dir, `features missing from feature set ${featureSet.version}: ${missing.join(', ')}`);
  if (!modelJson.modelTopology || !Array.isArray(modelJson.weightsManifest)) throw new ModelLoadError(dir, 'model.json has no topology or weights manifest');
  const weightSpecs = modelJson.weightsManifest.flatMap((group) => group.weights);
  const expectedBytes = weightSpecs.reduce((sum, s) => sum + s.shape.reduce((a, b) => a * b, 1) * (BYTES_PER_DTYPE[s.dtype] ?? 4), 0);
  if (weights.byteLength !== expectedBytes) {
    throw new ModelLoadError(dir, `weights.bin has ${weights.byteLength} bytes, model.json describes ${expectedBytes}`);
  }
  const weightData = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer;
  try {
    const network = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology as object, weightSpecs, weightData }));
    const inputDim = (network.inputs[0]!.shape[1] ?? 0) as number;
    if (inputDim !== metadata.featureSet.features.length) {
      network.dispose();
      throw new Error(`network takes ${inputDim} inputs, metadata lists ${metadata.featureSet.features.length} features`);
    }
    return { network, metadata, featureSet: featureSetWithVocabulary(featureSet, metadata.vocabulary) };
  } catch (err) {
    throw new ModelLoadError(dir, `cannot build the network: ${errorMessage(err)}`, { cause: err });
  }
}

// ---------------------------------------------------------------------------------------------
// Table: model_versions

export type ModelVersionRow = typeof modelVersions.$inferSelect;
export type ModelStatus = 'candidate' | 'champion' | 'retired';

export interface RegisterCandidateInput {
  name: string;
  version: string;
  /** held-out metrics (model and baseline) shown by the API and dashboard */
  metrics: Record<string, unknown>;
  /** model files directory, relative to MODEL_DIR */
  path: string;
  featureVersion?: string;
  now: Date;
}

export async function registerCandidate(db: DbOrTx, input: RegisterCandidateInput): Promise<ModelVersionRow> {
  const [row] = await db
    .insert(modelVersions)
    .values({
      name: input.name,
      version: input.version,
      status: 'candidate',
      metrics: input.metrics,
      path: input.path,
      featureVersion: input.featureVersion ?? null,
      createdAt: input.now,
    })
    .returning();
  return row!;
}

/**
 * Saves a trained model's files under MODEL_DIR/<name>/<version>/ and registers it as a candidate.
 * The version comes from `now` and the data hash, so the same run always gets the same id.
 */
export async function saveCandidate(
  db: DbOrTx,
  input: { modelDir: string; name?: string; model: ChurnModel; now: Date; versionSuffix?: string },
): Promise<ModelVersionRow> {
  const name = input.name ?? DEFAULT_MODEL_NAME;
  const version = modelVersionId(input.now, input.model.metadata.dataHash) + (input.versionSuffix ? `-${input.versionSuffix}` : '');
  input.model.metadata.name = name;
  input.model.metadata.version = version;
  const path = join(name, version);
  await saveModelFiles(input.model, join(input.modelDir, path));
  return registerCandidate(db, {
    name,
    version,
    metrics: { model: input.model.metadata.metrics ?? null, baseline: input.model.metadata.baselineMetrics ?? null },
    path,
    featureVersion: input.model.metadata.featureSet.version,
    now: input.now,
  });
}

export async function championVersion(db: DbOrTx, name: string = DEFAULT_MODEL_NAME): Promise<ModelVersionRow | null> {
  const [row] = await db
    .select()
    .from(modelVersions)
    .where(and(eq(modelVersions.name, name), eq(modelVersions.status, 'champion')))
    .limit(1);
  return row ?? null;
}

export async function listModelVersions(db: DbOrTx, name: string = DEFAULT_MODEL_NAME): Promise<ModelVersionRow[]> {
  return db.select().from(modelVersions).where(eq(modelVersions.name, name)).orderBy(desc(modelVersions.version));
}

async function lockVersions(tx: DbOrTx, name: string): Promise<void> {
  // Serialises promote/rollback per model name; row locks alone miss the "no champion yet" case.
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`model_versions:${name}`}))`);
}

/** Makes `version` the champion and retires the current one, atomically. */
export async function promote(db: Db, name: string, version: string, now: Date): Promise<ModelVersionRow> {
  return db.transaction(async (tx) => {
    await lockVersions(tx, name);
    const [target] = await tx
      .select()
      .from(modelVersions)
      .where(and(eq(modelVersions.name, name), eq(modelVersions.version, version)));
    if (!target) throw new ChurnError('NOT_FOUND', `model ${name} has no version ${version}`);
    if (target.status === 'champion') return target;
    await tx
      .update(modelVersions)
      .set({ status: 'retired', retiredAt: now })
      .where(and(eq(modelVersions.name, name), eq(modelVersions.status, 'champion')));
    const [row] = await tx
      .update(modelVersions)
      .set({ status: 'champion', promotedAt: now, retiredAt: null })
      .where(and(eq(modelVersions.name, name), eq(modelVersions.version, version)))
      .returning();
    return row!;
  });
}

/**
 * Puts the previous champion back in service and retires the current one. "Previous" is the
 * retired version most recently promoted before the current champion was; a restored version
 * keeps its original promoted_at, so repeated rollbacks walk further back instead of toggling.
 */
export async function rollback(db: Db, name: string, now: Date): Promise<{ retired: ModelVersionRow; restored: ModelVersionRow }> {
  return db.transaction(async (tx) => {
    await lockVersions(tx, name);
    const current = await championVersion(tx, name);
    if (!current) throw new ChurnError('CONFLICT', `model ${name} has no champion to roll back`);
    const [previous] = await tx
      .select()
      .from(modelVersions)
      .where(
        and(
          eq(modelVersions.name, name),
          eq(modelVersions.status, 'retired'),
          lt(modelVersions.promotedAt, current.promotedAt ?? now),
        ),
      )
      .orderBy(desc(modelVersions.promotedAt))
      .limit(1);
    if (!previous) throw new ChurnError('CONFLICT', `model ${name} has no previous champion to roll back to`);
    const [retired] = await tx
      .update(modelVersions)
      .set({ status: 'retired', retiredAt: now })
      .where(and(eq(modelVersions.name, name), eq(modelVersions.version, current.version)))
      .returning();
    const [restored] = await tx
      .update(modelVersions)
      .set({ status: 'champion', retiredAt: null })
      .where(and(eq(modelVersions.name, name), eq(modelVersions.version, previous.version)))
      .returning();
    return { retired: retired!, restored: restored! };
  });
}

// ---------------------------------------------------------------------------------------------
// Table: training_runs

export type TrainingRunRow = typeof trainingRuns.$inferSelect;

export async function startTrainingRun(
  db: DbOrTx,
  input: { modelName?: string; trigger?: string; params?: Record<string, unknown>; now: Date; id?: string },
): Promise<TrainingRunRow> {
  const [row] = await db
    .insert(trainingRuns)
    .values({
      id: input.id ?? newId('trn'),
      modelName: input.modelName ?? DEFAULT_MODEL_NAME,
      status: 'running',
      trigger: input.trigger ?? 'cli',
      params: input.params ?? {},
      startedAt: input.now,
    })
    .returning();
  return row!;
}

export async function finishTrainingRun(
  db: DbOrTx,
  id: string,
  input: {
    status: 'succeeded' | 'failed';
    now: Date;
    modelVersion?: string;
    metrics?: Record<string, unknown>;
    decision?: Record<string, unknown>;
    reportPath?: string;
    error?: string;
  },
): Promise<TrainingRunRow> {
  const [row] = await db
    .update(trainingRuns)
    .set({
      status: input.status,
      finishedAt: input.now,
      modelVersion: input.modelVersion ?? null,
      metrics: input.metrics ?? null,
      decision: input.decision ?? null,
      reportPath: input.reportPath ?? null,
      error: input.error ?? null,
    })
    .where(eq(trainingRuns.id, id))
    .returning();
  if (!row) throw new ChurnError('NOT_FOUND', `training run ${id} not found`);
  return row;
}

// ---------------------------------------------------------------------------------------------
// Serving: the champion, hot-reloaded

export interface ModelRegistryOptions {
  db: Db;
  modelDir: string;
  featureSet: FeatureSet;
  name?: string;
  /** how often champion() looks at the table at most (default 30 s); refresh() checks now */
  checkEverySeconds?: number;
  /** milliseconds clock for the check interval (injected in tests) */
  clock?: () => number;
  logger?: Logger;
}

export interface ModelRegistryStatus {
  name: string;
  version: string | null;
  lastCheckedAt: number | null;
  /** set while the table's champion could not be loaded and an older one keeps serving */
  lastError: string | null;
}

/**
 * Serves the current champion. champion() is cheap: at most every `checkEverySeconds` it reads
 * the champion row and, when the version changed, loads the new files. If they are missing or
 * corrupt it logs why and keeps the previous champion serving, so a bad promotion never takes
 * scoring down.
 */
export class ModelRegistry {
  readonly name: string;
  private readonly options: ModelRegistryOptions;
  private readonly clock: () => number;
  private readonly log: Logger;
  private current: ChurnModel | null = null;
  private lastCheckedAt: number | null = null;
  private lastError: string | null = null;
  private inflight: Promise<ChurnModel | null> | null = null;

  constructor(options: ModelRegistryOptions) {
    this.options = options;
    this.name = options.name ?? DEFAULT_MODEL_NAME;
    this.clock = options.clock ?? (() => Date.now());
    this.log = options.logger ?? defaultLogger;
  }

  /** The loaded champion (null when none has ever been promoted or loaded). */
  async champion(options: { force?: boolean } = {}): Promise<ChurnModel | null> {
    const interval = (this.options.checkEverySeconds ?? 30) * 1000;
    const due = options.force || this.lastCheckedAt === null || this.clock() - this.lastCheckedAt >= interval;
    if (!due) return this.current;
    if (!this.inflight) this.inflight = this.check().finally(() => (this.inflight = null));
    return this.inflight;
  }

  /** Checks the table now (after a promotion, or from /readyz). */
  refresh(): Promise<ChurnModel | null> {
    return this.champion({ force: true });
  }

  status(): ModelRegistryStatus {
    return { name: this.name, version: this.current?.metadata.version ?? null, lastCheckedAt: this.lastCheckedAt, lastError: this.lastError };
  }

  private async check(): Promise<ChurnModel | null> {
    this.lastCheckedAt = this.clock();
    let row: ModelVersionRow | null;
    try {
      row = await championVersion(this.options.db, this.name);
    } catch (err) {
      this.lastError = `cannot read model_versions: ${errorMessage(err)}`;
      this.log.error({ model: this.name, err: errorMessage(err) }, 'model registry: champion lookup failed, keeping the loaded model');
      return this.current;
    }
    if (!row || row.version === this.current?.metadata.version) return this.current;
    const dir = isAbsolute(row.path) ? row.path : join(this.options.modelDir, row.path);
    try {
      const loaded = await loadModelFiles(dir, this.options.featureSet);
      loaded.metadata.name = row.name;
      loaded.metadata.version = row.version;
      const previous = this.current?.metadata.version ?? null;
      this.current = loaded;
      this.lastError = null;
      this.log.info({ model: this.name, version: row.version, previous }, 'model registry: champion loaded');
    } catch (err) {
      this.lastError = `champion ${row.version} could not be loaded: ${errorMessage(err)}`;
      this.log.error(
        { model: this.name, version: row.version, serving: this.current?.metadata.version ?? null, err: errorMessage(err) },
        'model registry: new champion could not be loaded; keeping the previous champion in service',
      );
    }
    return this.current;
  }
}
