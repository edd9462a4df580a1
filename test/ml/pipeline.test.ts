import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { initBackend } from '../../src/ml/backend.js';
import { buildTrainingSet, InsufficientDataError } from '../../src/ml/dataset.js';
import { featureMatrixAt } from '../../src/ml/features.js';
import { championVersion, listModelVersions } from '../../src/ml/registry.js';
import { scoreAllCustomers } from '../../src/services/scoring/score-all-customers.js';
import { AT_RISK_CSV_HEADER, atRiskCsv, rankAtRisk } from '../../src/services/scoring/at-risk.js';
import { trainChurnModel } from '../../src/services/training/train-model.js';
import { writeTrainingReport } from '../../src/services/training/write-report.js';
import { loadModelFiles } from '../../src/ml/registry.js';
import { featureSet } from '../../src/ml/features.js';
import { DAY_SECONDS } from '../../src/db/queries/features.sql.js';
import { simulateIntoDatabase, type OracleTable } from '../../training/data.js';
import { compareWithOracle } from '../../training/quality.js';
import { createTestDatabase } from '../helpers/db.js';

/**
 * The whole data side on a small simulated account: Stripe events -> ingestEvents -> projections ->
 * monthly snapshots -> time split -> train (MLP + baseline) -> register + promote -> score all
 * customers. The quality bar is a looser version of training/quality.ts: the model must come close
 * to the simulator's true probabilities on the newest, held-out months, and be calibrated.
 */
