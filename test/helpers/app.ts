import { parseEnv, type Env } from '../../src/env.js';
import { createApp, type AppDeps } from '../../src/app.js';
import type { Database } from '../../src/db/client.js';
import { signStripePayload } from '../../src/stripe/webhook-signature.js';

export const TEST_WEBHOOK_SECRET = 'whsec_test_primary_0123456789';
export const TEST_WEBHOOK_SECRET_OLD = 'whsec_test_rotated_9876543210';

export function testEnv(overrides: Record<string, string> = {}): Env {
  return parseEnv({ STRIPE_WEBHOOK_SECRET: `${TEST_WEBHOOK_SECRET},${TEST_WEBHOOK_SECRET_OLD}`, WEBHOOK_MAX_BYTES: '65536', ...overrides });
}

export function testApp(database: Database, options: Partial<AppDeps> = {}) {
  const deps: AppDeps = { database, env: testEnv(), now: () => 1_760_000_000, ...options };
  return { app: createApp(deps), deps };
}

/** A webhook request as Stripe sends it: raw JSON body and a Stripe-Signature header. */
export function signedWebhook(body: string, options: { secret?: string; timestamp?: number } = {}): RequestInit {
  const header = signStripePayload(body, options.secret ?? TEST_WEBHOOK_SECRET, options.timestamp ?? 1_760_000_000);
  return { method: 'POST', body, headers: { 'content-type': 'application/json', 'stripe-signature': header } };
}
