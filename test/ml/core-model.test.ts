import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeBackend, initBackend, tf } from '../../src/ml/backend.js';
import { explain, explainMatrix, MIN_DRIVER_CONTRIBUTION } from '../../src/ml/explain.js';
import { rocAuc } from '../../src/ml/metrics.js';
import { trainCandidate } from '../../src/ml/candidate.js';
import { trainModel, type ChurnModel } from '../../src/ml/model.js';
import { buildModel } from '../../src/ml/network.js';
import { decidePromotion } from '../../src/ml/promotion.js';
import { networkLogits, scoreMatrix, scoreWithDrivers } from '../../src/ml/predict.js';
import { loadModelFiles, ModelLoadError, saveModelFiles } from '../../src/ml/registry.js';
import { sliceRows, syntheticChurnData, syntheticFeatureSet } from '../../src/ml/synthetic.js';
import type { LabelledData } from '../../src/ml/types.js';

const NOW = new Date('2026-11-27T10:15:00Z');
const COLS = 8;
const featureSet = syntheticFeatureSet(COLS);

function splits(d: LabelledData) {
  const n = d.x.rows;
  return {
    train: sliceRows(d, 0, Math.floor(n * 0.5)),
    valid: sliceRows(d, Math.floor(n * 0.5), Math.floor(n * 0.65)),
    calib: sliceRows(d, Math.floor(n * 0.65), Math.floor(n * 0.8)),
    test: sliceRows(d, Math.floor(n * 0.8), n),
  };
}

