import { isAbsolute, join } from 'node:path';
import type { Database } from '../../db/client.js';
import { errorMessage } from '../../lib/errors.js';
import { isoDay } from '../../lib/clock.js';
import { logger } from '../../lib/logger.js';
import { buildTrainingSet, type Snapshot, type TrainingSet, type TrainingSetOptions } from '../../ml/dataset.js';
import { featureSet } from '../../ml/features.js';
import { DEFAULT_HORIZON_DAYS } from '../../ml/labels.js';
import { evaluationMetrics, type EvaluationMetrics } from '../../ml/metrics.js';
import { disposeCandidate, trainCandidate, type CandidateResult, type ModelSelection } from '../../ml/candidate.js';
import type { ChurnModel, ModelOptions } from '../../ml/model.js';
import { decidePromotion, type PromotionDecision } from '../../ml/promotion.js';
import { scoreMatrix } from '../../ml/predict.js';
import {
  championVersion,
  DEFAULT_MODEL_NAME,
  finishTrainingRun,
  loadModelFiles,
  promote,
  saveCandidate,
  startTrainingRun,
} from '../../ml/registry.js';

/**
 * Trains a churn model from the account's own history: labelled monthly snapshots up to `asOf`,
 * split by time; the MLP and its logistic baseline are trained on the same splits; the candidate
 * is saved and registered, and promoted only if it beats the baseline and the current champion on
 * the same held-out (newest) snapshots. Every attempt is recorded in training_runs.
 */

export interface TrainChurnModelInput extends Omit<TrainingSetOptions, 'onSnapshot'> {
  modelDir: string;
  seed?: number;
  modelName?: string;
  /** who asked: cli | api | schedule | demo */
  trigger?: string;
  /** time of the run (model version id, metadata); an argument, never read from the clock here */
  now: Date;
  modelOptions?: Partial<ModelOptions>;
  /** writes the evaluation report; returns its path */
  writeReport?: (report: TrainingReportInput) => Promise<string | undefined>;
  onProgress?: (stage: 'snapshots' | 'training', done: number, total: number) => void;
  /** called once the run's training_runs row exists, with its id (before any training work) */
  onRunStarted?: (runId: string) => void;
}

export interface TrainingReportInput {
  candidate: CandidateResult;
  trainingSet: TrainingSet;
  championMetrics?: EvaluationMetrics;
  /** the current champion, when it could score these features */
  champion?: ChurnModel;
  decision: PromotionDecision;
  /** the version this run made champion (the candidate's or its baseline's), null when none */
  promotedVersion: string | null;
  version: string;
  modelDir: string;
  modelName: string;
  now: Date;
}

export interface TrainChurnModelResult {
  runId: string;
  modelName: string;
  version: string;
  promoted: boolean;
  /** the version now champion because of this run: the network's, or its logistic baseline's */
  promotedVersion: string | null;
  decision: PromotionDecision;
  metrics: EvaluationMetrics;
  baselineMetrics: EvaluationMetrics;
  /** which model family was chosen on the validation months, and why */
  selection: ModelSelection;
  championVersion: string | null;
  championMetrics?: EvaluationMetrics;
  reportPath?: string;
  data: TrainingDataSummary;
}

export interface TrainingDataSummary {
  snapshots: number;
  from: string | null;
  to: string | null;
  horizonDays: number;
  rows: Record<'train' | 'valid' | 'calib' | 'test', number>;
  positives: Record<'train' | 'valid' | 'calib' | 'test', number>;
  testMonths: string[];
}

const sum = (s: Snapshot[], f: (x: Snapshot) => number) => s.reduce((a, x) => a + f(x), 0);

export function summariseTrainingSet(t: TrainingSet): TrainingDataSummary {
  const parts = ['train', 'valid', 'calib', 'test'] as const;
  return {
    snapshots: t.snapshots.length,
    from: t.snapshots.length ? isoDay(t.snapshots[0]!.asOf) : null,
    to: t.snapshots.length ? isoDay(t.snapshots[t.snapshots.length - 1]!.asOf) : null,
    horizonDays: t.horizonDays,
    rows: Object.fromEntries(parts.map((p) => [p, sum(t.split[p], (s) => s.x.rows)])) as TrainingDataSummary['rows'],
    positives: Object.fromEntries(parts.map((p) => [p, sum(t.split[p], (s) => s.positives)])) as TrainingDataSummary['positives'],
    testMonths: t.split.test.map((s) => isoDay(s.asOf)),
  };
}

