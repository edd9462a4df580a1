import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Stripe from 'stripe';
import { createStripeClient } from '../../src/stripe/client.js';

const WHSEC = 'whsec_cli_test_secret';

describe('churn stripe-sandbox', () => {
  let child: ChildProcess;
  let banner = '';
  let receiver: Server;
  const received: Stripe.Event[] = [];

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push(Stripe.webhooks.constructEvent(Buffer.concat(chunks), String(req.headers['stripe-signature']), WHSEC));
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/stripe`;
    child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/index.ts', 'stripe-sandbox', '--port', '0', '--customers', '60', '--months', '2', '--seed', '3', '--api-key', 'sk_test_cli_key', '--webhook-url', hook, '--webhook-secret', WHSEC, '--quiet'],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'silent' } },
    );
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no banner: ${banner}`)), 60_000);
      child.stdout!.on('data', (chunk: Buffer) => {
        banner += chunk.toString();
        if (banner.includes('Ctrl-C')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${banner}`)));
    });
  });

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  it('prints the URL, the key and examples, serves the generated world and delivers signed webhooks', async () => {
    const url = banner.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/)?.[1];
    expect(url).toBeDefined();
    expect(banner).toContain('API key:   sk_test_cli_key');
    expect(banner).toContain(`export STRIPE_API_BASE=${url} STRIPE_SECRET_KEY=sk_test_cli_key`);
    expect(banner).toContain('/_sandbox/faults');
    const stripe = createStripeClient({ secretKey: 'sk_test_cli_key', apiBase: url!, maxNetworkRetries: 0 });
    let customers = 0;
    for await (const _c of stripe.customers.list({ limit: 50 })) customers++;
    expect(customers).toBeGreaterThan(20);
    const sub = (await stripe.subscriptions.list({ status: 'active', limit: 1 })).data[0]!;
    await stripe.subscriptions.update(sub.id, { metadata: { from: 'cli-test' } });
    for (let i = 0; i < 100 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    // Only what happened after start-up is delivered, not the generated history.
    expect(received.map((e) => e.type)).toEqual(['customer.subscription.updated']);
    expect((received[0]!.data.object as Stripe.Subscription).metadata.from).toBe('cli-test');
  });
});