let dir: string;
beforeAll(async () => {
  await initBackend('wasm');
  dir = await mkdtemp(join(tmpdir(), 'churn-ml-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('training on a known logistic rule with an interaction', () => {
  // f0 x f1 interaction: a logistic regression cannot represent it, the MLP can
  const data = syntheticChurnData({ rows: 10_000, cols: COLS, seed: 1, weights: [1.2, -0.8, 0.7, 0, 0.5], interaction: 1.5 }, featureSet);
  const s = splits(data);
  let result: Awaited<ReturnType<typeof trainCandidate>>;

  beforeAll(async () => {
    result = await trainCandidate({ ...s, featureSet, seed: 11, now: NOW, options: { maxEpochs: 15 } });
  });

  it('runs on the wasm backend', () => {
    expect(activeBackend()).toBe('wasm');
    expect(result.model.metadata.training.backend).toBe('wasm');
  });

  it('ranks held-out churners well above chance and beats the baseline', () => {
    expect(result.evaluatedOn).toBe('test');
    expect(result.metrics.overall.rocAuc).toBeGreaterThan(0.8);
    expect(result.metrics.overall.rocAuc).toBeGreaterThan(result.baselineMetrics.overall.rocAuc + 0.02);
    expect(decidePromotion(result.metrics, result.baselineMetrics).promoted).toBe('candidate');
    expect(result.metrics.byChurnType?.voluntary.rows).toBeGreaterThan(0);
  });

  it('produces calibrated probabilities despite class weighting', () => {
    // class weights push raw scores towards 0.5; the calibrated mean must match the churn rate
    const p = scoreMatrix(result.model, s.test.x);
    const mean = p.reduce((a, b) => a + b, 0) / p.length;
    expect(Math.abs(mean - result.metrics.overall.baseRate)).toBeLessThan(0.03);
    expect(result.metrics.overall.ece).toBeLessThan(0.05);
  });

  it('records normalisation, calibration and training facts in metadata', () => {
    const m = result.model.metadata;
    expect(m.normalisation.mean).toHaveLength(COLS);
    expect(m.normalisation.transform[1]).toBe('signed_log1p'); // money column
    expect(m.calibration.method).toBe('platt');
    expect(m.featureSet.version).toBe(featureSet.version);
    expect(m.dataHash).toMatch(/^[0-9a-f]{64}$/);
    expect(m.training.bestEpoch).toBeGreaterThan(0);
    expect(result.baseline.metadata.architecture).toBe('logistic');
  });

  it('loses to the baseline when the network is crippled', async () => {
    const weak = await trainModel({ ...s, featureSet, seed: 3, now: NOW, options: { hidden: [2], learningRate: 1e-6, maxEpochs: 1 } });
    const weakAuc = rocAuc(s.test.y, scoreMatrix(weak, s.test.x));
    expect(decidePromotion({ rocAuc: weakAuc, logLoss: 1 }, result.baselineMetrics).promoted).toBe('baseline');
    weak.network.dispose();
  });

  it('save then load gives identical predictions', async () => {
    const path = join(dir, 'churn', 'v1');
    await saveModelFiles(result.model, path);
    const loaded = await loadModelFiles(path, featureSet);
    const a = scoreMatrix(result.model, s.test.x);
    const b = scoreMatrix(loaded, s.test.x);
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(loaded.metadata.calibration).toEqual(result.model.metadata.calibration);
  });

  it('records which model family was chosen on the calibration months, and why', () => {
    const sel = result.selection;
    expect(result.model.metadata.selection).toEqual(sel);
    expect(['network', 'blend']).toContain(sel.chosen); // the interaction is out of a logistic regression's reach
    expect(sel.validationAuc.network).toBeGreaterThan(sel.validationAuc.logistic);
    expect(sel.reason).toMatch(/calibration-month ROC-AUC/);
    expect(sel.trials.filter((t) => t.family === 'logistic').length).toBe(3);
    expect(sel.trials.filter((t) => t.family === 'network').length + sel.skippedForBudget).toBe(3);
    expect(result.baseline.metadata.architecture).toBe('logistic');
  });

  it('a blend of network and logistic logits is one network, saved and served like any model', async () => {
    const { blendNetworks } = await import('../../src/ml/network.js');
    const net = await trainModel({ ...s, featureSet, seed: 21, now: NOW, options: { maxEpochs: 3 } });
    const blended = blendNetworks(net.network, result.baseline.network, 0.25);
    const zNet = networkLogits(net, s.test.x);
    const zLog = networkLogits(result.baseline, s.test.x);
    const model: ChurnModel = { network: blended, featureSet, metadata: { ...net.metadata, architecture: 'blend' } };
    const zBlend = networkLogits(model, s.test.x);
    for (let i = 0; i < 20; i++) expect(zBlend[i]).toBeCloseTo(0.25 * zNet[i]! + 0.75 * zLog[i]!, 4);
    const path = join(dir, 'churn', 'blend');
    await saveModelFiles(model, path);
    const loaded = await loadModelFiles(path, featureSet);
    expect(Array.from(scoreMatrix(loaded, s.test.x))).toEqual(Array.from(scoreMatrix(model, s.test.x)));
    net.network.dispose();
  });

  it('refuses a model trained on another feature version', async () => {
    const path = join(dir, 'churn', 'v2');
    await saveModelFiles(result.model, path);
    await expect(loadModelFiles(path, syntheticFeatureSet(COLS, 'synthetic-2'))).rejects.toThrow(ModelLoadError);
    await expect(loadModelFiles(path, syntheticFeatureSet(COLS, 'synthetic-2'))).rejects.toThrow(/feature set synthetic-1/);
  });

  it('gives the same predictions on wasm and cpu (1e-5)', async () => {
    const path = join(dir, 'churn', 'v3');
    await saveModelFiles(result.model, path);
    const onWasm = scoreMatrix(await loadModelFiles(path, featureSet), s.test.x);
    try {
      expect(await initBackend('cpu')).toBe('cpu');
      const onCpu = scoreMatrix(await loadModelFiles(path, featureSet), s.test.x);
      let maxDiff = 0;
      for (let i = 0; i < onCpu.length; i++) maxDiff = Math.max(maxDiff, Math.abs(onCpu[i]! - onWasm[i]!));
      expect(maxDiff).toBeLessThan(1e-5);
    } finally {
      expect(await initBackend('wasm')).toBe('wasm');
    }
  });

  it('scores come with a band and up to three readable drivers', () => {
    const scores = scoreWithDrivers(result.model, sliceRows(s.test, 0, 50).x);
    expect(scores).toHaveLength(50);
    for (const score of scores) {
      expect(score.drivers.length).toBeLessThanOrEqual(3);
      expect(['low', 'medium', 'high', 'critical']).toContain(score.band);
      for (const d of score.drivers) expect(d.sentence).toContain(d.feature);
    }
  });
});

describe('seeded training', () => {
  const data = syntheticChurnData({ rows: 3_000, cols: COLS, seed: 5, weights: [1, 1, 0, 0, 0.5] }, featureSet);
  const s = splits(data);
  const train = (seed: number) => trainModel({ ...s, featureSet, seed, now: NOW, options: { maxEpochs: 4, patience: 10 } });

  it('same seed gives the same predictions, another seed does not', async () => {
    const [a, b, c] = [await train(9), await train(9), await train(10)];
    const pa = scoreMatrix(a, s.test.x);
    const pb = scoreMatrix(b, s.test.x);
    const pc = scoreMatrix(c, s.test.x);
    let same = 0;
    let other = 0;
    for (let i = 0; i < pa.length; i++) {
      same = Math.max(same, Math.abs(pa[i]! - pb[i]!));
      other = Math.max(other, Math.abs(pa[i]! - pc[i]!));
    }
    expect(same).toBeLessThan(1e-6);
    expect(other).toBeGreaterThan(1e-4);
    for (const m of [a, b, c]) m.network.dispose();
  });

  it('buildModel is pure: the same seed gives the same initial weights', () => {
    const w1 = buildModel(COLS, { hidden: [16, 8], dropout: 0.1, seed: 4 }).getWeights().map((w) => Array.from(w.dataSync()));
    const w2 = buildModel(COLS, { hidden: [16, 8], dropout: 0.1, seed: 4 }).getWeights().map((w) => Array.from(w.dataSync()));
    expect(w2).toEqual(w1);
  });
});

describe('explanations', () => {
  // only f2 (days) matters, strongly; every other column is noise
  const data = syntheticChurnData({ rows: 6_000, cols: COLS, seed: 8, weights: [0, 0, 2.5], intercept: -1.5 }, featureSet);
  const s = splits(data);
  let model: ChurnModel;

  beforeAll(async () => {
    model = await trainModel({ ...s, featureSet, seed: 2, now: NOW, options: { maxEpochs: 10 } });
  });

  it('rank the planted strong feature first for high-risk customers', () => {
    const p = scoreMatrix(model, s.test.x);
    const riskiest = Array.from(p.keys()).sort((a, b) => p[b]! - p[a]!).slice(0, 50);
    const rows = { data: new Float32Array(riskiest.flatMap((r) => Array.from(s.test.x.data.subarray(r * COLS, (r + 1) * COLS)))), rows: 50, cols: COLS };
    const drivers = explainMatrix(model, rows);
    const firstIsPlanted = drivers.filter((d) => d[0]?.feature === 'f2').length;
    expect(firstIsPlanted).toBeGreaterThanOrEqual(48);
    for (const d of drivers) expect(d[0]!.contribution).toBeGreaterThan(0.1);
  });

  it('list only risk-raising drivers, largest first, with the spec sentence', () => {
    let shown = 0;
    for (let r = 0; r < 200; r++) {
      const row = Array.from(s.test.x.data.subarray(r * COLS, (r + 1) * COLS));
      const drivers = explain(model, row, featureSet, { top: COLS });
      const contributions = drivers.map((d) => d.contribution);
      expect(contributions.every((c) => c >= MIN_DRIVER_CONTRIBUTION)).toBe(true);
      expect(contributions).toEqual([...contributions].sort((a, b) => b - a));
      for (const d of drivers) expect(d.sentence).toBe(featureSet.features.find((f) => f.name === d.feature)!.sentence(d.value));
      shown += drivers.length;
    }
    expect(shown).toBeGreaterThan(0);
  });

  it("apply each feature's driver rules: an absence is never a reason, one fact gives one driver", () => {
    const p = scoreMatrix(model, s.test.x);
    const riskiest = Array.from(p.keys()).sort((a, b) => p[b]! - p[a]!).slice(0, 50);
    const rows = { data: new Float32Array(riskiest.flatMap((r) => Array.from(s.test.x.data.subarray(r * COLS, (r + 1) * COLS)))), rows: 50, cols: COLS };
    // the planted feature, declared absent at every value, is never shown
    const absent = { ...featureSet, features: featureSet.features.map((f) => (f.name === 'f2' ? { ...f, driver: { absent: () => true } } : f)) };
    expect(explainMatrix(model, rows, absent, { top: COLS }).flat().filter((d) => d.feature === 'f2')).toEqual([]);
    // every feature stating one fact: at most one driver per customer, the largest
    const oneFact = { ...featureSet, features: featureSet.features.map((f) => ({ ...f, driver: { ...f.driver, fact: 'same' } })) };
    const all = explainMatrix(model, rows, featureSet, { top: COLS });
    const grouped = explainMatrix(model, rows, oneFact, { top: COLS });
    expect(grouped.every((d) => d.length <= 1)).toBe(true);
    expect(grouped.map((d) => d[0]?.feature)).toEqual(all.map((d) => d[0]?.feature));
  });

  it('occlude a fact stated by several features as a whole, and show that whole contribution', () => {
    const p = scoreMatrix(model, s.test.x);
    const riskiest = Array.from(p.keys()).sort((a, b) => p[b]! - p[a]!).slice(0, 20);
    const rows = { data: new Float32Array(riskiest.flatMap((r) => Array.from(s.test.x.data.subarray(r * COLS, (r + 1) * COLS)))), rows: 20, cols: COLS };
    // f2 and f3 state one fact: its contribution is the drop with both reset to the reference at once
    const paired = { ...featureSet, features: featureSet.features.map((f) => (f.name === 'f2' || f.name === 'f3' ? { ...f, driver: { ...f.driver, fact: 'pair' } } : f)) };
    const drivers = explainMatrix(model, rows, paired, { top: COLS });
    const reference = model.metadata.reference;
    const both = new Float32Array(rows.data);
    for (let r = 0; r < 20; r++) for (const f of [2, 3]) both[r * COLS + f] = reference[f]!;
    const withoutPair = scoreMatrix(model, { data: both, rows: 20, cols: COLS });
    const base = scoreMatrix(model, rows);
    let checked = 0;
    for (let r = 0; r < 20; r++) {
      const pair = drivers[r]!.filter((d) => d.feature === 'f2' || d.feature === 'f3');
      expect(pair.length).toBeLessThanOrEqual(1);
      if (pair.length === 0) continue;
      expect(pair[0]!.contribution).toBeCloseTo(base[r]! - withoutPair[r]!, 5);
      checked++;
    }
    expect(checked).toBeGreaterThan(10);
  });

  it('make one predict call per chunk, not one per feature', () => {
    const predict = model.network.predict.bind(model.network);
    let calls = 0;
    model.network.predict = ((...args: Parameters<typeof predict>) => {
      calls++;
      return predict(...args);
    }) as typeof predict;
    try {
      explainMatrix(model, sliceRows(s.test, 0, 200).x);
    } finally {
      model.network.predict = predict;
    }
    // one call for the base scores, one for all 200 x 8 occluded variants
    expect(calls).toBe(2);
  });
});

it('tensors do not leak across a scoring call', () => {
  const model = buildModel(3, { hidden: [4], dropout: 0, seed: 1 });
  const m: ChurnModel = {
    network: model,
    featureSet: syntheticFeatureSet(3),
    metadata: { normalisation: { transform: ['none', 'none', 'none'], mean: [0, 0, 0], std: [1, 1, 1] }, calibration: { method: 'none' } } as never,
  };
  const before = tf.memory().numTensors;
  scoreMatrix(m, { data: new Float32Array(30), rows: 10, cols: 3 });
  expect(tf.memory().numTensors).toBe(before);
});
