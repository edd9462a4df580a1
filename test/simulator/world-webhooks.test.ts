import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import Stripe from 'stripe';
import { createWebhookSink, simulateToSink } from '../../src/simulator/world/index.js';

const SECRET = 'whsec_test_world_generator_secret';

interface Received {
  ids: string[];
  bad: number;
  requests: number;
}

/** A local receiver that verifies every signature with the SDK, like a real endpoint. */
async function startReceiver(options: { failFirst?: number; rejectIds?: Set<string> } = {}): Promise<{ url: string; received: Received; server: Server }> {
  const received: Received = { ids: [], bad: 0, requests: 0 };
  let failures = options.failFirst ?? 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.requests++;
      if (failures > 0) {
        failures--;
        res.writeHead(503).end();
        return;
      }
      try {
        const event = Stripe.webhooks.constructEvent(Buffer.concat(chunks), req.headers['stripe-signature'] as string, SECRET);
        if (options.rejectIds?.has(event.id)) {
          res.writeHead(400).end();
          return;
        }
        received.ids.push(event.id);
        res.writeHead(200).end('{}');
      } catch {
        received.bad++;
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/webhooks/stripe`, received, server };
}

describe('world generator: webhook delivery', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  it('delivers every event in order with a signature the SDK verifies, retrying 5xx', async () => {
    const receiver = await startReceiver({ failFirst: 2 });
    server = receiver.server;
    const expected: string[] = [];
    const webhook = createWebhookSink({ url: receiver.url, secret: SECRET, backoffMs: 5 });
    await simulateToSink({ customers: 15, months: 2, seed: 4, accounts: 2 }, { write: (e) => (expected.push(e.id), webhook.write(e)) });
    await webhook.close();
    expect(expected.length).toBeGreaterThan(100);
    expect(receiver.received.bad).toBe(0);
    expect(receiver.received.ids).toEqual(expected);
    expect(receiver.received.requests).toBe(expected.length + 2);
    expect(webhook.delivered).toBe(expected.length);
    expect(webhook.failures).toEqual([]);
  });

  it('reports events the endpoint rejects, and a wrong secret fails verification', async () => {
    const events: Stripe.Event[] = [];
    await simulateToSink({ customers: 3, months: 1, seed: 9 }, { write: (e) => void events.push(e) });
    const receiver = await startReceiver({ rejectIds: new Set([events[3]!.id]) });
    server = receiver.server;
    const webhook = createWebhookSink({ url: receiver.url, secret: SECRET, concurrency: 4, backoffMs: 5 });
    for (const e of events) await webhook.write(e);
    await webhook.close();
    expect(webhook.failures).toEqual([{ eventId: events[3]!.id, type: events[3]!.type, status: 400, error: 'HTTP 400', attempts: 1 }]);
    expect(new Set(receiver.received.ids)).toEqual(new Set(events.filter((_, i) => i !== 3).map((e) => e.id)));

    const wrong = createWebhookSink({ url: receiver.url, secret: 'whsec_not_the_one', maxAttempts: 1 });
    await wrong.write(events[0]!);
    await wrong.close();
    expect(receiver.received.bad).toBe(1);
    expect(wrong.failures).toHaveLength(1);
  });

  it('reports connection failures after retrying with backoff', async () => {
    const webhook = createWebhookSink({ url: 'http://127.0.0.1:9/unreachable', secret: SECRET, maxAttempts: 3, backoffMs: 5 });
    const events: Stripe.Event[] = [];
    await simulateToSink({ customers: 1, months: 1, seed: 1 }, { write: (e) => void events.push(e) });
    await webhook.write(events[0]!);
    await webhook.close();
    expect(webhook.failures).toEqual([expect.objectContaining({ eventId: events[0]!.id, status: null, attempts: 3 })]);
  });
});
