import { settleOutcomes } from '../../services/retention/outcomes.js';
import { inngest } from '../client.js';
import type { InngestDeps } from '../deps.js';

/** Every day at 04:30 UTC, after the decision run. */
export const TRACK_OUTCOMES_SCHEDULE = '30 4 * * *';

/**
 * Settles the outcome of every decision (treated and holdout alike, dry runs too) whose horizon
 * has passed: did the customer churn within it. Settled outcomes never change, so a re-run only
 * settles what became due since.
 */
export function createTrackOutcomes(deps: InngestDeps) {
  const client = deps.client ?? inngest;
  return client.createFunction(
    {
      id: 'track-outcomes',
      name: 'Settle retention outcomes',
      triggers: [{ cron: TRACK_OUTCOMES_SCHEDULE }],
      concurrency: { limit: 1 },
    },
    async ({ step }) => step.run('settle-outcomes', () => settleOutcomes(deps.database, { now: deps.now() })),
  );
}
