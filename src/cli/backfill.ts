import type { Command } from 'commander';
import { createProgress, type Progress } from '../lib/progress.js';
import { BACKFILL_RESOURCES, BackfillInterrupted, backfillStripe, type BackfillResource } from '../services/sync/backfill.js';
import { intOption, withDatabase } from './context.js';
import type Stripe from 'stripe';
import type { Env } from '../env.js';
import { ConfigError, UsageError } from '../lib/errors.js';
import { stripeClock } from '../services/sync/stripe-clock.js';
import { createStripeClient } from '../stripe/client.js';

/** The Stripe client for backfill/reconcile; both need a key. */
export function stripeForSync(env: Env): Stripe {
  if (!env.STRIPE_SECRET_KEY) throw new ConfigError('STRIPE_SECRET_KEY', 'required to read from the Stripe API (a restricted read-only key is enough)');
  return createStripeClient({ secretKey: env.STRIPE_SECRET_KEY, apiBase: env.STRIPE_API_BASE, maxNetworkRetries: 3 });
}

export function accountOption(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^acct_[A-Za-z0-9]+$/.test(value)) throw new UsageError('--stripe-account must be a connected account id (acct_...)');
  return value;
}

/** What a shell reports for a command stopped by Ctrl-C (128 + SIGINT). */
export const INTERRUPTED_EXIT_CODE = 130;

export function registerBackfill(program: Command): void {
  program
    .command('backfill')
    .description('copy customers, subscriptions, invoices, charges, refunds, disputes, payment methods and the last 30 days of events from the Stripe API, and rebuild their dated history (resumable)')
    .option('--stripe-account <acct>', 'a connected account (acct_...) instead of the platform account')
    .option('--days <n>', 'days of events to copy (Stripe keeps 30)', '30')
    .option('--restart', 'ignore stored cursors and copy everything again')
    .option('--quiet', 'no progress output')
    .action(async (opts: { stripeAccount?: string; days?: string; restart?: boolean; quiet?: boolean }) => {
      const stripeAccount = accountOption(opts.stripeAccount);
      const days = intOption('days', opts.days, 30);
      // Ctrl-C stops after the current page and keeps the cursor; the handler is in place before
      // anything is opened, so an early Ctrl-C is also a clean, worded stop.
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        await withDatabase(async (database, env) => {
          const stripe = stripeForSync(env);
          const now = await stripeClock(env);
          let progress: Progress | null = null;
          try {
            const summary = await backfillStripe({
              database,
              stripe,
              stripeAccount,
              days,
              now,
              restart: opts.restart,
              signal: controller.signal,
              onResourceStart: (resource, state) => {
                progress?.stop();
                progress = createProgress(state.resumingAfter ? `${resource} (resuming after ${state.resumingAfter})` : resource, 0, { quiet: opts.quiet });
              },
              onProgress: (_resource, n) => progress?.tick(n),
            });
            (progress as Progress | null)?.stop();
            for (const resource of BACKFILL_RESOURCES) {
              const r = summary.resources[resource as BackfillResource];
              if (!r) continue;
              process.stdout.write(
                r.skipped
                  ? `${resource}: already complete (use --restart to copy again)\n`
                  : resource === 'history'
                    ? `history: ${r.seen} subscriptions rebuilt, ${r.stored} new dated facts, ${r.duplicates} already stored\n`
                    : `${resource}: ${r.seen} read, ${r.stored} new, ${r.duplicates} already stored${r.paymentMethodsExpanded ? ` (+${r.paymentMethodsExpanded} payment methods expanded)` : ''}${r.resumedAfter ? ` (resumed after ${r.resumedAfter})` : ''}\n`,
              );
            }
            process.stdout.write(`backfill of ${summary.account} complete (${summary.apiCalls} Stripe API calls)\n`);
          } catch (err) {
            (progress as Progress | null)?.stop();
            if (err instanceof BackfillInterrupted) {
              const where = `during ${err.resource}${err.cursor ? `, after ${err.cursor}` : ''}`;
              process.stderr.write(`churn: backfill interrupted (${where}); run again to resume\n`);
              process.exitCode = INTERRUPTED_EXIT_CODE;
              return;
            }
            throw err;
          }
        });
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });
}
