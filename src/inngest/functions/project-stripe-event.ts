import { NonRetriableError } from 'inngest';
import { projectPendingEvents } from '../../services/events/ingest.js';
import { inngest } from '../client.js';
import type { InngestDeps } from '../deps.js';
import { stripeEventData, stripeEvents } from '../events.js';

/** Rounds of projectPendingEvents per run; a larger backlog is left to the next run. */
const MAX_ROUNDS = 20;
const ROUND_SIZE = 500;

/**
 * Projects stored Stripe events wherever Inngest runs the app. The event only says "something
 * was stored"; the work is projectPendingEvents, which claims unprocessed rows with
 * SKIP LOCKED, so it is safe alongside `churn serve`'s own projector and other runs. Events
 * are batched: a burst of webhooks becomes a few runs, not one per event.
 */
export function createProjectStripeEvent(deps: InngestDeps) {
  const client = deps.client ?? inngest;
  return client.createFunction(
    {
      id: 'project-stripe-event',
      name: 'Project Stripe events',
      triggers: [stripeEvents],
      batchEvents: { maxSize: 100, timeout: '2s' },
    },
    async ({ events, step }) => {
      const valid = events.filter((e) => stripeEventData.safeParse(e.data).success);
      if (valid.length === 0) {
        throw new NonRetriableError(`no valid stripe/* event in the batch (expected data {id, account, type, created})`);
      }
      const projected = await step.run('project-pending-events', async () => {
        let total = 0;
        for (let round = 0; round < MAX_ROUNDS; round++) {
          const n = await projectPendingEvents(deps.database, { limit: ROUND_SIZE });
          total += n;
          if (n < ROUND_SIZE) break;
        }
        return total;
      });
      return { events: events.length, ignored: events.length - valid.length, projected };
    },
  );
}
