import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDoctor } from '../../src/cli/doctor.js';
import type { Database } from '../../src/db/client.js';
import { parseEnv } from '../../src/env.js';
import { initBackend } from '../../src/ml/backend.js';
import { trainModel } from '../../src/ml/model.js';
import { promote, saveCandidate } from '../../src/ml/registry.js';
import { sliceRows, syntheticChurnData, syntheticFeatureSet } from '../../src/ml/synthetic.js';
import { createTestDatabase } from '../helpers/db.js';

describe('churn doctor', () => {
  let database: Database & { url?: string };
  let modelDir: string;
  beforeAll(async () => {
    await initBackend('wasm');
    database = await createTestDatabase('postgres');
    modelDir = await mkdtemp(join(tmpdir(), 'churn-doctor-'));
  });
  afterAll(async () => {
    await database?.close();
    await rm(modelDir, { recursive: true, force: true });
  });

  it('reports backend, reachable database, champion and dry-run Stripe', async () => {
    const fs = syntheticFeatureSet(4);
    const d = syntheticChurnData({ rows: 600, cols: 4, seed: 1, weights: [1] }, fs);
    const model = await trainModel({ train: sliceRows(d, 0, 300), valid: sliceRows(d, 300, 450), calib: sliceRows(d, 450, 600), featureSet: fs, seed: 1, now: new Date('2026-11-27T00:00:00Z'), options: { maxEpochs: 2 } });
    const row = await saveCandidate(database.db, { modelDir, model, now: new Date('2026-11-27T00:00:00Z') });
    await promote(database.db, 'churn', row.version, new Date('2026-11-27T00:01:00Z'));

    const { checks, databaseReachable } = await runDoctor(parseEnv({ DATABASE_URL: database.url, MODEL_DIR: modelDir }));
    const by = Object.fromEntries(checks.map((c) => [c.name, c]));
    expect(databaseReachable).toBe(true);
    expect(by['tfjs backend']!.detail).toBe('wasm');
    expect(by['database']!.detail).toMatch(/postgres at 127\.0\.0\.1:5432: reachable/);
    expect(by['champion']).toMatchObject({ ok: true });
    expect(by['champion']!.detail).toContain(row.version);
    expect(by['stripe']!.detail).toMatch(/^dry-run/);
  });

  it('flags an unreachable database without printing its password', async () => {
    const { checks, databaseReachable } = await runDoctor(
      parseEnv({ DATABASE_URL: 'postgres://churn:hunter2@127.0.0.1:1/none', STRIPE_SECRET_KEY: 'sk_live_abcdef' }),
    );
    expect(databaseReachable).toBe(false);
    const text = checks.map((c) => c.detail).join('\n');
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('sk_live_abcdef');
    expect(text).toContain('configured (secret key, live mode)');
  });
});
