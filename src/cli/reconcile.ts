import type { Command } from 'commander';
import { createProgress } from '../lib/progress.js';
import { reconcileStripeEvents } from '../services/sync/reconcile.js';
import { intOption, withDatabase } from './context.js';
import { stripeClock } from '../services/sync/stripe-clock.js';
import { accountOption, stripeForSync } from './backfill.js';

export function registerReconcile(program: Command): void {
  program
    .command('reconcile')
    .description('store Stripe events the webhook endpoint missed (lists events since the newest stored one)')
    .option('--stripe-account <acct>', 'a connected account (acct_...) instead of the platform account')
    .option('--overlap-minutes <n>', 'look this far before the newest stored event', '60')
    .option('--quiet', 'no progress output')
    .action(async (opts: { stripeAccount?: string; overlapMinutes?: string; quiet?: boolean }) => {
      const stripeAccount = accountOption(opts.stripeAccount);
      const overlapSeconds = intOption('overlap-minutes', opts.overlapMinutes, 60) * 60;
      await withDatabase(async (database, env) => {
        const stripe = stripeForSync(env);
        const now = await stripeClock(env);
        const progress = createProgress('events', 0, { quiet: opts.quiet });
        let last = 0;
        const summary = await reconcileStripeEvents({
          database,
          stripe,
          stripeAccount,
          now: now(),
          overlapSeconds,
          onProgress: (seen) => {
            progress.tick(seen - last);
            last = seen;
          },
        });
        progress.stop();
        process.stdout.write(
          `reconciled ${summary.account}: ${summary.seen} event(s) since ${new Date(summary.since * 1000).toISOString()}, ${summary.stored} missed and now stored, ${summary.duplicates} already stored\n`,
        );
      });
    });
}
