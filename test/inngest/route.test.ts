import { Hono } from 'hono';
import { Inngest } from 'inngest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type AppDeps, type AppEnv } from '../../src/app.js';
import type { Database } from '../../src/db/client.js';
import { parseEnv } from '../../src/env.js';
import { inngestClientOptions } from '../../src/inngest/client.js';
import { createInngestFunctions } from '../../src/inngest/index.js';
import { inngestRoutes } from '../../src/routes/inngest.js';
import { createTestDatabase } from '../helpers/db.js';
import { silentLogger } from '../integration/relay-target.js';

let database: Database;
beforeAll(async () => {
  database = await createTestDatabase('pglite');
});
afterAll(async () => {
  await database.close();
});

function appWith(client: Inngest) {
  const deps: AppDeps = { database, env: parseEnv({}), now: () => 1_780_000_000 };
  const app = new Hono<AppEnv>();
  app.use('*', async (c, next) => {
    c.set('deps', deps);
    await next();
  });
  app.route('/api/inngest', inngestRoutes({ client }));
  return app;
}

describe('/api/inngest', () => {
  it('is mounted by createApp and answers only GET, POST and PUT', async () => {
    const app = createApp({ database, env: parseEnv({}), now: () => 1 });
    const del = await app.request('/api/inngest', { method: 'DELETE' });
    expect(del.status).toBe(404);
    const get = await app.request('/api/inngest');
    // Served by the Inngest handler (which, with no signing key outside dev mode, refuses to work).
    expect(get.status).not.toBe(404);
  });

  it('in dev mode, introspection lists every function', async () => {
    const app = appWith(new Inngest({ id: 'churn', isDev: true, logger: silentLogger }));
    const res = await app.request('/api/inngest');
    expect(res.status).toBe(200);
    const expected = createInngestFunctions({ database, now: () => 1 }).length;
    expect(expected).toBeGreaterThanOrEqual(11);
    expect(await res.json()).toMatchObject({ function_count: expected, mode: 'dev' });
  });

  it('in cloud mode, an unsigned call to run a function is refused and runs nothing', async () => {
    const client = new Inngest({ id: 'churn', isDev: false, signingKey: 'signkey-prod-0123456789abcdef0123456789abcdef', logger: silentLogger });
    const app = appWith(client);
    const res = await app.request('/api/inngest?fnId=churn-project-stripe-event&stepId=step', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ event: { name: 'stripe/customer.created', data: {} }, events: [], steps: {}, ctx: { run_id: 'r1', attempt: 0 } }),
    });
    expect(res.status).toBe(401);
  });
});

describe('inngestClientOptions', () => {
  it('maps the INNGEST_* variables onto the client', () => {
    expect(inngestClientOptions({})).toMatchObject({ id: 'churn' });
    expect(inngestClientOptions({}).isDev).toBeUndefined();
    expect(inngestClientOptions({ INNGEST_DEV: '1' })).toMatchObject({ isDev: true });
    expect(inngestClientOptions({ INNGEST_DEV: 'false' })).toMatchObject({ isDev: false });
    expect(inngestClientOptions({ INNGEST_DEV: 'http://127.0.0.1:8288' })).toMatchObject({ isDev: true, baseUrl: 'http://127.0.0.1:8288' });
    expect(inngestClientOptions({ INNGEST_EVENT_KEY: 'ek', INNGEST_SIGNING_KEY: 'signkey-prod-ab', INNGEST_BASE_URL: 'https://inngest.internal' })).toMatchObject({
      eventKey: 'ek',
      signingKey: 'signkey-prod-ab',
      baseUrl: 'https://inngest.internal',
    });
  });
});
