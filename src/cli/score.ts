import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { isoDay } from '../lib/clock.js';
import { createProgress } from '../lib/progress.js';
import { scoreAllCustomers, scoresCsv } from '../services/scoring/score-all-customers.js';
import { championAndAsOf } from './champion.js';
import { asOfOption, withDatabase } from './context.js';

export function registerScore(program: Command): void {
  program
    .command('score')
    .description('score every customer with a live subscription with the champion model and store the scores')
    .option('--as-of <iso>', 'score as of this time (default: newest stored event)')
    .option('--out <file>', 'also write the scores as CSV')
    .option('--account <acct>', 'only this Stripe account (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .action(async (opts: { asOf?: string; out?: string; account?: string[] }) => {
      const asOf = asOfOption(opts.asOf);
      await withDatabase(async (database, env) => {
        const { model, asOf: when } = await championAndAsOf(database, env, asOf, opts.account?.length ? opts.account : undefined);
        const progress = createProgress('scoring', 3);
        const result = await scoreAllCustomers(database, {
          asOf: when,
          model,
          accounts: opts.account?.length ? opts.account : undefined,
          onProgress: (stage, done, total) => {
            if (done === total) progress.tick();
          },
        });
        progress.stop();
        if (opts.out) await writeFile(opts.out, scoresCsv(result));
        const bands = { low: 0, medium: 0, high: 0, critical: 0 };
        for (const c of result.customers) bands[c.band]++;
        process.stdout.write(
          `scored ${result.customers.length} customer(s) as of ${new Date(when * 1000).toISOString()} (${isoDay(when)}) with ${result.modelName} ${result.modelVersion}: ` +
            `${bands.critical} critical, ${bands.high} high, ${bands.medium} medium, ${bands.low} low` +
            `${opts.out ? `; written to ${opts.out}` : ''}\n`,
        );
      });
    });
}
