import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { DASHBOARD_CSP } from '../../src/routes/dashboard.js';
import { createApiKey, type Role } from '../../src/services/auth/index.js';
import { testApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/db.js';

const NOW = 1_760_000_000;
const SOURCE = join(process.cwd(), 'src', 'dashboard');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? files(join(dir, name)) : [join(dir, name)]));
}

describe('dashboard assets and /v1/me (PGlite)', () => {
  let database: Database;
  let app: ReturnType<typeof testApp>['app'];
  beforeAll(async () => {
    database = await createTestDatabase('pglite');
    ({ app } = testApp(database, { now: () => NOW }));
  });
  afterAll(async () => database?.close());

  it('serves the page at / under a strict Content-Security-Policy, loading nothing from another origin', async () => {
    const res = await app.request('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toBe(DASHBOARD_CSP);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await res.text();
    expect(html).not.toMatch(/https?:\/\//);
    // no inline script or style (the CSP would block them): every script has a src
    for (const tag of html.match(/<script\b[^>]*>/g) ?? []) expect(tag).toMatch(/\ssrc="/);
    expect(html).not.toMatch(/<style|\sstyle=/);
    for (const src of [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!)) {
      const asset = await app.request(src);
      expect(asset.status, src).toBe(200);
    }
  });

  it('serves every file of src/dashboard and the vendored Chart.js and font, and nothing else', async () => {
    for (const path of files(SOURCE)) {
      const url = `/dashboard/${path.slice(SOURCE.length + 1)}`;
      const res = await app.request(url);
      expect(res.status, url).toBe(200);
      expect(res.headers.get('content-security-policy')).toBe(DASHBOARD_CSP);
    }
    expect((await app.request('/dashboard/app.js')).headers.get('content-type')).toMatch(/^text\/javascript/);
    const chart = await app.request('/dashboard/vendor/chart.umd.min.js');
    expect(chart.status).toBe(200);
    expect(await chart.text()).toMatch(/Chart\.js v4/);
    expect((await app.request('/dashboard/vendor/inter.woff2')).headers.get('content-type')).toBe('font/woff2');
    for (const url of ['/dashboard/nope.js', '/dashboard/../package.json', '/dashboard/%2e%2e/package.json', '/dashboard/vendor/../../package.json', '/dashboard/vendor/chart.js', '/dashboard/']) {
      expect((await app.request(url)).status, url).toBe(404);
    }
  });

  it('builds the DOM without HTML parsing: no innerHTML, outerHTML, insertAdjacentHTML or document.write in the dashboard code', () => {
    for (const path of files(SOURCE).filter((p) => p.endsWith('.js'))) {
      const code = readFileSync(path, 'utf8');
      expect(code, path).not.toMatch(/\.(innerHTML|outerHTML)\b|insertAdjacentHTML|document\.write|\beval\(|new Function\(/);
    }
  });

  it('answers /v1/me with the calling key\'s role, so the dashboard can hide what the role cannot do', async () => {
    for (const role of ['viewer', 'editor', 'admin'] as Role[]) {
      const { key, apiKey } = await createApiKey(database, { role, actor: 'test', now: new Date(NOW * 1000) });
      const res = await app.request('/v1/me', { headers: { authorization: `Bearer ${key}` } });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ actor: apiKey.id, role });
    }
    expect((await app.request('/v1/me', { headers: { authorization: 'Bearer churn_live_deadbeef_nope' } })).status).toBe(401);
  });
});
