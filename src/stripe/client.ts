import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import Stripe from 'stripe';
import { stripeApiDuration, stripeApiErrors, stripeEndpointLabel } from '../lib/metrics.js';
import { tracer } from '../lib/tracing.js';

/** The API version the whole product is written against; the SDK's own constant when it exports one. */
export const STRIPE_API_VERSION = (Stripe.API_VERSION ?? '2026-10-28.endive') as '2026-10-28.endive';

export interface StripeClientOptions {
  secretKey: string;
  /** `STRIPE_API_BASE`, e.g. `http://127.0.0.1:12111` for the local sandbox; unset = api.stripe.com. */
  apiBase?: string;
  /** The SDK retries connection errors, 409s, 5xx and 429s marked retryable, with the same idempotency key. */
  maxNetworkRetries?: number;
  timeoutMs?: number;
  /** Connected account for every call made with this client (per-call `stripeAccount` also works). */
  stripeAccount?: string;
}

interface ApiAddress {
  host: string;
  port: number;
  protocol: 'http' | 'https';
}

/** `http://127.0.0.1:12111` → the SDK's separate host, port and protocol settings. */
export function parseApiBase(apiBase: string): ApiAddress {
  let url: URL;
  try {
    url = new URL(apiBase);
  } catch {
    throw new Error(`STRIPE_API_BASE is not a URL: ${apiBase}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`STRIPE_API_BASE must be http(s): ${apiBase}`);
  if (url.pathname !== '/' && url.pathname !== '') {
    throw new Error(`STRIPE_API_BASE must not have a path (the SDK adds /v1/…): ${apiBase}`);
  }
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  const port = url.port ? Number(url.port) : protocol === 'http' ? 80 : 443;
  // URL keeps IPv6 hosts in brackets; the SDK hands the host to node:http, which wants them bare.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return { host, port, protocol };
}

/** The one way the product builds a Stripe client: pinned API version, retries, app info, optional local base. */
export function createStripeClient(options: StripeClientOptions): Stripe {
  const config: Stripe.StripeConfig = {
    apiVersion: STRIPE_API_VERSION,
    maxNetworkRetries: options.maxNetworkRetries ?? 2,
    appInfo: { name: 'churn' },
  };
  if (options.timeoutMs !== undefined) config.timeout = options.timeoutMs;
  if (options.stripeAccount !== undefined) config.stripeAccount = options.stripeAccount;
  if (options.apiBase) Object.assign(config, parseApiBase(options.apiBase));
  const stripe = new Stripe(options.secretKey, config);
  instrumentStripeClient(stripe);
  return stripe;
}

/**
 * Every call the product makes goes through a client built here, so measuring the SDK's own
 * `response` events measures all of them: latency and status per endpoint template, and one span
 * per HTTP attempt (a retried call shows each attempt). A call that never got an answer
 * (connection refused, timeout) emits no `response`; the SDK's error reaches the caller as ever.
 */
export function instrumentStripeClient(stripe: Stripe): void {
  stripe.on('response', (event: Stripe.ResponseEvent) => {
    const endpoint = stripeEndpointLabel(event.method, event.path);
    const status = String(event.status);
    stripeApiDuration.observe({ endpoint, status }, event.elapsed / 1000);
    if (event.status >= 400) stripeApiErrors.inc({ endpoint, status });
    const span = tracer().startSpan(`stripe ${endpoint}`, {
      kind: SpanKind.CLIENT,
      startTime: event.request_start_time,
      attributes: {
        'http.request.method': event.method,
        'http.response.status_code': event.status,
        'stripe.endpoint': endpoint,
        'stripe.request_id': event.request_id,
        ...(event.account ? { 'stripe.account': event.account } : {}),
      },
    });
    if (event.status >= 400) span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${event.status}` });
    span.end(event.request_end_time);
  });
}
