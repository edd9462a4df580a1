import { Hono } from 'hono';
import type { SandboxEnv } from '../context.js';
import { listAndRetrieve } from './read-only.js';

/**
 * /v1/charges (`customer`, `payment_intent`, `created`), /v1/refunds and /v1/disputes (`charge`,
 * `payment_intent`, `created`), /v1/payment_intents (`customer`, `created`): read only.
 */
export function paymentRoutes(): Hono<SandboxEnv> {
  const app = new Hono<SandboxEnv>();
  listAndRetrieve(app, 'charges', 'charge', ['customer', 'payment_intent']);
  listAndRetrieve(app, 'refunds', 'refund', ['charge', 'payment_intent']);
  listAndRetrieve(app, 'disputes', 'dispute', ['charge', 'payment_intent']);
  listAndRetrieve(app, 'payment_intents', 'payment_intent', ['customer']);
  return app;
}
