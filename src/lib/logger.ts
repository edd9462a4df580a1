import { pino, type Logger } from 'pino';

/**
 * One structured logger. Secrets never reach it: keys, signatures and authorization headers
 * are redacted wherever they appear in a logged object.
 */
export const logger: Logger = pino({
  level: process.env.LOG_LEVEL ?? (process.env.NODE_ENV === 'test' || process.env.VITEST ? 'silent' : 'info'),
  redact: {
    paths: [
      'secret', '*.secret', 'apiKey', '*.apiKey', 'key', '*.key', 'authorization', '*.authorization',
      'headers.authorization', 'headers["stripe-signature"]', 'signature', '*.signature',
      'STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET', 'CHURN_ADMIN_TOKEN', 'INNGEST_SIGNING_KEY', 'INNGEST_EVENT_KEY',
    ],
    censor: '[redacted]',
  },
});

export type { Logger };
