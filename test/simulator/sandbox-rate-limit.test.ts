import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Stripe from 'stripe';
import { createStripeSandbox, RateLimiter, type ListeningSandbox, type StripeSandbox } from '../../src/simulator/sandbox/index.js';
import { seedSampleAccount } from '../../src/simulator/sandbox/sample-account.js';
import { createStripeClient } from '../../src/stripe/client.js';

const API_KEY = 'sk_test_sandbox_rate_limit';
const NOW = 1_780_000_000;
const ACCT = 'acct_1RateLimitTestAcct';

describe('the rate limiter (token bucket per account and kind, wall clock passed in)', () => {
  it('lets one second of requests through at once, then refills at the limit', () => {
    const limiter = new RateLimiter(5);
    const outcomes = Array.from({ length: 7 }, () => limiter.take(undefined, 'write', 1000));
    expect(outcomes.map((e) => (e ? e.status : 'ok'))).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 429, 429]);
    expect(outcomes[5]!.body).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit' });
    expect(outcomes[5]!.headers['Stripe-Should-Retry']).toBe('true');
    // one token back every 200 ms
    expect(limiter.take(undefined, 'write', 1150)).not.toBeNull();
    expect(limiter.take(undefined, 'write', 1201)).toBeNull();
    expect(limiter.take(undefined, 'write', 1202)).not.toBeNull();
    // the bucket never holds more than one second's worth, however long it rested
    const burst = Array.from({ length: 7 }, () => limiter.take(undefined, 'write', 60_000)).filter((e) => e === null).length;
    expect(burst).toBe(5);
  });

  it('keeps accounts and reads/writes apart, counts what it throttled, and is off with null or 0', () => {
    const limiter = new RateLimiter(2);
    for (let i = 0; i < 3; i++) limiter.take(undefined, 'write', 0);
    expect(limiter.take(undefined, 'read', 0)).toBeNull();
    expect(limiter.take(ACCT, 'write', 0)).toBeNull();
    for (let i = 0; i < 3; i++) limiter.take(ACCT, 'read', 0);
    expect(limiter.stats()).toEqual({
      perSecond: 2,
      allowed: 6,
      throttled: 2,
      throttledByAccount: { platform: { read: 0, write: 1 }, [ACCT]: { read: 1, write: 0 } },
    });
    limiter.set(0);
    expect(Array.from({ length: 50 }, () => limiter.take(undefined, 'write', 0)).every((e) => e === null)).toBe(true);
    expect(limiter.stats()).toMatchObject({ perSecond: null, throttled: 0 });
    expect(() => limiter.set(-1)).toThrow(/perSecond/);
  });
});

describe('a rate-limited local Stripe API, through the official SDK', () => {
  let sandbox: StripeSandbox;
  let server: ListeningSandbox;

  beforeAll(async () => {
    sandbox = createStripeSandbox({ apiKey: API_KEY, now: NOW, accounts: [ACCT], rateLimit: { perSecond: 10 } });
    seedSampleAccount(sandbox.store, { customers: 20, seed: 9 });
    server = await sandbox.listen(0);
  });

  afterAll(async () => {
    await server?.close();
  });

  const control = (path: string, body?: unknown) =>
    fetch(`${server.url}/_sandbox${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { Authorization: `Bearer ${API_KEY}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then((r) => r.json() as Promise<Record<string, unknown>>);

  it('a burst over the limit gets 429s that the SDK retries; every write takes effect exactly once', async () => {
    await control('/rate-limit', { perSecond: 10 });
    const stripe = createStripeClient({ secretKey: API_KEY, apiBase: server.url, maxNetworkRetries: 10 });
    const ids = Array.from({ length: 30 }, (_, i) => `BURST${i}`);
    const eventsBefore = sandbox.store.listEvents(undefined).length;
    // creating a coupon twice would fail (resource_already_exists): the 429'd attempts did nothing;
    // and the SDK retries with the same Idempotency-Key, so a saved 429 would be replayed until it gave up
    const coupons = await Promise.all(ids.map((id) => stripe.coupons.create({ id, percent_off: 10 })));
    expect(coupons.map((c) => c.id)).toEqual(ids);
    const stats = sandbox.rateLimiter.stats();
    expect(stats.throttled).toBeGreaterThan(10);
    expect(stats.throttledByAccount.platform!.write).toBe(stats.throttled);
    const created = sandbox.store.listEvents(undefined).slice(eventsBefore).filter((e) => e.type === 'coupon.created');
    expect(created.map((e) => (e.data.object as { id: string }).id).sort()).toEqual([...ids].sort());
    // the same figures through the control API, for a benchmark to report
    expect(await control('/rate-limit')).toMatchObject({ perSecond: 10, throttled: stats.throttled });
  }, 60_000);

  it('answers Stripe’s rate_limit_error (retryable) to a client that does not retry, per account', async () => {
    await control('/rate-limit', { perSecond: 3 });
    const stripe = createStripeClient({ secretKey: API_KEY, apiBase: server.url, maxNetworkRetries: 0 });
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => stripe.customers.list({ limit: 1 })));
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as Stripe.errors.StripeError);
    expect(rejected.length).toBe(3);
    for (const error of rejected) {
      expect(error).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
      expect(error.type).toBe('StripeRateLimitError');
      expect(error.code).toBe('rate_limit');
      expect(error.statusCode).toBe(429);
      expect(error.headers?.['stripe-should-retry']).toBe('true');
    }
    // writes have their own bucket, and so has each connected account
    await expect(stripe.coupons.create({ id: 'WRITES_APART', percent_off: 5 })).resolves.toMatchObject({ id: 'WRITES_APART' });
    await expect(stripe.customers.list({ limit: 1 }, { stripeAccount: ACCT })).resolves.toMatchObject({ object: 'list' });
    // the control API is never limited
    for (let i = 0; i < 10; i++) expect((await control('/rate-limit')).perSecond).toBe(3);
    expect(await control('/rate-limit')).toMatchObject({ throttled: 3, throttledByAccount: { platform: { read: 3, write: 0 } } });
  });

  it('is turned off at run time with perSecond null', async () => {
    await control('/rate-limit', { perSecond: null });
    const stripe = createStripeClient({ secretKey: API_KEY, apiBase: server.url, maxNetworkRetries: 0 });
    await Promise.all(Array.from({ length: 40 }, () => stripe.customers.list({ limit: 1 })));
    expect(sandbox.rateLimiter.stats()).toMatchObject({ perSecond: null, throttled: 0 });
  });
});

describe('churn stripe-sandbox --rate-limit', () => {
  it('starts with the limit on and says so', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts', 'stripe-sandbox', '--port', '0', '--rate-limit', '25', '--api-key', API_KEY, '--quiet'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LOG_LEVEL: 'silent' },
    });
    try {
      let banner = '';
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no banner: ${banner}`)), 60_000);
        child.stdout.on('data', (chunk: Buffer) => {
          banner += chunk.toString();
          if (banner.includes('Ctrl-C')) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.once('exit', (code) => reject(new Error(`exited ${code}: ${banner}`)));
      });
      expect(banner).toContain('rate limit: 25 reads and 25 writes per second per account');
      const url = banner.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/)![1]!;
      const stats = await fetch(`${url}/_sandbox/rate-limit`, { headers: { Authorization: `Bearer ${API_KEY}` } }).then((r) => r.json());
      expect(stats).toEqual({ perSecond: 25, allowed: 0, throttled: 0, throttledByAccount: {} });
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  }, 90_000);
});
