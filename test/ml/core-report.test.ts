import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/ml/backend.js';
import { trainCandidate } from '../../src/ml/candidate.js';
import { sliceRows, syntheticChurnData, syntheticFeatureSet } from '../../src/ml/synthetic.js';
import { buildEvaluationReport, writeEvaluation, type EvaluationReport } from '../../training/evaluate.js';
import { renderReportHtml } from '../../training/report.js';
import { decidePromotion } from '../../src/ml/promotion.js';

const featureSet = syntheticFeatureSet(6);
const data = syntheticChurnData({ rows: 4_000, cols: 6, seed: 12, weights: [1, -1, 0.6], interaction: 1 }, featureSet);
const s = { train: sliceRows(data, 0, 2000), valid: sliceRows(data, 2000, 2600), calib: sliceRows(data, 2600, 3200), test: sliceRows(data, 3200, 4000) };
const now = new Date('2026-11-27T10:15:00Z');

describe('evaluation report', () => {
  let dir: string;
  let result: Awaited<ReturnType<typeof trainCandidate>>;
  beforeAll(async () => {
    await initBackend('wasm');
    dir = await mkdtemp(join(tmpdir(), 'churn-report-'));
    result = await trainCandidate({ ...s, featureSet, seed: 4, now, options: { maxEpochs: 6 }, horizonDays: 30 });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('compares candidate, baseline and champion on the same held-out rows and reports the decision it was given', () => {
    const decision = decidePromotion(result.metrics, result.baselineMetrics, result.metrics);
    const report = buildEvaluationReport({ candidate: result.model, baseline: result.baseline, champion: result.model, heldOut: s.test, decision, now });
    expect(report.heldOut.rows).toBe(800);
    expect(report.candidate.metrics.overall.rocAuc).toBeCloseTo(result.metrics.overall.rocAuc, 12);
    // a champion identical to the candidate cannot be beaten by it
    expect(report.champion?.metrics.overall.rocAuc).toBe(report.candidate.metrics.overall.rocAuc);
    expect(report.decision).toEqual(decision);
    expect(report.decision.promote).toBe(false);
    expect(report.decision.reason).toMatch(/champion/);
  });

  it('leaves out a champion trained on another feature version, saying why', () => {
    const other = { ...result.baseline, metadata: { ...result.baseline.metadata, featureSet: { ...result.baseline.metadata.featureSet, version: 'old-features' } } };
    const report = buildEvaluationReport({ candidate: result.model, baseline: result.baseline, champion: other, heldOut: s.test, decision: decidePromotion(result.metrics, result.baselineMetrics), now });
    expect(report.champion).toBeUndefined();
    expect(report.championNote).toMatch(/old-features/);
  });

  it('writes JSON and a self-contained HTML page with four inline SVG plots', async () => {
    const report = buildEvaluationReport({ candidate: result.model, baseline: result.baseline, heldOut: s.test, decision: decidePromotion(result.metrics, result.baselineMetrics), now });
    const paths = await writeEvaluation(dir, report);
    const html = await readFile(paths.html, 'utf8');
    expect(html.match(/<svg /g)).toHaveLength(4);
    for (const title of ['ROC curve', 'Precision-recall', 'Calibration', 'Score histogram']) expect(html).toContain(title);
    expect(html).not.toMatch(/<script|<link|src=|@import/i);
    expect(html).toContain(report.candidate.metrics.overall.rocAuc.toFixed(3));
    expect(html).toContain('horizon 30 days');
    const json = JSON.parse(await readFile(paths.json, 'utf8')) as EvaluationReport;
    expect(json.candidate.metrics.overall.top.map((t) => t.fraction)).toEqual([0.05, 0.1, 0.2]);
    expect(json.candidate.metrics.byChurnType?.involuntary.rows).toBeGreaterThan(0);
    // re-rendering from JSON (undefined metrics are null there) still works
    expect(renderReportHtml(json)).toContain('<svg');
  });

  it('escapes text that comes from data', () => {
    const report = buildEvaluationReport({ candidate: result.model, baseline: result.baseline, heldOut: s.test, decision: decidePromotion(result.metrics, result.baselineMetrics), now });
    const html = renderReportHtml({ ...report, featureSetVersion: '<img onerror=x>' });
    expect(html).not.toContain('<img');
  });
});
