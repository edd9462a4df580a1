import type { Command } from 'commander';
import { ChurnError, UsageError } from '../lib/errors.js';
import type { Database } from '../db/client.js';
import { DAY_SECONDS } from '../db/queries/features.sql.js';
import { isoDay } from '../lib/clock.js';
import { dataWindow, InsufficientDataError, monthStart } from '../ml/dataset.js';
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
              bar = createProgress(s === 'snapshots' ? 'building snapshots' : `training (${backend}, model-selection trials and refits)`, total);
            }
            bar!.update(done, total);
          },
        }).catch((err: unknown) => {
          if (err instanceof InsufficientDataError) return err;
          throw err;
        });
        (bar as Progress | null)?.stop();
        if (result instanceof InsufficientDataError) throw await explainTooLittleHistory(database, result, flags);
        const m = result.metrics.overall;
        const b = result.baselineMetrics.overall;
        process.stdout.write(
          [
            `model ${result.modelName} ${result.version}: trained on ${result.data.snapshots} snapshots ${result.data.from} … ${result.data.to}` +
              ` (${result.data.rows.train} train rows, ${result.data.positives.train} churners)`,
            `held-out ${result.data.testMonths.join(', ')}: ROC-AUC ${m.rocAuc.toFixed(4)} (baseline ${b.rocAuc.toFixed(4)}` +
              `${result.championMetrics ? `, champion ${result.championMetrics.overall.rocAuc.toFixed(4)}` : ''}), ECE ${m.ece.toFixed(4)}, Brier ${m.brier.toFixed(4)}`,
            `model selection: ${result.selection.chosen}, ${result.selection.trials.length} trials on ${result.selection.searchRows} of ${result.selection.trainRows} training rows` +
              `${result.selection.refits.length ? `, the best of each family refitted on all of them` : ''}, in ${result.selection.seconds.toFixed(1)} s: ${result.selection.reason}`,
            `${result.promotedVersion ? `champion is now ${result.promotedVersion}` : `${result.version} kept as candidate`}: ${result.decision.reason}`,
            result.reportPath ? `report: ${result.reportPath}` : '',
          ]
            .filter(Boolean)
            .join('\n') + '\n',
        );
      });
    });
}

/**
 * An account too small to train on, said with what it has, what training needs, and what to do.
 * Training needs 4 monthly snapshots whose horizon has passed (train, validate, calibrate, hold
 * out) and enough churners across them (the error names the count).
 */
async function explainTooLittleHistory(database: Database, err: InsufficientDataError, flags: { horizonDays: number; accounts?: string[] }): Promise<ChurnError> {
  const window = await dataWindow(database, flags.accounts);
  const lines = [`not enough history to train yet: ${err.message}.`];
  if (window) {
    const months = (window.end - window.start) / (30.44 * DAY_SECONDS);
    const possibleFrom = monthStart(window.start, 4) + flags.horizonDays * DAY_SECONDS;
    lines.push(
      `Stored history: ${months.toFixed(1)} month(s), ${isoDay(window.start)} … ${isoDay(window.end)}. Training needs 4 monthly snapshots whose ${flags.horizonDays}-day horizon has passed` +
        ` (this history allows them from ${isoDay(possibleFrom)}${possibleFrom <= window.end ? ', already reached' : ''}) and at least 23 churners across them.`,
    );
  }
  lines.push(
    'What to do: if the account is older than this history, rebuild its past from the Stripe API (`churn backfill`, which dates subscriptions, renewals and failed payments from what Stripe\'s objects record) or store an export of its older events (`churn ingest`); otherwise run `churn train` again once more months and churners have been stored (webhooks keep adding them). Until a model is trained, `churn score` and `churn act` have no model to score with.',
  );
  return new ChurnError('VALIDATION_FAILED', lines.join('\n'));
}
