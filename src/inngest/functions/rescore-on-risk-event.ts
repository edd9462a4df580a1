import { NonRetriableError } from 'inngest';
import { inngest } from '../client.js';
import type { InngestDeps } from '../deps.js';
import { stripeEventData, stripeEventName } from '../events.js';
import { customerOfStoredEvent, readStoredEvent, RISK_EVENT_TYPES } from '../risk-events.js';

/** Inngest id of the score request a Stripe event causes: a re-delivered Stripe event asks once. */
export const scoreRequestIdFor = (stripeEventId: string) => `score-${stripeEventId}`;

/**
 * A Stripe event that moves churn risk (a failed payment, a plan or cancellation change, a card
 * attached, detached, updated or about to expire, a dispute, a refund) asks for a fresh score of
 * its customer. Scoring itself is debounced per customer in score-customer, so a burst of events
 * about one customer (invoice.payment_failed + customer.subscription.updated in one second) is
 * scored once, after the projector has applied them.
 */
export function createRescoreOnRiskEvent(deps: InngestDeps) {
  const client = deps.client ?? inngest;
  return client.createFunction(
    {
      id: 'rescore-on-risk-event',
      name: 'Rescore a customer after a risk-changing Stripe event',
      triggers: RISK_EVENT_TYPES.map((type) => ({ event: stripeEventName(type) })),
    },
    async ({ event, step }) => {
      const parsed = stripeEventData.safeParse(event.data);
      if (!parsed.success) throw new NonRetriableError(`${event.name}: expected data {id, account, type, created}`);
      const ref = parsed.data;
      const found = await step.run('find-customer', async () => {
        const stored = await readStoredEvent(deps.database, ref.id);
        if (!stored) return { stored: false as const, customerId: null };
        return { stored: true as const, customerId: await customerOfStoredEvent(deps.database, stored.account, stored.event) };
      });
      // The relay sends only events it has stored, in the same transaction as their outbox row.
      if (!found.stored) throw new NonRetriableError(`Stripe event ${ref.id} is not in the event store`);
      if (!found.customerId) return { stripeEventId: ref.id, type: ref.type, skipped: 'the event names no customer' };
      await step.sendEvent('request-score', {
        id: scoreRequestIdFor(ref.id),
        name: 'churn/customer.score.requested',
        data: { account: ref.account, customerId: found.customerId, reason: 'stripe_event' },
      });
      return { stripeEventId: ref.id, type: ref.type, account: ref.account, customerId: found.customerId };
    },
  );
}
