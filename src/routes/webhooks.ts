import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { AppEnv } from '../app.js';
import { webhookSecrets } from '../env.js';
import { ChurnError } from '../lib/errors.js';
import { logger } from '../lib/logger.js';
import { webhookDeliveries, webhookEvents, webhookLatency } from '../lib/metrics.js';
import { inSpan } from '../lib/tracing.js';
import { isRejectionReason, WebhookRejectionCounter } from '../services/events/count-rejections.js';
import { receiveStripeWebhook } from '../services/events/receive-webhook.js';
import { errorResponse } from './errors.js';

/**
 * POST /webhooks/stripe: verify on the raw body, store (event + outbox row, one transaction),
 * then answer. Stripe retries anything that is not 2xx for three days, so a database outage
 * answers 503 and loses nothing; a duplicate delivery answers 200 and stores nothing.
 */
export function webhookRoutes() {
  const routes = new Hono<AppEnv>();
  // refusals are also kept per minute in the database, for the rejection-spike alert (never awaited)
  const rejections = new WebhookRejectionCounter();
  routes.post(
    '/stripe',
    async (c, next) => {
      const max = c.get('deps').env.WEBHOOK_MAX_BYTES;
      const tooLarge = () => {
        // Counted like every other rejection: a burst of 413s is exactly what an operator must see.
        webhookDeliveries.inc({ outcome: 'PAYLOAD_TOO_LARGE' });
        rejections.record(c.get('deps').database, 'PAYLOAD_TOO_LARGE', c.get('deps').now());
        return errorResponse(c, 'PAYLOAD_TOO_LARGE', `webhook body exceeds ${max} bytes`);
      };
      // Stripe always sends Content-Length: checking the header keeps the Node adapter's fast
      // body path (Hono's bodyLimit touches the raw Request, which costs a third of throughput).
      const declared = c.req.header('content-length');
      if (declared !== undefined && c.req.header('transfer-encoding') === undefined) {
        return Number(declared) > max ? tooLarge() : next();
      }
      return bodyLimit({ maxSize: max, onError: tooLarge })(c, next);
    },
    async (c) => {
      const deps = c.get('deps');
      const raw = await c.req.text();
      const stopTimer = webhookLatency.startTimer();
      try {
        const result = await inSpan('webhook stripe', { 'churn.request_id': c.get('requestId') ?? '' }, () =>
          receiveStripeWebhook(deps.database, {
            rawBody: raw,
            signature: c.req.header('stripe-signature'),
            secrets: webhookSecrets(deps.env),
            now: deps.now(),
          }),
        );
        if (!result.duplicate) deps.onEventsStored?.();
        webhookDeliveries.inc({ outcome: result.duplicate ? 'duplicate' : 'stored' });
        webhookEvents.inc({ type: result.type, outcome: result.duplicate ? 'duplicate' : 'stored' });
        stopTimer();
        return c.json({ received: true, id: result.id, duplicate: result.duplicate });
      } catch (err) {
        if (err instanceof ChurnError) {
          webhookDeliveries.inc({ outcome: err.code });
          if (isRejectionReason(err.code)) rejections.record(deps.database, err.code, deps.now());
          if (err.code === 'UNAVAILABLE') logger.warn({ requestId: c.get('requestId') }, err.message);
          return errorResponse(c, err.code, err.message);
        }
        webhookDeliveries.inc({ outcome: 'INTERNAL' });
        throw err;
      }
    },
  );
  return routes;
}
