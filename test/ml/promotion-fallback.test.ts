import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { initBackend } from '../../src/ml/backend.js';
import { readFile } from 'node:fs/promises';
import { championVersion, listModelVersions } from '../../src/ml/registry.js';
import { trainChurnModel } from '../../src/services/training/train-model.js';
import { writeTrainingReport } from '../../src/services/training/write-report.js';
import { simulateIntoDatabase } from '../../training/data.js';
import { createTestDatabase } from '../helpers/db.js';

describe('a training run whose network loses to the logistic regression', () => {
  let database: Database;
  const modelDir = mkdtempSync(join(tmpdir(), 'churn-fallback-'));
  beforeAll(async () => {
    await initBackend('cpu');
    database = await createTestDatabase('postgres');
    await simulateIntoDatabase(database, { customers: 2500, months: 10, seed: 3, quiet: true });
  });
  afterAll(async () => database?.close());

  it('chooses the logistic regression, promotes it, and the written report says so', async () => {
    // A network that cannot learn (no training steps to speak of) must lose to the logistic regression.
    const result = await trainChurnModel(database, {
      modelDir,
      now: new Date('2026-01-01T00:00:00Z'),
      seed: 5,
      modelOptions: { learningRate: 1e-9, maxEpochs: 1, patience: 1 },
      writeReport: writeTrainingReport,
    });
    expect(result.selection.chosen).toBe('logistic');
    expect(result.selection.validationAuc.network).toBeLessThan(result.selection.validationAuc.logistic);
    expect(result.metrics.overall.rocAuc).toBe(result.baselineMetrics.overall.rocAuc);
    expect(result.promoted).toBe(true);
    expect(result.promotedVersion).toBe(result.version);
    expect(result.decision).toMatchObject({ promote: true, promoted: 'candidate' });
    // the written report says what the run did (a fallback used to be reported as "not promoted")
    const report = await readFile(join(modelDir, 'churn', result.version, 'report.md'), 'utf8');
    expect(report).toContain('Model selection: logistic');
    expect(report).toContain('Decision: candidate promoted');
    expect(report).toContain(`champion is now ${result.promotedVersion}`);
    const json = JSON.parse(await readFile(join(modelDir, 'churn', result.version, 'report.json'), 'utf8'));
    expect(json.decision).toEqual(result.decision);
    const saved = JSON.parse(await readFile(join(modelDir, 'churn', result.version, 'metadata.json'), 'utf8'));
    expect(saved.architecture).toBe('logistic');
    expect(saved.selection.chosen).toBe('logistic');
    const champion = await championVersion(database.db);
    expect(champion?.version).toBe(result.promotedVersion);
    const versions = await listModelVersions(database.db);
    expect(versions.map((v) => v.status)).toEqual(['champion']);

    // The next run's crippled network loses again, and the old baseline is no worse than the new one:
    // the champion stays unless the new baseline beats it.
    const again = await trainChurnModel(database, { modelDir, now: new Date('2026-01-02T00:00:00Z'), seed: 5, modelOptions: { learningRate: 1e-9, maxEpochs: 1, patience: 1 } });
    expect(again.decision.reason).toMatch(/current champion/);
  });
});
