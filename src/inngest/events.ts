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
export type CustomerScoreRequestedData = z.infer<typeof customerScoreRequestedData>;
export const customerScoreRequested = eventType('churn/customer.score.requested', { schema: customerScoreRequestedData });

/**
 * One slice of the daily scoring fan-out: one account's customers with a live subscription whose
 * ids sort after `afterCustomerId` (exclusive; null = from the first) up to `throughCustomerId`
 * (inclusive; null = to the last). Ranges, not id lists, keep the events small however large the
 * account, and consecutive slices cover every id, also customers who arrived after the plan.
 */
export const customersScoreBatchRequestedData = z.object({
  account: z.string().min(1),
  afterCustomerId: z.string().startsWith('cus_').nullable(),
  throughCustomerId: z.string().startsWith('cus_').nullable(),
  /** the snapshot every slice of one run scores at, unix seconds */
  asOf: z.number().int(),
  /** position of the slice in its account, from 0 */
  batch: z.number().int().nonnegative(),
  /** customers the slice held when it was planned */
  planned: z.number().int().nonnegative(),
});
export type CustomersScoreBatchRequestedData = z.infer<typeof customersScoreBatchRequestedData>;
export const customersScoreBatchRequested = eventType('churn/customers.score.batch.requested', { schema: customersScoreBatchRequestedData });

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
export type InterventionDecidedData = z.infer<typeof interventionDecidedData>;
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
  /**
   * the version now champion because of this run: `version` itself, or its logistic baseline
   * (`…-logistic`) when the network lost to it; null when nothing was promoted
   */
  promotedVersion: z.string().nullable().optional(),
});
export type ModelTrainedData = z.infer<typeof modelTrainedData>;
export const modelTrained = eventType('churn/model.trained', { schema: modelTrainedData });

/** Schemas by event name, for code that validates a payload it did not create itself. */
export const CHURN_EVENT_SCHEMAS = {
  'churn/customer.score.requested': customerScoreRequestedData,
  'churn/customers.score.batch.requested': customersScoreBatchRequestedData,
  'churn/intervention.decided': interventionDecidedData,
  'churn/model.retrain.requested': modelRetrainRequestedData,
  'churn/model.trained': modelTrainedData,
} as const;
