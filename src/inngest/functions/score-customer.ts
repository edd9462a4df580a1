import { inngest } from '../client.js';
import type { InngestDeps } from '../deps.js';
import { customerScoreRequested } from '../events.js';
import { scoreScope } from '../score-scope.js';

/**
 * Wait this long after the last request for a customer before scoring (a burst of Stripe events is
 * one score, and the projector has applied them by then), but never longer than the timeout: a
 * fresh score exists within a minute of the first event however many follow.
 */
export const SCORE_DEBOUNCE = { key: 'event.data.account + "-" + event.data.customerId', period: '20s', timeout: '50s' } as const;
/** Scoring runs at once per account, so one busy account cannot take every worker. */
export const SCORE_CONCURRENCY = { limit: 5, key: 'event.data.account' } as const;

/** Scores one customer at the request's asOf (or now) with the champion and stores the score. */
export function createScoreCustomer(deps: InngestDeps) {
  const client = deps.client ?? inngest;
  return client.createFunction(
    {
      id: 'score-customer',
      name: 'Score one customer',
      triggers: [customerScoreRequested],
      debounce: SCORE_DEBOUNCE,
      concurrency: SCORE_CONCURRENCY,
    },
    async ({ event, step }) => {
      const { account, customerId } = event.data;
      return step.run('score-customer', async () => {
        const asOf = event.data.asOf ?? deps.now();
        const model = deps.champion ? await deps.champion() : null;
        if (!model) return { account, customerId, asOf, skipped: 'no champion model yet: train one first (churn train)' };
        const summary = await scoreScope(deps.database, { asOf, model, scope: { kind: 'customer', account, customerId } });
        const score = summary.customers[0];
        if (!score) return { account, customerId, asOf, skipped: 'no live subscription at asOf' };
        return { account, customerId, asOf, modelVersion: summary.modelVersion, probability: score.probability, band: score.band };
      });
    },
  );
}
