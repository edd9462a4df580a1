import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { scores } from '../../db/schema/index.js';
import { featureMatrixAt, type CustomerKey } from '../../ml/features.js';
import type { ChurnModel } from '../../ml/model.js';
import { scoreWithDrivers } from '../../ml/predict.js';
import type { Driver, RiskBand } from '../../ml/types.js';
import { customersScored, scoringDuration } from '../../lib/metrics.js';
import { inSpan } from '../../lib/tracing.js';

/**
 * Scores every customer with a live subscription at `asOf` with one model: features for all of
 * them in one set-based pass, probabilities and drivers in large batches, then (optionally) one
 * row per customer in `scores`, tagged with the model version. Re-scoring the same snapshot with the
 * same model version overwrites instead of duplicating.
 */

export interface ScoredCustomer extends CustomerKey {
  probability: number;
  band: RiskBand;
  drivers: Driver[];
}

export interface ScoreAllInput {
  asOf: number;
  model: ChurnModel;
  accounts?: string[];
  /** drivers kept per customer (default 3) */
  top?: number;
  /** write to the scores table (default true) */
  store?: boolean;
  /** rows per insert statement */
  batchSize?: number;
  onProgress?: (stage: 'features' | 'scoring' | 'storing', done: number, total: number) => void;
}

export interface ScoreAllResult {
  asOf: number;
  modelName: string;
  modelVersion: string;
  customers: ScoredCustomer[];
  timings: { featuresMs: number; scoringMs: number; storingMs: number };
}

export async function scoreAllCustomers(database: Database, input: ScoreAllInput): Promise<ScoreAllResult> {
  const stopTimer = scoringDuration.startTimer();
  try {
    const result = await inSpan('score all customers', { 'churn.as_of': input.asOf, 'churn.model_version': input.model.metadata.version ?? 'unregistered' }, () => scoreAll(database, input));
    stopTimer({ outcome: 'ok' });
    customersScored.inc(result.customers.length);
    return result;
  } catch (err) {
    stopTimer({ outcome: 'error' });
    throw err;
  }
}

async function scoreAll(database: Database, input: ScoreAllInput): Promise<ScoreAllResult> {
  const modelName = input.model.metadata.name ?? 'churn';
  const modelVersion = input.model.metadata.version ?? 'unregistered';
  const t0 = performance.now();
  input.onProgress?.('features', 0, 1);
  const features = await featureMatrixAt(database, input.asOf, { accounts: input.accounts, vocabulary: input.model.metadata.vocabulary });
  input.onProgress?.('features', 1, 1);
  const t1 = performance.now();
  const scored = scoreWithDrivers(input.model, features.matrix, { top: input.top ?? 3 });
  const customers: ScoredCustomer[] = scored.map((s, i) => ({ ...features.keys[i]!, probability: s.probability, band: s.band, drivers: s.drivers }));
  input.onProgress?.('scoring', customers.length, customers.length);
  const t2 = performance.now();
  if (input.store !== false) await storeScores(database, { asOf: input.asOf, modelName, modelVersion, customers, batchSize: input.batchSize, onProgress: (d, t) => input.onProgress?.('storing', d, t) });
  const t3 = performance.now();
  return { asOf: input.asOf, modelName, modelVersion, customers, timings: { featuresMs: t1 - t0, scoringMs: t2 - t1, storingMs: t3 - t2 } };
}

export async function storeScores(
  database: Database,
  input: { asOf: number; modelName: string; modelVersion: string; customers: ScoredCustomer[]; batchSize?: number; onProgress?: (done: number, total: number) => void },
): Promise<void> {
  const batch = input.batchSize ?? 2000;
  for (let i = 0; i < input.customers.length; i += batch) {
    const rows = input.customers.slice(i, i + batch).map((c) => ({
      account: c.account,
      customerId: c.customerId,
      asOf: input.asOf,
      modelName: input.modelName,
      modelVersion: input.modelVersion,
      probability: Number.isFinite(c.probability) ? c.probability : 0,
      band: c.band,
      drivers: c.drivers,
    }));
    await database.db
      .insert(scores)
      .values(rows)
      .onConflictDoUpdate({
        target: [scores.account, scores.customerId, scores.asOf, scores.modelName, scores.modelVersion],
        set: { probability: sql`excluded.probability`, band: sql`excluded.band`, drivers: sql`excluded.drivers`, createdAt: sql`now()` },
      });
    input.onProgress?.(Math.min(i + batch, input.customers.length), input.customers.length);
  }
}
