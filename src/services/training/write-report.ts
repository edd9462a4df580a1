import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildEvaluationReport, writeEvaluation } from '../../../training/evaluate.js';
import { finiteOrNull, type EvaluationMetrics } from '../../ml/metrics.js';
import { describeDecision } from '../../ml/promotion.js';
import { summariseTrainingSet, type TrainingReportInput } from './train-model.js';

/**
 * The evaluation report beside the model files: report.html and evaluation.json (ROC, PR,
 * calibration and score plots of candidate, baseline and champion on the held-out months, from
 * training/evaluate.ts), plus report.json/report.md with the data window, the time split and the
 * promotion decision. Returns the HTML report's path.
 */
export async function writeTrainingReport(input: TrainingReportInput): Promise<string> {
  const dir = join(input.modelDir, input.modelName, input.version);
  const evaluation = buildEvaluationReport({
    candidate: input.candidate.model,
    baseline: input.candidate.baseline,
    champion: input.champion ?? null,
    heldOut: input.trainingSet.test,
    decision: input.decision,
    now: input.now,
  });
  const { html } = await writeEvaluation(dir, evaluation);
  // When the run promoted its logistic baseline (saved as its own version), that version's
  // directory gets the evaluation of the model it holds, so the champion's report has its curves.
  if (input.promotedVersion && input.promotedVersion !== input.version) {
    const served = buildEvaluationReport({
      candidate: input.candidate.baseline,
      baseline: input.candidate.baseline,
      champion: input.champion ?? null,
      heldOut: input.trainingSet.test,
      decision: input.decision,
      now: input.now,
    });
    await writeEvaluation(join(input.modelDir, input.modelName, input.promotedVersion), served);
  }
  await mkdir(dir, { recursive: true });
  const data = summariseTrainingSet(input.trainingSet);
  const report = {
    version: input.version,
    featureSet: input.trainingSet.featureSet.version,
    data,
    model: input.candidate.metrics,
    baseline: input.candidate.baselineMetrics,
    champion: input.championMetrics ?? null,
    selection: input.candidate.selection,
    decision: input.decision,
    promotedVersion: input.promotedVersion,
  };
  await writeFile(join(dir, 'report.json'), JSON.stringify(report, finiteOrNull, 2));
  const line = (label: string, m?: EvaluationMetrics) =>
    m ? `| ${label} | ${m.overall.rocAuc.toFixed(4)} | ${m.overall.prAuc.toFixed(4)} | ${m.overall.brier.toFixed(4)} | ${m.overall.ece.toFixed(4)} |` : `| ${label} | – | – | – | – |`;
  const md = [
    `# Churn model ${input.version}`,
    '',
    `Snapshots ${data.from} … ${data.to} (${data.snapshots} month ends, ${data.horizonDays}-day horizon), split by time.`,
    '',
    '| part | customer-months | churners |',
    '|---|---|---|',
    ...(['train', 'valid', 'calib', 'test'] as const).map((p) => `| ${p} | ${data.rows[p]} | ${data.positives[p]} |`),
    '',
    `Held-out months: ${data.testMonths.join(', ')}`,
    '',
    '| model | ROC-AUC | PR-AUC | Brier | ECE |',
    '|---|---|---|---|---|',
    line(`candidate (${input.candidate.selection.chosen})`, input.candidate.metrics),
    line('tuned logistic baseline', input.candidate.baselineMetrics),
    line('current champion', input.championMetrics),
    '',
    `Model selection: ${input.candidate.selection.chosen} — ${input.candidate.selection.reason}; ${input.candidate.selection.trials.length} trials on ${input.candidate.selection.searchRows} of ${input.candidate.selection.trainRows} training rows${input.candidate.selection.refits.length ? `, then the best ${input.candidate.selection.refits.map((r) => r.family).join(' and ')} refitted on all of them` : ''}, in ${input.candidate.selection.seconds.toFixed(1)} s${input.candidate.selection.skippedForBudget ? ` (${input.candidate.selection.skippedForBudget} trials skipped: the ${input.candidate.selection.budgetSeconds} s safety guard fired)` : ''}.`,
    '',
    `Decision: ${describeDecision(input.decision)}${input.promotedVersion ? ` (champion is now ${input.promotedVersion})` : ''}`,
    '',
  ].join('\n');
  await writeFile(join(dir, 'report.md'), md);
  return html;
}
