import { inngest } from '../client.js';
import type { InngestDeps } from '../deps.js';
import { planCustomerSlices } from '../score-scope.js';

/** Every day at 02:00 UTC, an hour before the daily decision run. */
export const SCORE_ALL_SCHEDULE = '0 2 * * *';
/** Customers per score-customer-batch run (deps.scoreBatchSize overrides it). */
export const SCORE_BATCH_SIZE = 2_000;
/** Events per sendEvent request (well inside Inngest's per-request limits). */
const SEND_CHUNK = 500;

/**
 * The daily rescore of everyone, fanned out: one step plans id ranges of at most 2,000 customers
 * per account, then one `churn/customers.score.batch.requested` per range is sent, each scored by
 * its own (retried, concurrency-limited) score-customer-batch run. Every slice scores the same
 * snapshot (asOf fixed here), and the event ids carry it, so a retried send asks once per slice.
 */
export function createScoreAllDaily(deps: InngestDeps) {
  const client = deps.client ?? inngest;
  return client.createFunction(
    {
      id: 'score-all-daily',
      name: 'Score every customer (daily fan-out)',
      triggers: [{ cron: SCORE_ALL_SCHEDULE }],
      concurrency: { limit: 1 },
    },
    async ({ step }) => {
      const plan = await step.run('plan-batches', async () => ({
        asOf: deps.now(),
        slices: await planCustomerSlices(deps.database, deps.scoreBatchSize ?? SCORE_BATCH_SIZE),
      }));
      const counters = new Map<string, number>();
      const events = plan.slices.map((s) => {
        const batch = counters.get(s.account) ?? 0;
        counters.set(s.account, batch + 1);
        return {
          id: `score-batch-${s.account}-${plan.asOf}-${batch}`,
          name: 'churn/customers.score.batch.requested' as const,
          data: { account: s.account, afterCustomerId: s.afterCustomerId, throughCustomerId: s.throughCustomerId, asOf: plan.asOf, batch, planned: s.planned },
        };
      });
      for (let i = 0; i < events.length; i += SEND_CHUNK) {
        await step.sendEvent(`send-batches-${i / SEND_CHUNK}`, events.slice(i, i + SEND_CHUNK));
      }
      return { asOf: plan.asOf, batches: events.length, customers: plan.slices.reduce((n, s) => n + s.planned, 0), accounts: counters.size };
    },
  );
}
