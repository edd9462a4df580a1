import type { Command } from 'commander';
import { UsageError } from '../lib/errors.js';
import { findPolicy } from '../services/policies/store.js';
import { upliftReportFromStore } from '../services/retention/uplift-report.js';
import { renderUpliftReportText } from '../services/uplift/report.js';
import { asOfOption, withDatabase } from './context.js';

export function registerReport(program: Command): void {
  const report = program.command('report').description('reports');
  report
    .command('uplift')
    .description('treated versus holdout churn per policy and overall: the effect with its 95% interval, saved customers and MRR, offer cost, net value')
    .option('--policy <id or name>', 'only this policy')
    .option('--from <iso>', 'decisions made at or after this time')
    .option('--to <iso>', 'decisions made before this time')
    .option('--currency <code>', 'report money in this currency', 'usd')
    .option('--json', 'print JSON')
    .action(async (opts: { policy?: string; from?: string; to?: string; currency: string; json?: boolean }) => {
      if (!/^[a-z]{3}$/i.test(opts.currency)) throw new UsageError('--currency must be a three-letter ISO code such as usd');
      await withDatabase(async (database) => {
        const policyId = opts.policy ? (await findPolicy(database, opts.policy)).id : undefined;
        const r = await upliftReportFromStore(database, { policyId, from: asOfOption(opts.from, 'from'), to: asOfOption(opts.to, 'to'), currency: opts.currency.toLowerCase() });
        process.stdout.write(opts.json ? `${JSON.stringify(r, null, 2)}\n` : `${renderUpliftReportText(r)}\n`);
      });
    });
}
