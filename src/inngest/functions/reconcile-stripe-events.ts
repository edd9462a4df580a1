import { knownAccounts, reconcileStripeEvents, type ReconcileSummary } from '../../services/sync/reconcile.js';
import { PLATFORM_ACCOUNT } from '../../services/events/parse.js';
import { inngest } from '../client.js';
import type { InngestDeps } from '../deps.js';

export const RECONCILE_SCHEDULE = '*/30 * * * *';

/**
 * Every half hour, asks Stripe for each known account's recent events and stores any the
 * webhook endpoint missed (Stripe's advice for undelivered events). One step per account, so
 * a failing account is retried alone and finished accounts are not listed again.
 */
export function createReconcileStripeEvents(deps: InngestDeps) {
  const client = deps.client ?? inngest;
  return client.createFunction(
    {
      id: 'reconcile-stripe-events',
      name: 'Reconcile Stripe events',
      triggers: [{ cron: RECONCILE_SCHEDULE }],
      concurrency: { limit: 1 },
    },
    async ({ step }) => {
      const stripe = deps.stripe;
      if (!stripe) return { skipped: 'STRIPE_SECRET_KEY is not set', accounts: [] as ReconcileSummary[] };
      const accounts = await step.run('list-accounts', () => knownAccounts(deps.database));
      const summaries: ReconcileSummary[] = [];
      for (const account of accounts) {
        const summary = await step.run(`reconcile-${account}`, () =>
          reconcileStripeEvents({
            database: deps.database,
            stripe,
            stripeAccount: account === PLATFORM_ACCOUNT ? undefined : account,
            now: deps.now(),
          }),
        );
        summaries.push(summary);
      }
      return { accounts: summaries };
    },
  );
}
