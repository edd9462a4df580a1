import { inngest } from '../client.js';
import type { InngestDeps } from '../deps.js';
import { customersScoreBatchRequested } from '../events.js';
import { customersInSlice, scoreScope } from '../score-scope.js';

/** Slices scored at once per account (each holds a slice's features in memory). */
export const SCORE_BATCH_CONCURRENCY = { limit: 2, key: 'event.data.account' } as const;

/** Scores one slice of the daily fan-out at the run's asOf and stores the scores. */
export function createScoreCustomerBatch(deps: InngestDeps) {
  const client = deps.client ?? inngest;
  return client.createFunction(
    {
      id: 'score-customer-batch',
      name: 'Score a batch of customers',
      triggers: [customersScoreBatchRequested],
      concurrency: SCORE_BATCH_CONCURRENCY,
    },
    async ({ event, step }) => {
      const { account, asOf, batch } = event.data;
      return step.run('score-batch', async () => {
        const model = deps.champion ? await deps.champion() : null;
        if (!model) return { account, batch, asOf, scored: 0, skipped: 'no champion model yet: train one first (churn train)' };
        const customerIds = await customersInSlice(deps.database, event.data);
        if (customerIds.length === 0) return { account, batch, asOf, scored: 0 };
        const summary = await scoreScope(deps.database, { asOf, model, scope: { kind: 'customers', account, customerIds } });
        return { account, batch, asOf, modelVersion: summary.modelVersion, scored: summary.scored };
      });
    },
  );
}
