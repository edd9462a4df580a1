import Stripe from 'stripe';
import { ChurnError } from '../lib/errors.js';
import type { UnixSeconds } from '../lib/clock.js';

/** Stripe's own replay window. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

// The webhook helpers need no API key; one SDK instance serves every verification.
const sdk = new Stripe('sk_test_signature_only');

/**
 * Verifies a `Stripe-Signature` header against the raw body with every configured secret
 * (several during rotation). Throws INVALID_SIGNATURE with the reason; never logs secrets.
 */
export function verifyStripeSignature(
  rawBody: string,
  header: string | undefined,
  secrets: string[],
  now: UnixSeconds,
): void {
  if (!header) throw new ChurnError('INVALID_SIGNATURE', 'missing Stripe-Signature header');
  if (secrets.length === 0) throw new ChurnError('UNAVAILABLE', 'STRIPE_WEBHOOK_SECRET is not configured');
  let lastReason = 'no signature matched';
  for (const secret of secrets) {
    try {
      sdk.webhooks.signature!.verifyHeader(rawBody, header, secret, SIGNATURE_TOLERANCE_SECONDS, undefined, now * 1000);
      return;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (/tolerance/i.test(message)) lastReason = `timestamp outside the ${SIGNATURE_TOLERANCE_SECONDS}s tolerance`;
      else if (/Unable to extract timestamp|No signatures found with expected scheme/i.test(message))
        lastReason = 'malformed Stripe-Signature header';
      else lastReason = 'no signature matched the payload';
    }
  }
  throw new ChurnError('INVALID_SIGNATURE', `invalid Stripe signature: ${lastReason}`);
}

/** Signs a payload the way Stripe does (tests, the simulator's webhook delivery). */
export function signStripePayload(payload: string, secret: string, timestamp: UnixSeconds): string {
  return sdk.webhooks.generateTestHeaderString({ payload, secret, timestamp });
}
