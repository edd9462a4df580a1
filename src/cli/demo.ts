import { join } from 'node:path';
import type { Command } from 'commander';
import { parseEnv } from '../env.js';
import { UsageError } from '../lib/errors.js';
import { logger } from '../lib/logger.js';
import { runDemo } from '../demo/run-demo.js';
import { intOption } from './context.js';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('simulate a Stripe account, ingest it, receive a live month as webhooks, reconcile, train, score, then act: apply retention offers with a holdout through the local Stripe API, let the simulated customers react, and print the uplift proof beside the simulator\'s true effect')
    .option('--customers <n>', 'customers in the simulated account', '1000')
    .option('--months <n>', 'months of history (the last one arrives live)', '12')
    .option('--seed <n>', 'random seed', '42')
    .option('--retention-months <n>', 'months of retention after training: decide, apply offers, let customers react, settle outcomes', '3')
    .action(async (opts: { customers?: string; months?: string; seed?: string; retentionMonths?: string }) => {
      const env = parseEnv();
      // The demo prints its own story; routine service logs would drown it.
      if (!process.env.LOG_LEVEL) logger.level = 'error';
      const customers = intOption('customers', opts.customers, 1000);
      const months = intOption('months', opts.months, 12);
      if (customers < 200) throw new UsageError('--customers must be at least 200 (a model needs churners to learn from)');
      if (months < 6) throw new UsageError('--months must be at least 6 (training needs several monthly snapshots)');
      const retentionMonths = intOption('retention-months', opts.retentionMonths, 3);
      if (retentionMonths > 12) throw new UsageError('--retention-months must be at most 12');
      await runDemo({ customers, months, seed: intOption('seed', opts.seed, 42), dir: join(env.DATA_DIR, 'demo'), loseEvery: 50, retentionMonths });
    });
}
