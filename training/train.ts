/**
 * Trains a churn model on the configured database (DATABASE_URL, else the embedded PGlite in
 * DATA_DIR), exactly as `churn train` does: monthly snapshots up to --as-of, split by time, MLP and
 * logistic baseline, evaluation report, registration, promotion when it beats baseline and champion.
 *
 *   npx tsx training/train.ts --seed 7 [--as-of 2026-06-01] [--horizon-days 30] [--max-snapshots 24] [--account acct_...]
 */
import { parseArgs } from 'node:util';
import { withDatabase } from '../src/cli/context.js';
import { parseTrainFlags } from '../src/cli/train.js';
import { initBackend } from '../src/ml/backend.js';
import { trainChurnModel } from '../src/services/training/train-model.js';
import { writeTrainingReport } from '../src/services/training/write-report.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string' },
      'as-of': { type: 'string' },
      'horizon-days': { type: 'string' },
      'max-snapshots': { type: 'string' },
      account: { type: 'string', multiple: true },
    },
  });
  const flags = parseTrainFlags({
    seed: values.seed,
    asOf: values['as-of'],
    horizonDays: values['horizon-days'],
    maxSnapshots: values['max-snapshots'],
    account: values.account,
  });
  await withDatabase(async (database, env) => {
    await initBackend(env.TFJS_BACKEND);
    const result = await trainChurnModel(database, { ...flags, modelDir: env.MODEL_DIR, trigger: 'cli', now: new Date(), writeReport: writeTrainingReport });
    process.stdout.write(`${JSON.stringify({ version: result.version, promoted: result.promoted, reason: result.decision.reason, data: result.data, auc: result.metrics.overall.rocAuc, baselineAuc: result.baselineMetrics.overall.rocAuc, ece: result.metrics.overall.ece, report: result.reportPath })}\n`);
  });
}

await main();
