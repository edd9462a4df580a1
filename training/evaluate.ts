import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  calibrationCurve,
  evaluationMetrics,
  finiteOrNull,
  precisionRecallCurve,
  rocCurve,
  scoreHistogram,
  type CalibrationBin,
  type EvaluationMetrics,
} from '../src/ml/metrics.js';
import type { ChurnModel } from '../src/ml/model.js';
import type { PromotionDecision } from '../src/ml/promotion.js';
import { scoreMatrix } from '../src/ml/predict.js';
import type { LabelledData } from '../src/ml/types.js';
import { renderReportHtml } from './report.js';

/** Curves for plotting, thinned to at most this many points each. */
const MAX_POINTS = 200;

export interface EvaluationCurves {
  roc: Array<{ fpr: number; tpr: number }>;
  pr: Array<{ recall: number; precision: number }>;
  calibration: CalibrationBin[];
  histogram: Array<{ lower: number; upper: number; churned: number; retained: number }>;
}

export interface ModelEvaluation {
  /** 'candidate' | 'baseline' | 'champion' */
  role: string;
  version?: string;
  architecture?: string;
  metrics: EvaluationMetrics;
  curves: EvaluationCurves;
}

export interface EvaluationReport {
  generatedAt: string;
  featureSetVersion: string;
  heldOut: { rows: number; positives: number };
  horizonDays?: number;
  trainingWindow?: { from: string; to: string };
  candidate: ModelEvaluation;
  baseline?: ModelEvaluation;
  champion?: ModelEvaluation;
  /** why the champion was left out, e.g. trained on another feature version */
  championNote?: string;
  decision: PromotionDecision;
}

function thin<T>(points: T[]): T[] {
  if (points.length <= MAX_POINTS) return points;
  const step = (points.length - 1) / (MAX_POINTS - 1);
  return Array.from({ length: MAX_POINTS }, (_, i) => points[Math.round(i * step)]!);
}

/** Metrics and plot curves for one vector of calibrated probabilities. */
export function evaluateScores(role: string, data: Pick<LabelledData, 'y' | 'churnType'>, probabilities: ArrayLike<number>): ModelEvaluation {
  const { y, churnType } = data;
  return {
    role,
    metrics: evaluationMetrics(y, probabilities, churnType),
    curves: {
      roc: thin(rocCurve(y, probabilities).map(({ fpr, tpr }) => ({ fpr, tpr }))),
      pr: thin(precisionRecallCurve(y, probabilities).map(({ recall, precision }) => ({ recall, precision }))),
      calibration: calibrationCurve(y, probabilities),
      histogram: scoreHistogram(y, probabilities),
    },
  };
}

/** Scores `data` with the model (calibrated) and evaluates it. */
export function evaluateModel(role: string, model: ChurnModel, data: LabelledData): ModelEvaluation {
  return {
    ...evaluateScores(role, data, scoreMatrix(model, data.x)),
    version: model.metadata.version,
    architecture: model.metadata.architecture,
  };
}

/**
 * Evaluates candidate, baseline and (when it can read these features) the current champion on
 * the same held-out rows, and reports the promotion decision the training run made (decidePromotion,
 * src/ml/promotion.ts); it never decides on its own.
 */
export function buildEvaluationReport(input: {
  candidate: ChurnModel;
  baseline: ChurnModel;
  champion?: ChurnModel | null;
  heldOut: LabelledData;
  decision: PromotionDecision;
  now: Date;
}): EvaluationReport {
  const { candidate, baseline, heldOut } = input;
  const candidateEval = evaluateModel('candidate', candidate, heldOut);
  const baselineEval = evaluateModel('baseline', baseline, heldOut);
  let championEval: ModelEvaluation | undefined;
  let championNote: string | undefined;
  if (input.champion) {
    const theirs = input.champion.metadata.featureSet;
    const ours = candidate.metadata.featureSet;
    const sameFeatures = theirs.version === ours.version && theirs.features.map((f) => f.name).join() === ours.features.map((f) => f.name).join();
    if (sameFeatures) championEval = evaluateModel('champion', input.champion, heldOut);
    else championNote = `champion ${input.champion.metadata.version ?? ''} uses feature set ${theirs.version}, not ${ours.version}: compared with the baseline only`;
  }
  let positives = 0;
  for (let i = 0; i < heldOut.y.length; i++) positives += heldOut.y[i]!;
  return {
    generatedAt: input.now.toISOString(),
    featureSetVersion: candidate.metadata.featureSet.version,
    heldOut: { rows: heldOut.x.rows, positives },
    horizonDays: candidate.metadata.horizonDays,
    trainingWindow: candidate.metadata.trainingWindow,
    candidate: candidateEval,
    baseline: baselineEval,
    champion: championEval,
    championNote,
    decision: input.decision,
  };
}

/** Writes evaluation.json and the self-contained report.html into `dir`; returns their paths. */
export async function writeEvaluation(dir: string, report: EvaluationReport): Promise<{ json: string; html: string }> {
  await mkdir(dir, { recursive: true });
  const json = join(dir, 'evaluation.json');
  const html = join(dir, 'report.html');
  await writeFile(json, JSON.stringify(report, finiteOrNull, 2));
  await writeFile(html, renderReportHtml(report));
  return { json, html };
}

/** `npx tsx training/evaluate.ts <evaluation.json> [out.html]`: re-renders a report from its JSON. */
async function main(argv: string[]): Promise<number> {
  const [input, output] = argv;
  if (!input) {
    process.stderr.write('usage: tsx training/evaluate.ts <evaluation.json> [report.html]\n');
    return 2;
  }
  const report = JSON.parse(await readFile(input, 'utf8')) as EvaluationReport;
  const out = output ?? input.replace(/\.json$/, '') + '.html';
  await writeFile(out, renderReportHtml(report));
  process.stdout.write(`${out}\n`);
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
