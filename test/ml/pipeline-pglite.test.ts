import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { parseTrainFlags } from '../../src/cli/train.js';
import type { Database } from '../../src/db/client.js';
import { UsageError } from '../../src/lib/errors.js';
import { initBackend } from '../../src/ml/backend.js';
import { featureSet } from '../../src/ml/features.js';
import { championVersion, loadModelFiles } from '../../src/ml/registry.js';
import { scoreAllCustomers } from '../../src/services/scoring/score-all-customers.js';
import { trainChurnModel } from '../../src/services/training/train-model.js';
import { simulateIntoDatabase } from '../../training/data.js';
import { createTestDatabase } from '../helpers/db.js';

/** The embedded database runs the same training and scoring path (small world: PGlite ingests slower). */
describe('churn pipeline on a small simulated account [pglite]', () => {
  let db: Database;
  let modelDir: string;
  let end: number;
  beforeAll(async () => {
    await initBackend();
    db = await createTestDatabase('pglite');
    modelDir = await mkdtemp(join(tmpdir(), 'churn-models-'));
    ({ summary: { end } } = await simulateIntoDatabase(db, { customers: 500, months: 9, seed: 5, quiet: true, accounts: 2 }));
  }, 120_000);
  afterAll(async () => {
    await db?.close();
    if (modelDir) await rm(modelDir, { recursive: true, force: true });
  });

  it('trains, registers and scores connected accounts end to end', async () => {
    const trained = await trainChurnModel(db, { modelDir, seed: 1, now: new Date(end * 1000), split: { minTrainPositives: 10 } });
    expect(trained.data.positives.test).toBeGreaterThan(0);
    // quality is judged on the larger Postgres world; 500 customers only prove the path works
    expect(trained.metrics.overall.rocAuc).toBeGreaterThanOrEqual(0);
    expect(trained.metrics.overall.rocAuc).toBeLessThanOrEqual(1);
    // the champion is the network, or its logistic baseline when the network lost to it
    const row = trained.promoted ? await championVersion(db.db) : null;
    if (trained.promoted) expect(row?.version).toBe(trained.promotedVersion);
    const model = await loadModelFiles(join(modelDir, 'churn', trained.version), featureSet());
    model.metadata.version = trained.version;
    const result = await scoreAllCustomers(db, { asOf: end - 1, model });
    expect(result.customers.length).toBeGreaterThan(100);
    expect(new Set(result.customers.map((c) => c.account)).size).toBe(2);
    const [{ n }] = await db.query<{ n: number }>(sql`select count(*)::int as n from scores where model_version = ${trained.version}`);
    expect(n).toBe(result.customers.length);
    model.network.dispose();
  }, 120_000);
});

describe('churn train / score flags', () => {
  it('rejects bad flags as usage errors (exit code 2)', async () => {
    expect(() => parseTrainFlags({ horizonDays: 'soon' })).toThrow(UsageError);
    expect(() => parseTrainFlags({ horizonDays: '0' })).toThrow(/between 1 and 365/);
    expect(() => parseTrainFlags({ asOf: 'yesterday' })).toThrow(/ISO date/);
    expect(() => parseTrainFlags({ maxSnapshots: '2' })).toThrow(/at least 3/);
    expect(parseTrainFlags({ asOf: '2026-01-01', horizonDays: '60', seed: '9', account: ['acct_1'] })).toEqual({
      asOf: Date.UTC(2026, 0, 1) / 1000,
      horizonDays: 60,
      seed: 9,
      maxSnapshots: 24,
      accounts: ['acct_1'],
    });
    const stderr = process.stderr.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      expect(await runCli(['node', 'churn', 'train', '--horizon-days', 'x'])).toBe(2);
      expect(await runCli(['node', 'churn', 'score', '--as-of', 'not-a-date'])).toBe(2);
    } finally {
      process.stderr.write = stderr;
    }
  });
});
