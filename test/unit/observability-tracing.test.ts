import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { inSpan, startTracing, stopTracing, tracer } from '../../src/lib/tracing.js';
import { createStripeSandbox } from '../../src/simulator/sandbox/index.js';
import { seedSampleAccount } from '../../src/simulator/sandbox/sample-account.js';
import { createStripeClient } from '../../src/stripe/client.js';
import { customerObject, stripeEvent } from '../fixtures/stripe-events.js';
import { signedWebhook, testApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/db.js';

interface OtlpSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
}

describe('tracing', () => {
  it('without OTEL_EXPORTER_OTLP_ENDPOINT nothing starts and spans are the no-op API', async () => {
    expect(await startTracing({ endpoint: undefined })).toBe(false);
    const span = tracer().startSpan('nothing');
    expect(span.isRecording()).toBe(false);
    span.end();
  });

  describe('with an OTLP/HTTP collector', () => {
    let collector: Server;
    let endpoint = '';
    const spans: OtlpSpan[] = [];
    const paths: string[] = [];
    let database: Database;

    beforeAll(async () => {
      collector = createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          paths.push(req.url ?? '');
          const parsed = JSON.parse(body) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }> };
          for (const rs of parsed.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        });
      });
      await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
      endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
      database = await createTestDatabase('pglite');
    });
    afterAll(async () => {
      await stopTracing();
      await database?.close();
      await new Promise<void>((r) => collector.close(() => r()));
    });

    it('exports the webhook → store spans and Stripe calls as children of the span that made them', async () => {
      expect(await startTracing({ endpoint })).toBe(true);
      const { app } = testApp(database);
      const body = JSON.stringify(stripeEvent('customer.created', customerObject('cus_Trace1'), { created: 1_760_000_000 - 5 }));
      expect((await app.request('/webhooks/stripe', signedWebhook(body))).status).toBe(200);

      const sandbox = createStripeSandbox({ now: 1_780_000_000 });
      seedSampleAccount(sandbox.store, { customers: 2, seed: 5 });
      const listening = await sandbox.listen(0);
      try {
        const stripe = createStripeClient({ secretKey: sandbox.apiKey, apiBase: listening.url, maxNetworkRetries: 0 });
        await inSpan('apply intervention', {}, () => stripe.customers.list({ limit: 1 }));
      } finally {
        await listening.close();
      }
      await stopTracing();

      expect(paths.every((p) => p === '/v1/traces')).toBe(true);
      const byName = new Map(spans.map((s) => [s.name, s]));
      const webhook = byName.get('webhook stripe');
      const store = byName.get('store event');
      expect(webhook).toBeDefined();
      expect(store?.parentSpanId).toBe(webhook!.spanId);
      expect(store?.traceId).toBe(webhook!.traceId);
      const apply = byName.get('apply intervention');
      const call = byName.get('stripe GET /v1/customers');
      expect(call?.parentSpanId).toBe(apply!.spanId);
    });
  });
});
