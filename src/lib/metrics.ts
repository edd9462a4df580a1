import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One Prometheus registry per process; /metrics serialises it. */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry, prefix: 'churn_' });

export const webhookDeliveries = new Counter({
  name: 'churn_webhook_deliveries_total',
  help: 'Stripe webhook deliveries by outcome (stored, duplicate, rejected code)',
  labelNames: ['outcome'] as const,
  registers: [metricsRegistry],
});

/**
 * Verified deliveries by event type. Rejected deliveries have no trustworthy type (the body was
 * never verified), so they are counted by code in churn_webhook_deliveries_total only.
 */
export const webhookEvents = new Counter({
  name: 'churn_webhook_events_total',
  help: 'Verified Stripe webhook deliveries by event type and outcome (stored, duplicate)',
  labelNames: ['type', 'outcome'] as const,
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

export const eventProcessingLag = new Histogram({
  name: 'churn_event_processing_lag_seconds',
  help: 'From a Stripe event being created (event.created) to its projection committing, for events projected by the background projector',
  buckets: [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600, 21600, 86400],
  registers: [metricsRegistry],
});

export const stripeApiDuration = new Histogram({
  name: 'churn_stripe_api_request_duration_seconds',
  help: 'Stripe API calls made by the product, by endpoint (method and path template) and HTTP status',
  labelNames: ['endpoint', 'status'] as const,
  buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [metricsRegistry],
});

export const stripeApiErrors = new Counter({
  name: 'churn_stripe_api_errors_total',
  help: 'Stripe API calls answered with an HTTP status of 400 or more, by endpoint and status',
  labelNames: ['endpoint', 'status'] as const,
  registers: [metricsRegistry],
});

export const paymentDeclines = new Counter({
  name: 'churn_payment_declines_total',
  help: 'Failed card charges (charge.failed) projected, by decline code and card brand',
  labelNames: ['decline_code', 'card_brand'] as const,
  registers: [metricsRegistry],
});

export const scoringDuration = new Histogram({
  name: 'churn_scoring_duration_seconds',
  help: 'One scoreAllCustomers run (features, scoring, storing), by outcome',
  labelNames: ['outcome'] as const,
  buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
  registers: [metricsRegistry],
});

export const customersScored = new Counter({
  name: 'churn_customers_scored_total',
  help: 'Customers scored by scoreAllCustomers runs',
  registers: [metricsRegistry],
});

export const alertDeliveries = new Counter({
  name: 'churn_alert_deliveries_total',
  help: 'Alert notifications sent to ALERT_WEBHOOK_URL, by outcome (delivered, failed, refused)',
  labelNames: ['outcome'] as const,
  registers: [metricsRegistry],
});

/** Gauges read from the database at scrape time (src/routes/metrics.ts); declared here so every name lives in one file. */
export const businessGauges = {
  activeModel: new Gauge({
    name: 'churn_active_model_info',
    help: 'The champion model serving scores: 1 for its name and version (last values read; see churn_business_gauges_stale)',
    labelNames: ['name', 'version'] as const,
    registers: [metricsRegistry],
  }),
  interventions: new Gauge({
    name: 'churn_interventions',
    help: 'Interventions recorded, by action, arm, status and settled outcome (pending = not settled yet)',
    labelNames: ['action', 'arm', 'status', 'outcome'] as const,
    registers: [metricsRegistry],
  }),
  budgetUsed: new Gauge({
    name: 'churn_budget_used_minor',
    help: 'Offer budget reserved this calendar month (UTC) per policy, minor units of the budget currency',
    labelNames: ['policy_id', 'currency'] as const,
    registers: [metricsRegistry],
  }),
  budgetLimit: new Gauge({
    name: 'churn_budget_limit_minor',
    help: 'Offer budget limit this calendar month (UTC) per policy, minor units of the budget currency',
    labelNames: ['policy_id', 'currency'] as const,
    registers: [metricsRegistry],
  }),
  savedMrr: new Gauge({
    name: 'churn_saved_mrr_minor',
    help: "The uplift report's overall saved-MRR estimate and its interval bounds, minor units (recomputed at most every 5 minutes)",
    labelNames: ['currency', 'bound'] as const,
    registers: [metricsRegistry],
  }),
  alertsOpen: new Gauge({
    name: 'churn_alerts_open',
    help: 'Open anomaly alerts by kind (churn alerts --check)',
    labelNames: ['kind'] as const,
    registers: [metricsRegistry],
  }),
  stale: new Gauge({
    name: 'churn_business_gauges_stale',
    help: '1 when the model, intervention, budget, saved-MRR and alert gauges could not be read at this scrape and show the last values read',
    registers: [metricsRegistry],
  }),
};

type StripeObject = Record<string, any>;

/**
 * Counts declines among events whose projection just committed. Only charge.failed carries both
 * the decline code (outcome.reason, else failure_code) and the card brand; invoice.payment_failed
 * for the same attempt is not counted again.
 */
export function countPaymentDeclines(events: ReadonlyArray<{ type: string; data: { object: unknown } }>): void {
  for (const event of events) {
    if (event.type !== 'charge.failed') continue;
    const charge = event.data.object as StripeObject;
    const declineCode = charge?.outcome?.reason ?? charge?.failure_code ?? 'unknown';
    const brand = charge?.payment_method_details?.card?.brand ?? 'unknown';
    paymentDeclines.inc({ decline_code: String(declineCode), card_brand: String(brand) });
  }
}

/** Observes created → projected lag for a batch the projector just committed; `nowSeconds` is when it committed. */
export function observeProcessingLag(events: ReadonlyArray<{ created: number }>, nowSeconds: number): void {
  for (const event of events) eventProcessingLag.observe(Math.max(0, nowSeconds - event.created));
}

/** Resources whose ids the caller chooses (no `xxx_` prefix), so the segment after them is an id whatever it looks like. */
const CUSTOM_ID_RESOURCES = new Set(['coupons', 'promotion_codes', 'prices', 'products', 'plans', 'tax_rates', 'shipping_rates']);

/**
 * `POST /v1/subscriptions/sub_123?expand[]=x` → `POST /v1/subscriptions/:id`: one label value per
 * endpoint, never one per object (unbounded label values would swamp Prometheus).
 */
export function stripeEndpointLabel(method: string, path: string): string {
  const segments = path.split('?')[0]!.split('/');
  const templated = segments.map((segment, i) => {
    if (i <= 1 || segment === '') return segment; // '' and the API version (v1, v2)
    const previous = segments[i - 1]!;
    if (CUSTOM_ID_RESOURCES.has(previous)) return ':id';
    // Stripe ids are a short prefix and a long random tail (cus_…, sub_…, in_…); resource names
    // (test_helpers, payment_methods) never carry digits and have short or long-prefixed words.
    if (/\d/.test(segment) || /^[a-z]{1,6}_[A-Za-z0-9]{8,}$/.test(segment)) return ':id';
    return segment;
  });
  return `${method.toUpperCase()} ${templated.join('/')}`;
}
