import Stripe from 'stripe';
import type { Logger } from '../../lib/logger.js';
import { completeEvent } from './complete-shapes.js';

export interface WebhookEndpoint {
  url: string;
  /** `whsec_…`: the receiver verifies `Stripe-Signature` with it. */
  secret: string;
  /** Event types to send (`*` or omitted = all). */
  enabledEvents?: string[];
}

export interface WebhookRetryPolicy {
  /** Attempts per event before giving up on it (bounded; Stripe retries for days, a sandbox must not). */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  timeoutMs: number;
}

export interface DeliveryRecord {
  eventId: string;
  type: string;
  url: string;
  attempts: number;
  delivered: boolean;
  lastStatus: number | null;
  lastError: string | null;
}

export const DEFAULT_RETRY: WebhookRetryPolicy = { attempts: 5, baseDelayMs: 200, maxDelayMs: 5_000, timeoutMs: 10_000 };

interface EndpointQueue {
  endpoint: WebhookEndpoint;
  pending: Stripe.Event[];
  running: Promise<void> | null;
}

/** The wall clock is only for the signature timestamp: receivers check it against their own clock. */
export type WallClock = () => number;

const signer = Stripe.webhooks;

/**
 * Delivers events to webhook endpoints the way Stripe does from the receiver's point of view: a JSON POST
 * signed with `Stripe-Signature`, retried with exponential backoff on a non-2xx or a network error. One
 * queue per endpoint, strictly in order: an event waits until the one before it was delivered or given up.
 */
export class WebhookDispatcher {
  private readonly queues: EndpointQueue[] = [];
  /** One record per (event, endpoint) once it was delivered or given up, in that order. */
  readonly deliveries: DeliveryRecord[] = [];
  private closed = false;

  constructor(
    private readonly retry: WebhookRetryPolicy = DEFAULT_RETRY,
    private readonly wallClock: WallClock = () => Math.floor(Date.now() / 1000),
    private readonly log?: Logger,
  ) {}

  addEndpoint(endpoint: WebhookEndpoint): void {
    if (!/^https?:\/\//.test(endpoint.url)) throw new Error(`webhook URL must be http(s): ${endpoint.url}`);
    if (!endpoint.secret.startsWith('whsec_')) throw new Error('webhook secret must start with whsec_');
    this.queues.push({ endpoint, pending: [], running: null });
  }

  endpoints(): WebhookEndpoint[] {
    return this.queues.map((q) => ({ ...q.endpoint }));
  }

  /** Queues an event for every endpoint that wants it; returns at once. */
  enqueue(event: Stripe.Event): void {
    if (this.closed) return;
    for (const queue of this.queues) {
      const wanted = queue.endpoint.enabledEvents;
      if (wanted && wanted.length > 0 && !wanted.includes('*') && !wanted.includes(event.type)) continue;
      queue.pending.push(event);
      if (!queue.running) queue.running = this.drain(queue);
    }
  }

  /** Resolves when every queued event was delivered or given up. */
  async idle(): Promise<void> {
    for (;;) {
      const running = this.queues.map((q) => q.running).filter((r): r is Promise<void> => r !== null);
      if (running.length === 0) return;
      await Promise.all(running);
    }
  }

  pendingCount(): number {
    return this.queues.reduce((n, q) => n + q.pending.length, 0);
  }

  /** Stops taking new events and drops what is still queued (after the attempt in progress). */
  close(): void {
    this.closed = true;
    for (const queue of this.queues) queue.pending.length = 0;
  }

  private async drain(queue: EndpointQueue): Promise<void> {
    while (queue.pending.length > 0) {
      const event = queue.pending[0]!;
      this.deliveries.push(await this.deliver(queue.endpoint, event));
      queue.pending.shift();
    }
    queue.running = null;
  }

  private async deliver(endpoint: WebhookEndpoint, event: Stripe.Event): Promise<DeliveryRecord> {
    const payload = JSON.stringify(completeEvent(event), null, 2);
    const record: DeliveryRecord = { eventId: event.id, type: event.type, url: endpoint.url, attempts: 0, delivered: false, lastStatus: null, lastError: null };
    for (let attempt = 1; attempt <= this.retry.attempts && !this.closed; attempt++) {
      record.attempts = attempt;
      const header = signer.generateTestHeaderString({ payload, secret: endpoint.secret, timestamp: this.wallClock() });
      try {
        const response = await fetch(endpoint.url, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json; charset=utf-8', 'Stripe-Signature': header, 'User-Agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)' },
          body: payload,
          signal: AbortSignal.timeout(this.retry.timeoutMs),
        });
        record.lastStatus = response.status;
        await response.arrayBuffer().catch(() => undefined);
        if (response.ok) {
          record.delivered = true;
          record.lastError = null;
          return record;
        }
        record.lastError = `HTTP ${response.status}`;
      } catch (err) {
        record.lastStatus = null;
        record.lastError = err instanceof Error ? err.message : String(err);
      }
      if (attempt < this.retry.attempts) {
        const delay = Math.min(this.retry.baseDelayMs * 2 ** (attempt - 1), this.retry.maxDelayMs);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
    this.log?.warn({ eventId: event.id, url: endpoint.url, attempts: record.attempts, error: record.lastError }, 'webhook delivery gave up');
    return record;
  }
}
