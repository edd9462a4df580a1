import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/ml/backend.js';
import { disposeCandidate, searchSample, trainCandidate } from '../../src/ml/candidate.js';
import { networkLogits } from '../../src/ml/predict.js';
import { sliceRows, syntheticChurnData, syntheticFeatureSet } from '../../src/ml/synthetic.js';
import type { LabelledData } from '../../src/ml/types.js';

const NOW = new Date('2026-11-27T10:15:00Z');
const COLS = 6;
const featureSet = syntheticFeatureSet(COLS);

/** 4 months per customer: rows r, r+1, r+2, r+3 belong to customer floor(r / 4). */
function withCustomers(d: LabelledData): LabelledData {
  return { ...d, groups: Int32Array.from({ length: d.y.length }, (_, r) => Math.floor(r / 4)) };
}

beforeAll(async () => {
  await initBackend('wasm');
});

describe('the search subsample', () => {
  const data = withCustomers(syntheticChurnData({ rows: 8000, cols: COLS, seed: 3, weights: [1, -0.8, 0.5], intercept: -2 }, featureSet));

  it('keeps every row when there are no more than the cap', () => {
    expect(searchSample(data, 8000, 1).length).toBe(8000);
  });

  it('takes whole customers, about cap rows, churners at the training rate, the same for a seed', () => {
    const a = searchSample(data, 2000, 1);
    expect(Array.from(searchSample(data, 2000, 1))).toEqual(Array.from(a));
    expect(Array.from(searchSample(data, 2000, 2))).not.toEqual(Array.from(a));
    expect(a.length).toBeGreaterThan(1900);
    expect(a.length).toBeLessThanOrEqual(2000);
    const customers = new Map<number, number>();
    for (const r of a) customers.set(data.groups![r]!, (customers.get(data.groups![r]!) ?? 0) + 1);
    expect([...customers.values()].every((n) => n === 4)).toBe(true);
    const churnCustomers = (rows: Iterable<number>) => {
      const g = new Set<number>();
      for (const r of rows) if (data.y[r]) g.add(data.groups![r]!);
      return g.size;
    };
    const all = churnCustomers(data.y.keys());
    expect(Math.abs(churnCustomers(a) / customers.size - all / 2000)).toBeLessThan(0.01);
    for (let i = 1; i < a.length; i++) expect(a[i]).toBeGreaterThan(a[i - 1]!);
  });
});

describe('selection with a subsampled search', () => {
  const data = syntheticChurnData({ rows: 6000, cols: COLS, seed: 5, weights: [1.2, -0.8, 0.7], interaction: 1.5 }, featureSet);
  const s = {
    train: withCustomers(sliceRows(data, 0, 3000)),
    valid: sliceRows(data, 3000, 4000),
    calib: sliceRows(data, 4000, 5000),
    test: sliceRows(data, 5000, 6000),
  };

  it('runs the fixed trials on the subsample, refits the best of each family on all rows, and is deterministic', async () => {
    const steps: [number, number][] = [];
    const run = () => trainCandidate({ ...s, featureSet, seed: 9, now: NOW, options: { maxEpochs: 6 }, search: { searchRows: 1000, networkTrials: 2 }, onTrial: (d, t) => steps.push([d, t]) });
    const a = await run();
    expect(a.selection.searchRows).toBeLessThanOrEqual(1000);
    expect(a.selection.searchRows).toBeGreaterThan(990);
    expect(a.selection.trainRows).toBe(3000);
    expect(a.selection.trials.map((t) => t.family)).toEqual(['logistic', 'logistic', 'logistic', 'network', 'network']);
    expect(a.selection.refits.map((t) => t.family)).toEqual(['logistic', 'network']);
    expect(a.selection.skippedForBudget).toBe(0);
    expect(a.baseline.metadata.training.rows).toBe(3000);
    expect(a.model.metadata.training.rows).toBe(3000);
    expect(steps.at(-1)).toEqual([7, 7]);
    const b = await run();
    expect(b.selection.chosen).toBe(a.selection.chosen);
    expect(Array.from(networkLogits(b.model, s.test.x))).toEqual(Array.from(networkLogits(a.model, s.test.x)));
    disposeCandidate(a);
    disposeCandidate(b);
  });
});
