import { trainBaseline } from './baseline.js';
import { evaluationMetrics, type EvaluationMetrics } from './metrics.js';
import { hashLabelledData, trainModel, type ChurnModel, type ModelOptions, type TrainModelInput } from './model.js';
import { scoreMatrix } from './predict.js';
import type { LabelledData } from './types.js';

export interface TrainCandidateInput extends TrainModelInput {
  /** held-out rows for the metrics that decide promotion; calib is used when absent */
  test?: LabelledData;
  baselineOptions?: Partial<ModelOptions>;
}

export interface CandidateResult {
  model: ChurnModel;
  baseline: ChurnModel;
  metrics: EvaluationMetrics;
  baselineMetrics: EvaluationMetrics;
  /** which split the metrics were computed on */
  evaluatedOn: 'test' | 'calib';
}

/** Trains the MLP and the logistic baseline on the same splits and scores both on held-out rows. */
export async function trainCandidate(input: TrainCandidateInput): Promise<CandidateResult> {
  const dataHash = input.dataHash ?? hashLabelledData(input.train, input.valid, input.calib, ...(input.test ? [input.test] : []));
  const model = await trainModel({ ...input, dataHash });
  const baseline = await trainBaseline({ ...input, dataHash }, input.baselineOptions);
  const held = input.test ?? input.calib;
  const metrics = evaluationMetrics(held.y, scoreMatrix(model, held.x), held.churnType);
  const baselineMetrics = evaluationMetrics(held.y, scoreMatrix(baseline, held.x), held.churnType);
  model.metadata.metrics = metrics;
  model.metadata.baselineMetrics = baselineMetrics;
  baseline.metadata.metrics = baselineMetrics;
  return { model, baseline, metrics, baselineMetrics, evaluatedOn: input.test ? 'test' : 'calib' };
}
