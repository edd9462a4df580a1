import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { initBackend } from '../../src/ml/backend.js';
import { featureSet } from '../../src/ml/features.js';
import { trainModel } from '../../src/ml/model.js';
import { promote, saveCandidate } from '../../src/ml/registry.js';
import { sliceRows, syntheticChurnData } from '../../src/ml/synthetic.js';
import { MODEL_RELOAD_SECONDS, startServer, type RunningServer } from '../../src/server.js';
import { testEnv } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/db.js';

/**
 * A champion promoted outside the serving process (as `churn train` or another instance's API does:
 * files in MODEL_DIR and a row in model_versions, nothing else) is put in service by `churn serve`
 * on its own, without any request asking for a score, and /healthz and /readyz say which version.
 */

let database: Database;
let modelDir: string;
let server: RunningServer;

beforeAll(async () => {
  await initBackend('cpu');
  database = await createTestDatabase('postgres');
  modelDir = await mkdtemp(join(tmpdir(), 'churn-reload-'));
  server = await startServer(database, testEnv({ MODEL_DIR: modelDir }), { port: 0, host: '127.0.0.1', relay: false });
}, 60_000);
afterAll(async () => {
  await server?.close();
  await database?.close();
  if (modelDir) await rm(modelDir, { recursive: true, force: true });
});

/** A small real model on the live feature set, saved and promoted the way training does it. */
async function promoteOutsideTheServer(now: Date): Promise<string> {
  const features = featureSet();
  const data = syntheticChurnData({ rows: 2_000, cols: features.features.length, seed: 3, weights: [1, -1, 0.5] }, features);
  const n = data.x.rows;
  const model = await trainModel({
    train: sliceRows(data, 0, 1_200),
    valid: sliceRows(data, 1_200, 1_600),
    calib: sliceRows(data, 1_600, n),
    featureSet: features,
    seed: 1,
    now,
    options: { maxEpochs: 2, hidden: [8] },
  });
  const saved = await saveCandidate(database.db, { modelDir, model, now });
  await promote(database.db, saved.name, saved.version, now);
  model.network.dispose();
  return saved.version;
}

const health = async () => (await (await fetch(`${server.url}/healthz`)).json()) as { model: { version: string | null } };

it(`puts a champion promoted by another process in service within ${MODEL_RELOAD_SECONDS} s, with no request asking for it; /healthz and /readyz name it`, async () => {
  expect((await health()).model.version).toBeNull();
  const version = await promoteOutsideTheServer(new Date('2026-03-01T00:00:00Z'));
  const promotedAt = Date.now();
  let seen: string | null = null;
  while (Date.now() - promotedAt < (MODEL_RELOAD_SECONDS + 5) * 1000) {
    // only health is read, which never loads a model itself
    seen = (await health()).model.version;
    if (seen === version) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  expect(seen).toBe(version);
  expect(Date.now() - promotedAt).toBeLessThan(30_000);
  const ready = (await (await fetch(`${server.url}/readyz`)).json()) as { status: string; model?: { version: string | null } };
  expect(ready).toMatchObject({ status: 'ready', model: { version } });
}, 60_000);
