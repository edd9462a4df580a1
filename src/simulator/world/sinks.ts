import { createWriteStream, type WriteStream } from 'node:fs';
import Stripe from 'stripe';
import type { EventSink, TruthSink } from './world.js';
import type { TruthRecord } from './hazard.js';
import { systemNow } from '../../lib/clock.js';
import { errorMessage } from '../../lib/errors.js';

/**
 * A JSONL file written through one stream: lines are copied into 1 MiB chunks and the writer
 * waits for 'drain' whenever the stream says its buffer is full (backpressure), so memory stays
 * bounded however many events pass through.
 */
class JsonlWriter {
  private readonly stream: WriteStream;
  private chunk = Buffer.allocUnsafe(CHUNK);
  private used = 0;
  private failure: Error | null = null;
  bytes = 0;
  lines = 0;

  constructor(path: string) {
    this.stream = createWriteStream(path, { highWaterMark: 4 * CHUNK });
    this.stream.on('error', (err) => (this.failure = err));
  }

  writeLine(line: string): void | Promise<void> {
    return this.writeBytes(Buffer.from(line, 'utf8'));
  }

  writeBytes(line: Uint8Array): void | Promise<void> {
    if (this.failure) throw this.failure;
    this.lines++;
    if (this.used + line.length + 1 > this.chunk.length) {
      const pending = this.flushChunk(line.length + 1);
      if (pending) return pending.then(() => this.append(line));
    }
    this.append(line);
  }

  private append(line: Uint8Array): void {
    this.chunk.set(line, this.used);
    this.used += line.length;
    this.chunk[this.used++] = 0x0a;
  }

  private flushChunk(nextLine = 0): void | Promise<void> {
    if (this.used === 0) {
      if (nextLine > this.chunk.length) this.chunk = Buffer.allocUnsafe(nextLine);
      return;
    }
    const full = this.chunk.subarray(0, this.used);
    this.bytes += this.used;
    this.chunk = Buffer.allocUnsafe(Math.max(CHUNK, nextLine));
    this.used = 0;
    if (this.stream.write(full)) return;
    return new Promise((resolve, reject) => {
      const onDrain = () => {
        this.stream.off('error', onError);
        resolve();
      };
      const onError = (err: Error) => {
        this.stream.off('drain', onDrain);
        reject(err);
      };
      this.stream.once('drain', onDrain);
      this.stream.once('error', onError);
    });
  }

  async close(): Promise<void> {
    await this.flushChunk();
    await new Promise<void>((resolve, reject) => {
      this.stream.end((err?: Error | null) => (err ? reject(err) : resolve()));
    });
    if (this.failure) throw this.failure;
  }
}

const CHUNK = 1 << 20;

export interface FileEventSink extends EventSink {
  close(): Promise<void>;
  readonly bytes: number;
  readonly events: number;
}

/** Events as Stripe event objects, one per line, in the order the world hands them over. */
export function createJsonlEventSink(path: string): FileEventSink {
  const writer = new JsonlWriter(path);
  return {
    write: (event) => writer.writeLine(JSON.stringify(event)),
    writeSerialized: (json) => writer.writeBytes(json),
    close: () => writer.close(),
    get bytes() {
      return writer.bytes;
    },
    get events() {
      return writer.lines;
    },
  };
}

export interface FileTruthSink extends TruthSink {
  close(): Promise<void>;
  readonly records: number;
}

/** Truth records as JSONL: probabilities rounded to 6 decimals to keep the file readable. */
export function createJsonlTruthSink(path: string): FileTruthSink {
  const writer = new JsonlWriter(path);
  const round = (p: number) => Math.round(p * 1e6) / 1e6;
  return {
    write: ({ p30Visible: _visible, ...record }: TruthRecord) =>
      writer.writeLine(
        JSON.stringify({
          ...record,
          p30: round(record.p30),
          pVoluntary: round(record.pVoluntary),
          pInvoluntary: round(record.pInvoluntary),
          p30IfCoupon: round(record.p30IfCoupon),
          p30IfTrialExtension: round(record.p30IfTrialExtension),
          p30IfPause: round(record.p30IfPause),
          p30NoTreatment: round(record.p30NoTreatment),
        }),
      ),
    close: () => writer.close(),
    get records() {
      return writer.lines;
    },
  };
}

export interface WebhookSinkOptions {
  url: string;
  secret: string;
  /** deliveries in flight at once; 1 (default) delivers strictly one after another */
  concurrency?: number;
  /** attempts per event before it counts as failed (default 5) */
  maxAttempts?: number;
  /** first backoff in ms, doubled per retry (default 200) */
  backoffMs?: number;
  /** signing timestamp source (unix seconds); the receiver checks it against its own clock */
  now?: () => number;
  fetch?: typeof fetch;
}

export interface WebhookFailure {
  eventId: string;
  type: string;
  status: number | null;
  error: string;
  attempts: number;
}

export interface WebhookEventSink extends EventSink {
  /** waits for every delivery in flight */
  close(): Promise<void>;
  readonly delivered: number;
  readonly failures: WebhookFailure[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * POSTs each event to a webhook endpoint with a `Stripe-Signature` header, as Stripe does.
 * Deliveries start in event order; with concurrency > 1 up to that many are in flight. 5xx, 429
 * and connection errors are retried with exponential backoff; other 4xx are final failures.
 */
export function createWebhookSink(options: WebhookSinkOptions): WebhookEventSink {
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const maxAttempts = Math.max(1, options.maxAttempts ?? 5);
  const backoffMs = options.backoffMs ?? 200;
  const now = options.now ?? systemNow;
  const doFetch = options.fetch ?? fetch;
  const inFlight = new Set<Promise<void>>();
  const failures: WebhookFailure[] = [];
  let delivered = 0;

  async function deliver(payload: string, eventId: string, type: string): Promise<void> {
    let lastStatus: number | null = null;
    let lastError = '';
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const header = Stripe.webhooks.generateTestHeaderString({ payload, secret: options.secret, timestamp: now() });
      try {
        const response = await doFetch(options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': header, 'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)' },
          body: payload,
        });
        await response.arrayBuffer().catch(() => undefined);
        if (response.ok) {
          delivered++;
          return;
        }
        lastStatus = response.status;
        lastError = `HTTP ${response.status}`;
        if (response.status < 500 && response.status !== 429) {
          failures.push({ eventId, type, status: lastStatus, error: lastError, attempts: attempt });
          return;
        }
      } catch (err) {
        lastStatus = null;
        lastError = errorMessage(err);
      }
      if (attempt < maxAttempts) await sleep(backoffMs * 2 ** (attempt - 1));
    }
    failures.push({ eventId, type, status: lastStatus, error: lastError, attempts: maxAttempts });
  }

  async function send(payload: string, eventId: string, type: string): Promise<void> {
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
    const p = deliver(payload, eventId, type).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (concurrency === 1) await p;
  }

  return {
    write: (event) => send(JSON.stringify(event), event.id, event.type),
    async close() {
      await Promise.all(inFlight);
    },
    get delivered() {
      return delivered;
    },
    failures,
  };
}
