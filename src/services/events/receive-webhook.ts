import type { Database } from '../../db/client.js';
import { ChurnError, errorMessage } from '../../lib/errors.js';
import type { UnixSeconds } from '../../lib/clock.js';
import { logger } from '../../lib/logger.js';
import { inSpan } from '../../lib/tracing.js';
import { verifyStripeSignature } from '../../stripe/webhook-signature.js';
import { parseStripeEventJson } from './parse.js';
import { storeWebhookEvent } from './store.js';

export interface WebhookDelivery {
  rawBody: string;
  signature: string | undefined;
  secrets: string[];
  now: UnixSeconds;
}

/**
 * Verifies, parses and stores one webhook delivery. Nothing is stored unless the signature
 * is valid and the body is a Stripe event; a storage failure is UNAVAILABLE (Stripe retries).
 */
export async function receiveStripeWebhook(database: Database, delivery: WebhookDelivery): Promise<{ id: string; type: string; duplicate: boolean }> {
  verifyStripeSignature(delivery.rawBody, delivery.signature, delivery.secrets, delivery.now);
  const event = parseStripeEventJson(delivery.rawBody);
  let inserted: boolean;
  try {
    inserted = await inSpan('store event', { 'stripe.event_id': event.id, 'stripe.event_type': event.type }, () => storeWebhookEvent(database, event, delivery.rawBody));
  } catch (err) {
    logger.error({ eventId: event.id, error: errorMessage(err) }, 'webhook event could not be stored');
    throw new ChurnError('UNAVAILABLE', `could not store event ${event.id}; the database is unavailable, retry later`, { cause: err });
  }
  return { id: event.id, type: event.type, duplicate: !inserted };
}
