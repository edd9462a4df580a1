import { eventType } from 'inngest';
import { z } from 'zod';

/**
 * Every event this app sends or reacts to, with its schema, in one place.
 *
 * `stripe/<type>` events carry only a reference to the stored Stripe event, never the object:
 * the event store is the source of truth and the payload may be large or hold personal data.
 * Their Inngest id is the Stripe event id, so Inngest de-duplicates a re-sent event as well.
 */
export const STRIPE_EVENT_PREFIX = 'stripe/';

/** Inngest event name for a Stripe event type (`invoice.paid` → `stripe/invoice.paid`). */
export function stripeEventName(type: string): string {
  return `${STRIPE_EVENT_PREFIX}${type}`;
}

export const stripeEventData = z.object({
  /** Stripe event id (evt_…), also the Inngest event id */
  id: z.string().startsWith('evt_'),
  /** connected account id (acct_…) or 'platform' */
  account: z.string().min(1),
  /** Stripe event type, e.g. invoice.payment_failed */
  type: z.string().min(1),
  /** Stripe `created`, unix seconds */
  created: z.number().int(),
});
export type StripeEventData = z.infer<typeof stripeEventData>;

/** Trigger for every Stripe event (a wildcard name: its data is validated in the function). */
export const stripeEvents = eventType('stripe/*');

export const customerScoreRequestedData = z.object({
  account: z.string().min(1),
  customerId: z.string().startsWith('cus_'),
  /** point in time to score at, unix seconds; absent = now */
  asOf: z.number().int().optional(),
  /** why: 'stripe_event' | 'schedule' | 'api' */
  reason: z.string().optional(),
});
export const customerScoreRequested = eventType('churn/customer.score.requested', { schema: customerScoreRequestedData });

export const interventionDecidedData = z.object({
  /** our intervention id (int_…); also the Stripe Idempotency-Key seed */
  interventionId: z.string().startsWith('int_'),
  account: z.string().min(1),
  customerId: z.string().startsWith('cus_'),
  subscriptionId: z.string().startsWith('sub_').nullable(),
  policyId: z.string().optional(),
  policyVersion: z.number().int().optional(),
  /** coupon | trial_extension | pause | holdout | none */
  treatment: z.string().min(1),
  /** treatment parameters (coupon id, days, …) */
  params: z.record(z.string(), z.unknown()).optional(),
  scoreId: z.string().optional(),
});
export const interventionDecided = eventType('churn/intervention.decided', { schema: interventionDecidedData });

export const modelRetrainRequestedData = z.object({
  /** training cut-off, unix seconds; absent = now */
  asOf: z.number().int().optional(),
  horizonDays: z.number().int().positive().optional(),
  /** who asked: api key id, 'schedule', 'drift' … */
  requestedBy: z.string().min(1),
  trainingRunId: z.string().optional(),
});
export const modelRetrainRequested = eventType('churn/model.retrain.requested', { schema: modelRetrainRequestedData });

export const modelTrainedData = z.object({
  modelName: z.string().min(1),
  version: z.string().min(1),
  trainingRunId: z.string().optional(),
  metrics: z.record(z.string(), z.number()).optional(),
  promoted: z.boolean().optional(),
});
export const modelTrained = eventType('churn/model.trained', { schema: modelTrainedData });

/** Schemas by event name, for code that validates a payload it did not create itself. */
export const CHURN_EVENT_SCHEMAS = {
  'churn/customer.score.requested': customerScoreRequestedData,
  'churn/intervention.decided': interventionDecidedData,
  'churn/model.retrain.requested': modelRetrainRequestedData,
  'churn/model.trained': modelTrainedData,
} as const;
