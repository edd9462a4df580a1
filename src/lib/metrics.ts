import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One Prometheus registry per process; /metrics serialises it. */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry, prefix: 'churn_' });

export const webhookDeliveries = new Counter({
  name: 'churn_webhook_deliveries_total',
  help: 'Stripe webhook deliveries by outcome (stored, duplicate, rejected code)',
  labelNames: ['outcome'] as const,
  registers: [metricsRegistry],
});

export const webhookLatency = new Histogram({
  name: 'churn_webhook_duration_seconds',
  help: 'Time to verify and store one webhook delivery',
  buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [metricsRegistry],
});

export const eventsProjected = new Counter({
  name: 'churn_events_projected_total',
  help: 'Stored Stripe events applied to the projections',
  registers: [metricsRegistry],
});