describe('churn pipeline on a simulated account [postgres]', () => {
  let db: Database;
  let modelDir: string;
  let oracle: OracleTable;
  let end: number;
  let quality: ReturnType<typeof compareWithOracle> | undefined;
  let trained: Awaited<ReturnType<typeof trainChurnModel>>;

  beforeAll(async () => {
    await initBackend();
    db = await createTestDatabase('postgres');
    modelDir = await mkdtemp(join(tmpdir(), 'churn-models-'));
    const sim = await simulateIntoDatabase(db, { customers: 2000, months: 12, seed: 11, quiet: true });
    oracle = sim.oracle;
    end = sim.summary.end;
    trained = await trainChurnModel(db, {
      modelDir,
      seed: 3,
      now: new Date(end * 1000),
      writeReport: async (report) => {
        quality = compareWithOracle(report.trainingSet, report.candidate, oracle);
        return writeTrainingReport(report);
      },
    });
  }, 180_000);
  afterAll(async () => {
    await db?.close();
    if (modelDir) await rm(modelDir, { recursive: true, force: true });
  });

  it('trains on older months and evaluates on the newest ones, never shuffled across time', () => {
    expect(trained.data.snapshots).toBeGreaterThanOrEqual(8);
    expect(trained.data.positives.train).toBeGreaterThan(20);
    expect(trained.data.positives.test).toBeGreaterThan(0);
    expect(trained.data.testMonths.at(-1)).toBe(trained.data.to);
    expect(trained.data.testMonths[0]! > trained.data.from!).toBe(true);
  });

  it('comes close to the oracle on held-out months and is calibrated', () => {
    expect(quality).toBeDefined();
    const q = quality!;
    // every held-out customer-month has a true probability: labels and the world agree on who is live
    expect(q.matchedRows / q.heldOutRows).toBeGreaterThan(0.98);
    // the world is neither trivial nor hopeless
    expect(q.oracleAuc).toBeGreaterThan(0.72);
    expect(q.oracleAuc).toBeLessThan(0.9);
    // The world's churn responds to what Stripe records, with a small hidden residual, so a good model
    // comes close to the true probabilities: at 20,000 customers x 18 months the bar is 0.02 below the
    // oracle and ECE < 0.03 (training/quality.ts). With 2,000 customers x 12 months the held-out months
    // hold ~150 churners and ~8,000 training rows; the MLP lands 0.07-0.09 below the oracle there, so
    // the bar here is looser.
    expect(q.modelAuc).toBeGreaterThan(q.oracleAuc - 0.11);
    expect(q.modelEce).toBeLessThan(0.05);
  });

  it('registers the candidate, promotes the network only if it beats the baseline (else the baseline), and records the run', async () => {
    expect(trained.metrics.overall.rocAuc).toBeGreaterThan(0.6);
    const champion = await championVersion(db.db);
    if (trained.metrics.overall.rocAuc < trained.baselineMetrics.overall.rocAuc - 1e-3) expect(trained.promotedVersion).not.toBe(trained.version);
    if (trained.metrics.overall.rocAuc > trained.baselineMetrics.overall.rocAuc + 1e-3) expect(trained.promotedVersion).toBe(trained.version);
    // a fresh registry always ends up with a champion: the network, or its logistic baseline
    expect(trained.promoted).toBe(true);
    expect(champion?.version).toBe(trained.promotedVersion);
    const versions = await listModelVersions(db.db);
    expect(versions.map((v) => v.version)).toContain(trained.version);
    expect(versions.find((v) => v.version === trained.version)?.featureVersion).toBe(featureSet().version);
    const report = await readFile(trained.reportPath!, 'utf8');
    expect(report).toContain('<html');
    const runs = await db.query<{ status: string; model_version: string }>(
      (await import('drizzle-orm')).sql`select status, model_version from training_runs`,
    );
    expect(runs).toEqual([{ status: 'succeeded', model_version: trained.version }]);
  });

  it('scores every live customer, stores the scores with the model version and writes a CSV', async () => {
    const model = await loadModelFiles(join(modelDir, 'churn', trained.version), featureSet());
    model.metadata.name = 'churn';
    model.metadata.version = trained.version;
    const asOf = end - 1;
    const result = await scoreAllCustomers(db, { asOf, model });
    const live = await featureMatrixAt(db, asOf);
    expect(result.customers.length).toBe(live.keys.length);
    // up to three drivers each, each raising the risk (test/ml/drivers-account.test.ts checks what they say)
    expect(result.customers.filter((c) => !(c.probability >= 0 && c.probability <= 1 && c.drivers.length <= 3 && c.drivers.every((d) => d.contribution > 0)))).toEqual([]);
    const stored = await db.query<{ n: number; v: string }>((await import('drizzle-orm')).sql`select count(*)::int as n, min(model_version) as v from scores where as_of = ${asOf}`);
    expect(stored[0]).toEqual({ n: live.keys.length, v: trained.version });
    // re-scoring the same snapshot replaces rows instead of duplicating them
    await scoreAllCustomers(db, { asOf, model });
    const again = await db.query<{ n: number }>((await import('drizzle-orm')).sql`select count(*)::int as n from scores`);
    expect(again[0]!.n).toBe(live.keys.length);
    const ranked = await rankAtRisk(db, result);
    const csv = atRiskCsv(ranked, { asOf, modelVersion: result.modelVersion }).trim().split('\n');
    expect(csv[0]).toBe(AT_RISK_CSV_HEADER);
    expect(csv.length).toBe(result.customers.length + 1);
    // riskiest first, every live customer with an MRR in their currency
    const probabilities = ranked.map((c) => c.probability);
    expect(probabilities).toEqual([...probabilities].sort((a, b) => b - a));
    expect(ranked.filter((c) => !(c.mrr >= 0 && c.currency && c.revenueAtRisk === Math.round(c.probability * c.mrr)))).toEqual([]);
    // the riskiest customers' drivers read like sentences
    const top = [...result.customers].sort((a, b) => b.probability - a.probability)[0]!;
    expect(top.drivers[0]!.sentence.length).toBeGreaterThan(5);
    model.network.dispose();
  });

  it('refuses to train on too little history with a clear error', async () => {
    await expect(buildTrainingSet(db, { asOf: end - 300 * DAY_SECONDS })).rejects.toThrow(InsufficientDataError);
    await expect(buildTrainingSet(db, { asOf: end - 300 * DAY_SECONDS })).rejects.toThrow(/snapshots|churners/);
  });
});
