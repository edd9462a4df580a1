import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import type { Database } from '../../src/db/client.js';
import { registerCandidate } from '../../src/ml/registry.js';
import { createApiKey } from '../../src/services/auth/index.js';
import { createTestDatabase } from '../helpers/db.js';
import { testApp } from '../helpers/app.js';

const NOW = 1_760_000_000;

describe('/v1 models and keys (admin, PGlite)', () => {
  let database: Database;
  let app: ReturnType<typeof testApp>['app'];
  let admin: { key: string; id: string };
  beforeAll(async () => {
    database = await createTestDatabase('pglite');
    // a clock that moves: rollback finds the champion promoted before the current one
    let tick = NOW;
    ({ app } = testApp(database, { now: () => tick++ }));
    const a = await createApiKey(database, { role: 'admin', actor: 'test', now: new Date(NOW * 1000) });
    admin = { key: a.key, id: a.apiKey.id };
    for (const version of ['v1', 'v2']) await registerCandidate(database.db, { name: 'churn', version, metrics: { rocAuc: 0.7 }, path: `churn/${version}`, now: new Date(NOW * 1000) });
  });
  afterAll(async () => database?.close());
  const call = (method: string, url: string, body?: unknown) =>
    app.request(url, { method, headers: { authorization: `Bearer ${admin.key}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });

  it('promotes, rolls back and audits both with the key id; unknown versions are 404', async () => {
    expect((await call('POST', '/v1/models/v1/promote')).status).toBe(200);
    expect((await call('POST', '/v1/models/v2/promote')).status).toBe(200);
    expect((await call('POST', '/v1/models/v9/promote')).status).toBe(404);
    const rolled = (await (await call('POST', '/v1/models/rollback')).json()) as any;
    expect(rolled.restored.version).toBe('v1');
    expect(rolled.retired.version).toBe('v2');
    const audit = await database.query<{ actor: string; action: string; entity_id: string }>(sql`select actor, action, entity_id from audit_log where entity_type = 'model' order by at, action`);
    expect(audit.map((a) => [a.actor, a.action, a.entity_id])).toEqual([
      [admin.id, 'model.promote', 'churn/v1'],
      [admin.id, 'model.promote', 'churn/v2'],
      [admin.id, 'model.rollback', 'churn/v1'],
    ]);
    const list = (await (await call('GET', '/v1/models')).json()) as any;
    expect(list.items.find((m: any) => m.status === 'champion').version).toBe('v1');
  });

  it('creates a key over HTTP that works once and stops working after revocation', async () => {
    const created = await call('POST', '/v1/keys', { role: 'viewer', name: 'ci' });
    expect(created.status).toBe(201);
    const { key, apiKey } = (await created.json()) as any;
    expect(key.startsWith(`${apiKey.prefix}_`)).toBe(true);
    const listed = await (await call('GET', '/v1/keys')).text();
    expect(listed).toContain(apiKey.prefix);
    expect(listed).not.toContain(key.slice(apiKey.prefix.length + 1));
    expect((await app.request('/v1/policies', { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
    expect((await call('DELETE', `/v1/keys/${apiKey.prefix}`)).status).toBe(200);
    expect((await app.request('/v1/policies', { headers: { authorization: `Bearer ${key}` } })).status).toBe(401);
    const audit = await database.query<{ action: string }>(sql`select action from audit_log where entity_type = 'api_key' and entity_id = ${apiKey.id} order by at`);
    expect(audit.map((a) => a.action)).toEqual(['api_key.create', 'api_key.revoke']);
  });
});
