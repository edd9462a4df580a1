import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import type { Database } from '../../src/db/client.js';
import { createApiKey, type Role } from '../../src/services/auth/index.js';
import { createTestDatabase } from '../helpers/db.js';
import { testApp, testEnv } from '../helpers/app.js';

const NOW = 1_760_000_000;
const ADMIN_TOKEN = 'admin-bootstrap-token-0123456789abcdef';
const ROLE_RANK: Record<Role, number> = { viewer: 0, editor: 1, admin: 2 };

describe('/v1 auth, roles, document, errors (PGlite)', () => {
  let database: Database;
  let app: ReturnType<typeof testApp>['app'];
  const keys = {} as Record<Role, string>;
  let doc: any;
  beforeAll(async () => {
    database = await createTestDatabase('pglite');
    ({ app } = testApp(database, { env: testEnv({ CHURN_ADMIN_TOKEN: ADMIN_TOKEN }), now: () => NOW }));
    for (const role of ['viewer', 'editor', 'admin'] as Role[]) keys[role] = (await createApiKey(database, { role, actor: 'test', now: new Date(NOW * 1000) })).key;
    doc = await (await app.request('/openapi.json')).json();
  });
  afterAll(async () => database?.close());

  const operations = () =>
    Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), path, url: path.replace(/\{[^}]+\}/g, 'x'), role: op['x-role'] as Role })),
    );

  it('publishes an OpenAPI 3.1 document where every /v1 operation states its role and bearer security', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.securitySchemes.bearerAuth).toEqual(expect.objectContaining({ type: 'http', scheme: 'bearer' }));
    const ops = operations();
    expect(ops.length).toBeGreaterThanOrEqual(19);
    for (const op of ops) {
      expect(op.path.startsWith('/v1/')).toBe(true);
      expect(['viewer', 'editor', 'admin']).toContain(op.role);
      expect(doc.paths[op.path][op.method.toLowerCase()].security).toEqual([{ bearerAuth: [] }]);
      expect(Object.keys(doc.paths[op.path][op.method.toLowerCase()].responses)).toEqual(expect.arrayContaining(['401', '403']));
    }
  });

  it('answers 401 without, with a malformed, an unknown or a revoked key — for every operation', async () => {
    const revoked = (await createApiKey(database, { role: 'admin', actor: 'test', now: new Date(NOW * 1000) })).key;
    await database.query(sql`update api_keys set revoked_at = now() where prefix = ${revoked.split('_').slice(0, 3).join('_')}`);
    const tamper = keys.admin.slice(0, -4) + 'AAAA';
    for (const op of operations()) {
      for (const auth of [undefined, 'Basic abc', 'Bearer nope', `Bearer ${tamper}`, `Bearer ${revoked}`]) {
        const res = await app.request(op.url, { method: op.method, headers: auth ? { authorization: auth } : {} });
        expect(res.status, `${op.method} ${op.path} with ${auth}`).toBe(401);
        const body = (await res.json()) as any;
        expect(body.error.code).toBe('UNAUTHORIZED');
        expect(body.error.requestId).toBe(res.headers.get('x-request-id'));
      }
    }
  });

  it('answers 403 to every role below the one an operation needs, and lets the rest through', async () => {
    for (const op of operations()) {
      for (const role of ['viewer', 'editor', 'admin'] as Role[]) {
        const res = await app.request(op.url, { method: op.method, headers: { authorization: `Bearer ${keys[role]}`, 'content-type': 'application/json' }, body: op.method === 'GET' ? undefined : '{}' });
        const text = await res.text();
        if (ROLE_RANK[role] < ROLE_RANK[op.role]) expect(res.status, `${role} ${op.method} ${op.path}`).toBe(403);
        else expect([200, 201, 202, 404, 409, 422], `${role} ${op.method} ${op.path}: ${text}`).toContain(res.status);
        expect(text).not.toMatch(/\n\s+at /);
        expect(text).not.toContain(keys[role].split('_').slice(3).join('_'));
      }
    }
  });

  it('accepts CHURN_ADMIN_TOKEN as an admin key', async () => {
    const res = await app.request('/v1/keys', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.items.length).toBeGreaterThanOrEqual(3);
    expect(JSON.stringify(body)).not.toContain(keys.admin.split('_').slice(3).join('_'));
  });

  it('answers 422 with the failing field paths, in the one envelope', async () => {
    const res = await app.request('/v1/customers?limit=500&band=purple', { headers: { authorization: `Bearer ${keys.viewer}` } });
    expect(res.status).toBe(422);
    const body = (await res.json()) as any;
    expect(body.error.code).toBe('VALIDATION_FAILED');
    expect(body.error.details.map((d: any) => d.path.join('.')).sort()).toEqual(['query.band', 'query.limit']);
    const bad = await app.request('/v1/keys', { method: 'POST', headers: { authorization: `Bearer ${keys.admin}`, 'content-type': 'application/json' }, body: '{not json' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error.code).toBe('MALFORMED_JSON');
  });

  it('rate-limits each key with 429 and Retry-After, other keys unaffected', async () => {
    const { app: limited } = testApp(database, { now: () => NOW, rateLimit: { capacity: 3, refillPerSecond: 1 } });
    const get = (key: string) => limited.request('/v1/policies', { headers: { authorization: `Bearer ${key}` } });
    for (let i = 0; i < 3; i++) expect((await get(keys.viewer)).status).toBe(200);
    const res = await get(keys.viewer);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(((await res.json()) as any).error.code).toBe('RATE_LIMITED');
    expect((await get(keys.editor)).status).toBe(200);
  });

  it('serves /docs with its assets from the app', async () => {
    const page = await app.request('/docs');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).not.toMatch(/https?:\/\//);
    expect((await app.request('/docs/assets/swagger-ui-bundle.js')).status).toBe(200);
  });
});