/** The current champion's metrics on this run's held-out rows, when it can read these features. */
async function championOnTest(
  database: Database,
  modelDir: string,
  name: string,
  test: TrainingSet['test'],
): Promise<{ version: string | null; metrics?: EvaluationMetrics; model?: ChurnModel }> {
  const row = await championVersion(database.db, name);
  if (!row) return { version: null };
  try {
    const dir = isAbsolute(row.path) ? row.path : join(modelDir, row.path);
    const champion = await loadModelFiles(dir, featureSet());
    champion.metadata.name = row.name;
    champion.metadata.version = row.version;
    return { version: row.version, metrics: evaluationMetrics(test.y, scoreMatrix(champion, test.x), test.churnType), model: champion };
  } catch (err) {
    // A champion on another feature version cannot be compared on these rows; the new one is judged against the baseline.
    logger.warn({ model: name, champion: row.version, err: errorMessage(err) }, 'champion cannot score the new feature set; comparing against the baseline only');
    return { version: row.version };
  }
}

export async function trainChurnModel(database: Database, input: TrainChurnModelInput): Promise<TrainChurnModelResult> {
  const name = input.modelName ?? DEFAULT_MODEL_NAME;
  const horizonDays = input.horizonDays ?? DEFAULT_HORIZON_DAYS;
  const seed = input.seed ?? 7;
  const run = await startTrainingRun(database.db, {
    modelName: name,
    trigger: input.trigger ?? 'cli',
    params: { asOf: input.asOf ?? null, horizonDays, seed, accounts: input.accounts ?? null, maxSnapshots: input.maxSnapshots ?? null },
    now: input.now,
  });
  input.onRunStarted?.(run.id);
  try {
    const trainingSet = await buildTrainingSet(database, {
      ...input,
      horizonDays,
      onSnapshot: (_s, i, total) => input.onProgress?.('snapshots', i, total),
    });
    const data = summariseTrainingSet(trainingSet);
    logger.info({ run: run.id, ...data }, 'training data built');
    const candidate = await trainCandidate({
      train: trainingSet.train,
      valid: trainingSet.valid,
      calib: trainingSet.calib,
      test: trainingSet.test,
      featureSet: trainingSet.featureSet,
      seed,
      now: input.now,
      options: input.modelOptions,
      horizonDays,
      trainingWindow: { from: data.from ?? '', to: data.to ?? '' },
      vocabulary: trainingSet.vocabulary,
      // progress in model-selection steps (each search trial, then each refit on all rows)
      onTrial: (done, total) => input.onProgress?.('training', done, total),
    });
    const champion = await championOnTest(database, input.modelDir, name, trainingSet.test);
    // The one decision; everything below acts on it and reports it, nothing decides again.
    const decision = decidePromotion(candidate.metrics, candidate.baselineMetrics, champion.metrics, { candidateIsBaseline: candidate.model === candidate.baseline });
    const saved = await saveCandidate(database.db, { modelDir: input.modelDir, name, model: candidate.model, now: input.now });
    let promotedVersion: string | null = null;
    if (decision.promoted === 'candidate') {
      await promote(database.db, name, saved.version, input.now);
      promotedVersion = saved.version;
    } else if (decision.promoted === 'baseline') {
      const baseline = await saveCandidate(database.db, { modelDir: input.modelDir, name, model: candidate.baseline, now: input.now, versionSuffix: 'logistic' });
      await promote(database.db, name, baseline.version, input.now);
      promotedVersion = baseline.version;
    }
    const reportPath = input.writeReport
      ? await input.writeReport({
          candidate,
          trainingSet,
          championMetrics: champion.metrics,
          champion: champion.model,
          decision,
          promotedVersion,
          version: saved.version,
          modelDir: input.modelDir,
          modelName: name,
          now: input.now,
        })
      : undefined;
    champion.model?.network.dispose();
    const metrics = { model: candidate.metrics, baseline: candidate.baselineMetrics, champion: champion.metrics ?? null, selection: candidate.selection, data };
    await finishTrainingRun(database.db, run.id, {
      status: 'succeeded',
      now: input.now,
      modelVersion: saved.version,
      metrics,
      decision: { ...decision, champion: champion.version, promotedVersion },
      reportPath,
    });
    disposeCandidate(candidate);
    return {
      runId: run.id,
      modelName: name,
      version: saved.version,
      promoted: promotedVersion !== null,
      promotedVersion,
      decision,
      metrics: candidate.metrics,
      baselineMetrics: candidate.baselineMetrics,
      selection: candidate.selection,
      championVersion: champion.version,
      championMetrics: champion.metrics,
      reportPath,
      data,
    };
  } catch (err) {
    await finishTrainingRun(database.db, run.id, { status: 'failed', now: input.now, error: errorMessage(err) }).catch(() => {});
    throw err;
  }
}
