import type { Command } from 'commander';
import { systemNow } from '../lib/clock.js';
import { asOfOption, withDatabase } from './context.js';
import { settleOutcomes } from '../services/retention/outcomes.js';

export function registerOutcomes(program: Command): void {
  program
    .command('outcomes')
    .description('settle the interventions (treated and held out) whose horizon has passed: stayed or churned, voluntary or involuntary')
    .option('--now <iso>', 'settle as of this time (default: now)')
    .action(async (opts: { now?: string }) => {
      const now = asOfOption(opts.now, 'now') ?? systemNow();
      await withDatabase(async (database) => {
        const r = await settleOutcomes(database, { now });
        process.stdout.write(`settled ${r.settled} intervention(s): ${r.churned} churned, ${r.stayed} stayed; ${r.pending} still inside their horizon\n`);
      });
    });
}
