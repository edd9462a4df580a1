import type { Command } from 'commander';
import { UsageError } from '../lib/errors.js';
import { createProgress, type Progress } from '../lib/progress.js';
import { initBackend } from '../ml/backend.js';
import { trainChurnModel } from '../services/training/train-model.js';
import { writeTrainingReport } from '../services/training/write-report.js';
import { asOfOption, intOption, withDatabase } from './context.js';

export interface TrainFlags {
  asOf?: string;
  horizonDays?: string;
  seed?: string;
  maxSnapshots?: string;
  account?: string[];
}

/** Parses `churn train` flags; bad values are usage errors (exit 2). */
export function parseTrainFlags(opts: TrainFlags): { asOf?: number; horizonDays: number; seed: number; maxSnapshots: number; accounts?: string[] } {
  const asOf = asOfOption(opts.asOf);
  const horizonDays = intOption('horizon-days', opts.horizonDays, 30);
  if (horizonDays < 1 || horizonDays > 365) throw new UsageError('--horizon-days must be between 1 and 365');
  const maxSnapshots = intOption('max-snapshots', opts.maxSnapshots, 24);
  if (maxSnapshots < 3) throw new UsageError('--max-snapshots must be at least 3 (train, validate, evaluate)');
  return { asOf, horizonDays, seed: intOption('seed', opts.seed, 7), maxSnapshots, accounts: opts.account?.length ? opts.account : undefined };
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train a churn model on monthly snapshots of the stored history (network, logistic regression or their blend, chosen on validation months), evaluate it on the newest months, register it, promote it if it beats the logistic baseline and the champion (else the baseline when it beats the champion or there is none)')
    .option('--as-of <iso>', 'newest time labels may use (default: newest stored event)')
    .option('--horizon-days <n>', 'churn horizon in days', '30')
    .option('--seed <n>', 'random seed', '7')
    .option('--max-snapshots <n>', 'most monthly snapshots to use', '24')
    .option('--account <acct>', 'only this Stripe account (repeatable; "platform" for the platform account)', (v: string, prev: string[] = []) => [...prev, v])
    .action(async (opts: TrainFlags) => {
      const flags = parseTrainFlags(opts);
      await withDatabase(async (database, env) => {
        const backend = await initBackend(env.TFJS_BACKEND);
        let bar: Progress | null = null;
        let stage = '';
        const result = await trainChurnModel(database, {
          ...flags,
          modelDir: env.MODEL_DIR,
          trigger: 'cli',
          now: new Date(),
          writeReport: writeTrainingReport,
          onProgress: (s, done, total) => {
            if (s !== stage) {
              bar?.stop();
              stage = s;
              bar = createProgress(s === 'snapshots' ? 'building snapshots' : `training (${backend}, model-selection trials)`, total);
            }
            bar!.update(done, total);
          },
        });
        (bar as Progress | null)?.stop();
        const m = result.metrics.overall;
        const b = result.baselineMetrics.overall;
        process.stdout.write(
          [
            `model ${result.modelName} ${result.version}: trained on ${result.data.snapshots} snapshots ${result.data.from} … ${result.data.to}` +
              ` (${result.data.rows.train} train rows, ${result.data.positives.train} churners)`,
            `held-out ${result.data.testMonths.join(', ')}: ROC-AUC ${m.rocAuc.toFixed(4)} (baseline ${b.rocAuc.toFixed(4)}` +
              `${result.championMetrics ? `, champion ${result.championMetrics.overall.rocAuc.toFixed(4)}` : ''}), ECE ${m.ece.toFixed(4)}, Brier ${m.brier.toFixed(4)}`,
            `model selection: ${result.selection.chosen}, ${result.selection.trials.length} trials in ${result.selection.seconds.toFixed(1)} s: ${result.selection.reason}`,
            `${result.promotedVersion ? `champion is now ${result.promotedVersion}` : `${result.version} kept as candidate`}: ${result.decision.reason}`,
            result.reportPath ? `report: ${result.reportPath}` : '',
          ]
            .filter(Boolean)
            .join('\n') + '\n',
        );
      });
    });
}
