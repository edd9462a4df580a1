import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { initBackend } from '../../src/ml/backend.js';
import { trainModel, type ChurnModel } from '../../src/ml/model.js';
import { scoreMatrix } from '../../src/ml/predict.js';
import {
  championVersion,
  finishTrainingRun,
  listModelVersions,
  modelVersionId,
  ModelRegistry,
  promote,
  rollback,
  saveCandidate,
  startTrainingRun,
} from '../../src/ml/registry.js';
import { sliceRows, syntheticChurnData, syntheticFeatureSet } from '../../src/ml/synthetic.js';
import { createTestDatabase, describeEachDb } from '../helpers/db.js';

const featureSet = syntheticFeatureSet(6);
const data = syntheticChurnData({ rows: 2_000, cols: 6, seed: 3, weights: [1, -1, 0.5] }, featureSet);
const split = { train: sliceRows(data, 0, 1000), valid: sliceRows(data, 1000, 1400), calib: sliceRows(data, 1400, 2000) };
const probe = sliceRows(data, 0, 20).x;
const at = (iso: string) => new Date(iso);

let modelA: ChurnModel;
let modelB: ChurnModel;
beforeAll(async () => {
  await initBackend('wasm');
  const train = (seed: number, hidden: number[]) => trainModel({ ...split, featureSet, seed, now: at('2026-11-01T00:00:00Z'), options: { maxEpochs: 3, hidden } });
  modelA = await train(1, [8]);
  modelB = await train(2, [16, 4]);
});

it('version ids sort by training time', () => {
  const a = modelVersionId(at('2026-11-27T10:15:00Z'), 'abcdef1234');
  const b = modelVersionId(at('2026-12-01T00:00:00Z'), '0000000000');
  expect(a).toBe('v20261127T101500Z-abcdef1');
  expect([b, a].sort()).toEqual([a, b]);
});

describeEachDb('model registry', (kind) => {
  let database: Database;
  let modelDir: string;
  let clockMs = 0;
  let registry: ModelRegistry;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    modelDir = await mkdtemp(join(tmpdir(), 'churn-registry-'));
    registry = new ModelRegistry({ db: database.db, modelDir, featureSet, checkEverySeconds: 30, clock: () => clockMs });
  });
  afterAll(async () => {
    await database?.close();
    await rm(modelDir, { recursive: true, force: true });
  });

  it('promotes, hot-reloads the champion after the check interval, rolls back and survives a corrupt model', async () => {
    const db = database.db;
    expect(await registry.champion()).toBeNull();

    const a = await saveCandidate(db, { modelDir, model: modelA, now: at('2026-11-01T00:00:00Z') });
    const b = await saveCandidate(db, { modelDir, model: modelB, now: at('2026-11-02T00:00:00Z') });
    expect(a.status).toBe('candidate');
    expect((await listModelVersions(db)).map((r) => r.version)).toEqual([b.version, a.version]);

    await promote(db, 'churn', a.version, at('2026-11-03T00:00:00Z'));
    const servingA = await registry.refresh();
    expect(servingA?.metadata.version).toBe(a.version);
    expect(Array.from(scoreMatrix(servingA!, probe))).toEqual(Array.from(scoreMatrix(modelA, probe)));

    await promote(db, 'churn', b.version, at('2026-11-04T00:00:00Z'));
    const rows = await listModelVersions(db);
    expect(rows.find((r) => r.version === a.version)?.status).toBe('retired');
    expect(rows.filter((r) => r.status === 'champion').map((r) => r.version)).toEqual([b.version]);

    clockMs += 10_000; // within the check interval: no database round trip, still A
    expect((await registry.champion())?.metadata.version).toBe(a.version);
    clockMs += 25_000; // interval passed: B is picked up without a restart
    const servingB = await registry.champion();
    expect(servingB?.metadata.version).toBe(b.version);
    expect(Array.from(scoreMatrix(servingB!, probe))).toEqual(Array.from(scoreMatrix(modelB, probe)));

    const { retired, restored } = await rollback(db, 'churn', at('2026-11-05T00:00:00Z'));
    expect(retired).toMatchObject({ version: b.version, status: 'retired' });
    expect(restored).toMatchObject({ version: a.version, status: 'champion' });
    expect((await registry.refresh())?.metadata.version).toBe(a.version);
    // nothing was champion before A: a second rollback has nowhere to go
    await expect(rollback(db, 'churn', at('2026-11-06T00:00:00Z'))).rejects.toThrow(/no previous champion/);

    // a promoted version whose model.json is corrupt: A keeps serving, the error is visible
    const c = await saveCandidate(db, { modelDir, model: modelB, now: at('2026-11-07T00:00:00Z') });
    await writeFile(join(modelDir, c.path, 'model.json'), '{"modelTopology": {"truncated');
    await promote(db, 'churn', c.version, at('2026-11-08T00:00:00Z'));
    const stillA = await registry.refresh();
    expect(stillA?.metadata.version).toBe(a.version);
    expect(registry.status().lastError).toMatch(new RegExp(`${c.version}.*model files`));
    expect(scoreMatrix(stillA!, probe)).toHaveLength(20);

    // same for missing weights
    const d = await saveCandidate(db, { modelDir, model: modelA, now: at('2026-11-09T00:00:00Z') });
    await rm(join(modelDir, d.path, 'weights.bin'));
    await promote(db, 'churn', d.version, at('2026-11-10T00:00:00Z'));
    expect((await registry.refresh())?.metadata.version).toBe(a.version);
    expect((await championVersion(db))?.version).toBe(d.version);
  });

  it('refuses to promote an unknown version', async () => {
    await expect(promote(database.db, 'churn', 'v-nope', at('2026-11-11T00:00:00Z'))).rejects.toThrow(/no version v-nope/);
  });

  it('records training runs', async () => {
    const run = await startTrainingRun(database.db, { trigger: 'cli', params: { seed: 1 }, now: at('2026-11-12T00:00:00Z') });
    expect(run.status).toBe('running');
    const done = await finishTrainingRun(database.db, run.id, {
      status: 'succeeded',
      now: at('2026-11-12T00:01:00Z'),
      modelVersion: 'v1',
      decision: { promote: false, reason: 'does not beat the baseline' },
    });
    expect(done).toMatchObject({ status: 'succeeded', modelVersion: 'v1' });
    expect(done.finishedAt?.toISOString()).toBe('2026-11-12T00:01:00.000Z');
  });
});
