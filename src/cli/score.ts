import { randomBytes } from 'node:crypto';
import { open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Command } from 'commander';
import { isoDay } from '../lib/clock.js';
import { errorMessage, UsageError } from '../lib/errors.js';
import { createProgress } from '../lib/progress.js';
import { atRiskCsv, rankAtRisk } from '../services/scoring/at-risk.js';
import { scoreAllCustomers } from '../services/scoring/score-all-customers.js';
import { formatAtRiskTable } from './at-risk-table.js';
import { championAndAsOf, refuseAsOfBeyondData } from './champion.js';
import { asOfOption, intOption, withDatabase } from './context.js';

/**
 * The CSV goes to a temporary file beside `--out`, opened before anything is scored or stored (so
 * a path that cannot be written fails first) and renamed over `--out` at the end (so a run that
 * fails halfway leaves an existing file as it was).
 */
async function openCsvTarget(out: string): Promise<{ handle: FileHandle; commit: () => Promise<void>; abandon: () => Promise<void> }> {
  const existing = await stat(out).catch(() => null);
  if (existing?.isDirectory()) throw new UsageError(`cannot write --out ${out}: it is a directory`);
  const tmp = join(dirname(out), `.${basename(out)}.${randomBytes(4).toString('hex')}.tmp`);
  let handle: FileHandle;
  try {
    handle = await open(tmp, 'wx');
    if (existing) {
      // an existing file we could not replace (read-only) is refused now, not after scoring
      const probe = await open(out, 'r+').catch((err: unknown) => err as Error);
      if (probe instanceof Error) throw probe;
      await probe.close();
    }
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw new UsageError(`cannot write --out ${out}: ${errorMessage(err).replace(/, open '.*'$/, '')}`);
  }
  return {
    handle,
    commit: async () => {
      await handle.close();
      await rename(tmp, out);
    },
    abandon: async () => {
      await handle.close().catch(() => {});
      await unlink(tmp).catch(() => {});
    },
  };
}

export function registerScore(program: Command): void {
  program
    .command('score')
    .description('score every customer with a live subscription with the champion model, store the scores and print the most at risk')
    .option('--as-of <iso>', 'score as of this time (default: newest stored event; refused beyond it)')
    .option('--out <file>', 'also write every score as CSV, riskiest first')
    .option('--top <n>', 'most at-risk customers to print (0 for none)', '10')
    .option('--account <acct>', 'only this Stripe account (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .action(async (opts: { asOf?: string; out?: string; top?: string; account?: string[] }) => {
      const asOf = asOfOption(opts.asOf);
      const top = intOption('top', opts.top, 10);
      const accounts = opts.account?.length ? opts.account : undefined;
      const csv = opts.out ? await openCsvTarget(opts.out) : null;
      try {
        await withDatabase(async (database, env) => {
          if (asOf !== undefined) await refuseAsOfBeyondData(database, asOf, accounts);
          const { model, asOf: when } = await championAndAsOf(database, env, asOf, accounts);
          const progress = createProgress('scoring', 3);
          const result = await scoreAllCustomers(database, {
            asOf: when,
            model,
            accounts,
            onProgress: (_stage, done, total) => {
              if (done === total) progress.tick();
            },
          });
          progress.stop();
          const ranked = await rankAtRisk(database, result, accounts);
          if (csv) {
            await csv.handle.writeFile(atRiskCsv(ranked, { asOf: when, modelVersion: result.modelVersion }));
            await csv.commit();
          }
          const bands = { low: 0, medium: 0, high: 0, critical: 0 };
          for (const c of ranked) bands[c.band]++;
          const lines = [
            `scored ${ranked.length} customer(s) as of ${new Date(when * 1000).toISOString()} (${isoDay(when)}) with ${result.modelName} ${result.modelVersion}: ` +
              `${bands.critical} critical, ${bands.high} high, ${bands.medium} medium, ${bands.low} low${opts.out ? `; written to ${opts.out}` : ''}`,
          ];
          const table = formatAtRiskTable(ranked, top);
          if (table.length) lines.push('', `most at risk (risk = probability of churning within ${model.metadata.horizonDays ?? 30} days; at risk = risk x MRR):`, ...table);
          process.stdout.write(`${lines.join('\n')}\n`);
        });
      } catch (err) {
        await csv?.abandon();
        throw err;
      }
    });
}
