import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { finiteOrNull, type EvaluationMetrics } from '../../ml/metrics.js';
import { summariseTrainingSet, type TrainingReportInput } from './train-model.js';

/**
 * A plain evaluation report beside the model files (report.json + report.md): data window and
 * split, held-out metrics of the model, the baseline and the champion, and the promotion decision.
 * The richer report with plots is ML-core's training/report.ts; this one always exists.
 */
export async function writeTrainingReport(input: TrainingReportInput, name = 'churn'): Promise<string> {
  const dir = join(input.modelDir, name, input.version);
  await mkdir(dir, { recursive: true });
  const data = summariseTrainingSet(input.trainingSet);
  const report = {
    version: input.version,
    featureSet: input.trainingSet.featureSet.version,
    data,
    model: input.candidate.metrics,
    baseline: input.candidate.baselineMetrics,
    champion: input.championMetrics ?? null,
    decision: input.decision,
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
    line('candidate', input.candidate.metrics),
    line('logistic baseline', input.candidate.baselineMetrics),
    line('current champion', input.championMetrics),
    '',
    `Decision: ${input.decision.promote ? 'promoted' : 'not promoted'} — ${input.decision.reason}`,
    '',
  ].join('\n');
  await writeFile(join(dir, 'report.md'), md);
  return join(dir, 'report.md');
}
