import { describe, expect, it } from 'vitest';
import Stripe from 'stripe';
import { createStripeClient, parseApiBase, STRIPE_API_VERSION } from '../../src/stripe/client.js';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

describe('createStripeClient', () => {
  it('splits STRIPE_API_BASE into the SDK host, port and protocol', () => {
    expect(parseApiBase('http://127.0.0.1:12111')).toEqual({ host: '127.0.0.1', port: 12111, protocol: 'http' });
    expect(parseApiBase('https://stripe.internal.example')).toEqual({ host: 'stripe.internal.example', port: 443, protocol: 'https' });
    expect(parseApiBase('http://[::1]:8080/')).toEqual({ host: '::1', port: 8080, protocol: 'http' });
    expect(() => parseApiBase('http://127.0.0.1:12111/v1')).toThrow(/path/);
    expect(() => parseApiBase('ftp://x')).toThrow(/http/);
  });

  it('pins the API version and sends appInfo churn to the configured base', async () => {
    expect(STRIPE_API_VERSION).toBe('2026-10-28.endive');
    let seen: IncomingHttpHeaders = {};
    const listener = createServer((req, res) => {
      seen = req.headers;
      res.writeHead(200, { 'Content-Type': 'application/json', 'Request-Id': 'req_x' }).end('{"object":"list","data":[],"has_more":false,"url":"/v1/customers"}');
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    try {
      const stripe = createStripeClient({ secretKey: 'sk_test_client', apiBase: `http://127.0.0.1:${(listener.address() as AddressInfo).port}` });
      const list = await stripe.customers.list();
      expect(list.data).toEqual([]);
      expect(seen['stripe-version']).toBe('2026-10-28.endive');
      expect(seen['user-agent']).toContain('churn');
      expect(seen.authorization).toBe('Bearer sk_test_client');
    } finally {
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    }
  });

  it('talks to api.stripe.com when no base is given', () => {
    const stripe = createStripeClient({ secretKey: 'sk_test_x' }) as unknown as { getApiField(name: string): unknown };
    expect(stripe.getApiField('host')).toBe('api.stripe.com');
    expect(stripe.getApiField('maxNetworkRetries')).toBe(2);
    expect(Stripe.API_VERSION).toBe(STRIPE_API_VERSION);
  });
});
