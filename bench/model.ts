/**
 * Model benchmark on synthetic snapshots (`npx tsx bench/model.ts [--rows 100000] [--cols 30]`).
 * Prints one JSON object: backend, training time, inference rows/s (large batch vs TF.js's
 * default batch of 32 on the same model, measured in the same run), explanation throughput and
 * peak RSS. Targets on a 2-core machine: training < 60 s, inference >= 1,000,000 rows/s on wasm.
 * Feature computation from the database is benchmarked separately by the feature side.
 */
import { initBackend, tf } from '../src/ml/backend.js';
import { explainMatrix } from '../src/ml/explain.js';
import { trainCandidate } from '../src/ml/candidate.js';
import { normaliseMatrix } from '../src/ml/normalisation.js';
import { PREDICT_BATCH, scoreMatrix } from '../src/ml/predict.js';
import { sliceRows, syntheticChurnData, syntheticFeatureSet } from '../src/ml/synthetic.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const rows = arg('rows', 100_000);
const cols = arg('cols', 30);
const backend = await initBackend();
const featureSet = syntheticFeatureSet(cols);
const weights = Array.from({ length: cols }, (_, c) => (c < 10 ? [1.2, -0.9, 0.7, 0.5, 0.8, -0.4, 0.3, 0.6, -0.3, 0.2][c]! : 0));
const heldOut = Math.round(rows * 0.1);
const data = syntheticChurnData({ rows: rows + 3 * heldOut, cols, seed: 2026, weights, interaction: 1, intercept: -2.5 }, featureSet);
const train = sliceRows(data, 0, rows);
const valid = sliceRows(data, rows, rows + heldOut);
const calib = sliceRows(data, rows + heldOut, rows + 2 * heldOut);
const test = sliceRows(data, rows + 2 * heldOut, rows + 3 * heldOut);

const t0 = performance.now();
const cpu0 = process.cpuUsage();
const result = await trainCandidate({ train, valid, calib, test, featureSet, seed: 1, now: new Date('2026-11-27T00:00:00Z') });
const trainSeconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
// CPU time of this process: what training costs when the shared machine's other work is taken out
const trainCpuSeconds = (cpu.user + cpu.system) / 1e6;
const model = result.model;

// Pure inference: the network alone on pre-normalised input, large batches vs the default 32.
const infer = sliceRows(data, 0, rows).x;
const input = tf.tensor2d(normaliseMatrix(infer, model.metadata.normalisation), [infer.rows, infer.cols]);
const timeIt = (fn: () => void, repeats: number) => {
  fn();
  const start = performance.now();
  for (let i = 0; i < repeats; i++) fn();
  return (performance.now() - start) / 1000 / repeats;
};
const predictOnce = (t: tf.Tensor2D, batchSize: number) => tf.tidy(() => (model.network.predict(t, { batchSize }) as tf.Tensor).dataSync());
const largeSeconds = timeIt(() => predictOnce(input, PREDICT_BATCH), 5);
const wholeSeconds = timeIt(() => predictOnce(input, infer.rows), 5);
const small = input.slice([0, 0], [2000, cols]);
const batch32Seconds = timeIt(() => predictOnce(small, 32), 2);
tf.dispose([input, small]);
// End to end: raw matrix -> normalise -> predict -> calibrate.
const scoreSeconds = timeIt(() => scoreMatrix(model, infer), 3);
// Explanations: occlusion drivers for 5,000 customers.
const explainRows = sliceRows(data, 0, 5000).x;
const explainSeconds = timeIt(() => explainMatrix(model, explainRows), 1);

const round = (v: number, d = 3) => Math.round(v * 10 ** d) / 10 ** d;
console.log(
  JSON.stringify(
    {
      benchmark: 'model',
      backend,
      rows,
      features: cols,
      training: {
        // model selection: every search trial (on the subsample), the two refits on all rows, the choice on the calibration rows, the held-out scoring
        seconds_total: round(trainSeconds, 2),
        cpu_seconds_total: round(trainCpuSeconds, 2),
        chosen: result.selection.chosen,
        trials: result.selection.trials.map((t) => ({ family: t.family, seconds: round(t.seconds, 2), epochs: t.epochs, valid_auc: round(t.validAuc, 4) })),
        search_rows: result.selection.searchRows,
        train_rows: result.selection.trainRows,
        refits: result.selection.refits.map((t) => ({ family: t.family, seconds: round(t.seconds, 2), epochs: t.epochs, valid_auc: round(t.validAuc, 4) })),
        skipped_for_budget: result.selection.skippedForBudget,
        budget_seconds: result.selection.budgetSeconds,
        first_network_trial_seconds: round(result.selection.trials.find((t) => t.family === 'network')?.seconds ?? NaN, 2),
        logistic_baseline_refit_seconds: round(result.baseline.metadata.training.seconds, 2),
        target_seconds: 60,
      },
      held_out: {
        rows: test.x.rows,
        served_auc: round(result.metrics.overall.rocAuc, 4),
        baseline_auc: round(result.baselineMetrics.overall.rocAuc, 4),
        served_ece: round(result.metrics.overall.ece, 4),
      },
      inference: {
        network_rows_per_s_batch_32768: Math.round(infer.rows / largeSeconds),
        network_rows_per_s_whole_matrix: Math.round(infer.rows / wholeSeconds),
        network_rows_per_s_batch_32_on_2000_rows: Math.round(2000 / batch32Seconds),
        speedup_vs_batch_32: round(infer.rows / largeSeconds / (2000 / batch32Seconds), 1),
        score_matrix_rows_per_s: Math.round(infer.rows / scoreSeconds),
        target_rows_per_s: 1_000_000,
      },
      explanations: { rows: explainRows.rows, rows_per_s: Math.round(explainRows.rows / explainSeconds) },
      peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
      note: '2-core machine shared with other engineers; figures are disturbed by their work',
    },
    null,
    2,
  ),
);
