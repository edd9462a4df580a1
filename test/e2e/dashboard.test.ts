import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { sql } from 'drizzle-orm';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import type { Database } from '../../src/db/client.js';
import { DASHBOARD_CSP } from '../../src/routes/dashboard.js';
import { createApiKey } from '../../src/services/auth/index.js';
import { testEnv } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/db.js';
import { HOSTILE_NAME, seedDashboardWorld, type DashboardWorld } from './dashboard-world.js';

/**
 * The dashboard in Debian's headless Chromium against the real app (createApp on a real port) on
 * a seeded PostgreSQL database with really trained models: sign in (a wrong key first), every
 * page, a threshold change that moves the simulate preview, a saved policy version, promote and
 * roll back, sign out. Any console error, page error, dialog, failed or off-origin request, or
 * HTTP error the test did not provoke on purpose fails it. Screenshots of every page go to
 * test-output/dashboard/.
 */

// What the functions run inside the page use (the project compiles without the DOM library; these
// run in Chromium, and a string predicate would be refused by the dashboard's CSP, which forbids eval).
interface PageElement {
  textContent: string | null;
  getAttribute(name: string): string | null;
}
declare const document: { querySelector(selector: string): PageElement | null; querySelectorAll(selector: string): { length: number } };
declare const location: { hash: string };

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(process.cwd(), 'test-output', 'dashboard');

describe('dashboard in headless Chromium [postgres]', () => {
  let database: Database;
  let modelDir: string;
  let world: DashboardWorld;
  let server: ServerType;
  let base: string;
  let browser: Browser;
  let page: Page;
  const keys = { admin: '', viewer: '' };
  const problems: string[] = [];
  // only while a step provokes an error on purpose (a wrong key, an unknown customer): that one
  // answer, and the browser's log line about it, are expected, and counted
  let provoking: { status: number; url: string } | null = null;
  let provoked = 0;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`Chromium is missing at ${CHROMIUM}: the dashboard test drives Debian's chromium. Run \`npm run pretest\` (it installs it with apt-get as root) or \`apt-get install -y chromium\`.`);
    }
    rmSync(SHOTS, { recursive: true, force: true });
    mkdirSync(SHOTS, { recursive: true });
    database = await createTestDatabase('postgres');
    modelDir = await mkdtemp(join(tmpdir(), 'churn-dashboard-models-'));
    world = await seedDashboardWorld(database, { modelDir });
    for (const role of ['admin', 'viewer'] as const) keys[role] = (await createApiKey(database, { role, name: `dashboard ${role}`, actor: 'test', now: new Date(world.now * 1000) })).key;
    // the app's clock starts at the seeded "now" and moves with the test, so promote and roll back are ordered
    const started = Date.now();
    const app = createApp({ database, env: testEnv({ MODEL_DIR: modelDir }), now: () => world.now + Math.floor((Date.now() - started) / 1000), models: world.registry });
    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(15_000);
    page.on('console', (m) => {
      if (m.type() !== 'error') return;
      // the browser logs the wrong key's 401 as a failed resource
      if (provoking && m.text().includes(`status of ${provoking.status}`)) return;
      problems.push(`console error: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('dialog', (d) => {
      problems.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    page.on('request', (r) => {
      if (!r.url().startsWith(base) && !r.url().startsWith('data:')) problems.push(`off-origin request: ${r.url()}`);
    });
    page.on('requestfailed', (r) => problems.push(`failed request: ${r.method()} ${r.url()} ${r.failure()?.errorText}`));
    page.on('response', (r) => {
      if (r.status() < 400) return;
      if (provoking && r.status() === provoking.status && r.url() === `${base}${provoking.url}`) {
        provoked += 1;
        return;
      }
      problems.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`);
    });
  }, 180_000);

  afterAll(async () => {
    if (problems.length) console.error(`browser problems:\n${problems.join('\n')}`);
    await browser?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await world?.close();
    await database?.close();
    if (modelDir) await rm(modelDir, { recursive: true, force: true });
  });

  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  const nav = async (label: string) => {
    await page.click(`nav.nav >> text=${label}`);
    await page.waitForSelector('.nav-link.active');
  };
  const signIn = async (key: string) => {
    await page.fill('#api-key', key);
    await page.click('form.signin-card button[type=submit]');
  };

  it('serves the page under a strict CSP and refuses a wrong key with a clear message', async () => {
    const res = await page.goto(base + '/');
    expect(res!.status()).toBe(200);
    expect(res!.headers()['content-security-policy']).toBe(DASHBOARD_CSP);
    expect(DASHBOARD_CSP).toContain("script-src 'self'");
    expect(DASHBOARD_CSP).not.toContain('unsafe');
    await shot('sign-in');
    provoking = { status: 401, url: '/v1/me' };
    await signIn('churn_live_deadbeef_this-key-does-not-exist');
    const error = page.locator('#signin-error');
    await error.waitFor({ state: 'visible' });
    expect(await error.textContent()).toMatch(/not valid/);
    await shot('sign-in-wrong-key');
    await page.waitForTimeout(200);
    provoking = null;
    expect(provoked, 'the wrong key was answered 401 by /v1/me once').toBe(1);
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
  });

  it('hides model promotion from a viewer, then signs out', async () => {
    await signIn(keys.viewer);
    await page.waitForSelector('[data-testid=kpi-mrr-at-risk]');
    expect(await page.textContent('.role')).toBe('viewer');
    await nav('Model');
    await page.waitForSelector('[data-testid=model-row]');
    expect(await page.locator('[data-testid=promote]').count()).toBe(0);
    expect(await page.locator('[data-testid=rollback]').count()).toBe(0);
    await page.waitForSelector('[data-testid=admin-note]');
    await page.click('.nav-signout');
    await page.waitForSelector('#api-key');
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
  });

  it('shows the overview: MRR at risk by band, the riskiest customers, this month\'s interventions and budgets', async () => {
    await signIn(keys.admin);
    await page.waitForSelector('[data-testid=kpi-mrr-at-risk]');
    expect(await page.textContent('.role')).toBe('admin');
    expect(await page.textContent('[data-testid=kpi-mrr-at-risk] .kpi-value')).toMatch(/^\$[\d,]+/);
    expect(await page.textContent('[data-testid=kpi-offers] .kpi-value')).toMatch(/^[1-9]/);
    await page.waitForSelector('[data-testid=overview-policy]');
    expect(await page.locator('canvas').count()).toBeGreaterThanOrEqual(2);
    // the hostile name is shown as text, first in the riskiest list
    expect(await page.textContent('[data-testid=top-customers] li:first-child .top-name')).toBe(HOSTILE_NAME);
    await page.waitForTimeout(400);
    await shot('overview');
  });

  it('lists customers riskiest first with band filters and paging, and opens one with drivers, history and timeline', async () => {
    await nav('Customers');
    await page.waitForSelector('[data-testid=customer-row]');
    const first = page.locator('[data-testid=customer-row]').first();
    expect(await first.locator('.cell-name').textContent()).toBe(HOSTILE_NAME);
    const band = (await first.locator('.band').textContent())!;
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(await page.locator('img[src=x]').count()).toBe(0);
    await shot('customers');

    const ids = () => page.locator('[data-testid=customer-row]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-customer')));
    const firstPage = await ids();
    expect(firstPage.length).toBe(25);
    await page.click('[data-testid=next-page]');
    await page.waitForFunction((id) => {
      const row = document.querySelector('[data-testid=customer-row]');
      return row !== null && row.getAttribute('data-customer') !== id;
    }, firstPage[0]);
    const secondPage = await ids();
    expect(secondPage.length).toBeGreaterThan(0);
    expect(secondPage.filter((id) => firstPage.includes(id))).toEqual([]);

    // filter on the riskiest customer's band: every row shown is in it
    await page.click(`.chip[data-band=${band.toLowerCase()}]`);
    await page.waitForFunction((b) => location.hash.includes(`band=${b}`), band.toLowerCase());
    await page.waitForSelector('[data-testid=customer-row]');
    const bands = await page.locator('[data-testid=customer-row] .band').allTextContents();
    expect(bands.length).toBeGreaterThan(0);
    expect(new Set(bands)).toEqual(new Set([band]));
    await page.fill('#min-prob', '100');
    await page.click('form.filters button[type=submit]');
    await page.waitForSelector('.state-empty');
    expect(await page.textContent('.state-empty h3')).toMatch(/No customer matches/);
    await page.click('.state-empty >> text=Clear filters');
    await page.waitForFunction(() => location.hash === '#/customers');
    await page.waitForSelector('[data-testid=customer-row]');
    await page.locator('[data-testid=customer-row]').first().click();
    await page.waitForSelector('[data-testid=customer-score]');
    expect(await page.textContent('h1')).toBe(HOSTILE_NAME);
    expect(await page.textContent('[data-testid=customer-score]')).toMatch(/^\d+\.\d%$/);
    expect(await page.locator('[data-testid=drivers] li').count()).toBeGreaterThan(0);
    expect(await page.locator('[data-testid=timeline] li').count()).toBeGreaterThan(0);
    await page.waitForSelector('canvas');
    await page.waitForTimeout(400);
    await shot('customer');

    // an unknown customer is an error state with the server's message and request id, not a blank page
    provoking = { status: 404, url: '/v1/customers/platform/cus_does_not_exist' };
    provoked = 0;
    await page.goto(`${base}/#/customers/platform/cus_does_not_exist`);
    await page.waitForSelector('.state-error');
    expect(await page.textContent('.state-error')).toMatch(/Not found.*no customer cus_does_not_exist.*Request id/);
    await shot('customer-not-found');
    await page.waitForTimeout(200);
    provoking = null;
    expect(provoked).toBe(1);
  });

  it('previews a policy as its threshold changes and saves the change as a new version', async () => {
    await nav('Policies');
    await page.waitForSelector('[data-testid=policy-link]');
    await shot('policies');
    await page.click('[data-testid=policy-link] >> text=Pause instead of cancel');
    await page.waitForFunction(() => document.querySelector('[data-testid=preview-status]')?.textContent?.includes('The saved version'));
    const before = Number((await page.textContent('[data-testid=preview-treated]'))!.replace(/,/g, ''));
    const holdoutBefore = Number((await page.textContent('[data-testid=preview-holdout]'))!.replace(/,/g, ''));
    expect(before + holdoutBefore).toBeGreaterThan(0);
    // a much higher bar targets fewer customers
    await page.fill('[data-testid=threshold]', '20');
    await page.waitForFunction(() => document.querySelector('[data-testid=preview-status]')?.textContent?.includes('Your unsaved changes'));
    const after = Number((await page.textContent('[data-testid=preview-treated]'))!.replace(/,/g, ''));
    const holdoutAfter = Number((await page.textContent('[data-testid=preview-holdout]'))!.replace(/,/g, ''));
    expect(after + holdoutAfter).toBeLessThan(before + holdoutBefore);
    expect(await page.textContent('[data-testid=preview-delta]')).toMatch(/Saved version/);
    expect(await page.textContent('[data-testid=save-status]')).toMatch(/Unsaved changes: Targeting/);
    await page.waitForTimeout(300);
    await shot('policy-editor');

    await page.click('[data-testid=save-policy]');
    await page.waitForSelector('.toast >> text=Saved as version 2');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=versions] tr').length === 2);
    const stored = await database.query<{ version: number; min: number }>(sql`select version, (definition->'targeting'->>'minProbability')::float8 as min from policies where id = ${world.policyId} order by version`);
    expect(stored.map((r) => [Number(r.version), Number(r.min)])).toEqual([[1, 0.02], [2, 0.2]]);
    const audit = await database.query<{ action: string }>(sql`select action from audit_log where entity_id = ${world.policyId} order by at`);
    expect(audit.map((a) => a.action)).toEqual(['policy.create', 'policy.update']);
  });

  it('draws the uplift report with its interval', async () => {
    await nav('Uplift');
    await page.waitForSelector('[data-testid=uplift-verdict]');
    expect(await page.textContent('[data-testid=uplift-effect] .kpi-sub')).toMatch(/95% interval: [−+-]?\d/);
    expect(await page.locator('canvas').count()).toBeGreaterThanOrEqual(2);
    await page.waitForTimeout(400);
    await shot('uplift');
  });

  it('plots the model and promotes a version, then rolls back', async () => {
    await nav('Model');
    await page.waitForSelector('[data-testid=model-row]');
    expect(await page.locator('canvas').count()).toBe(3);
    await page.waitForTimeout(400);
    await shot('model');
    const champion = async () => (await database.query<{ version: string }>(sql`select version from model_versions where status = 'champion'`))[0]?.version;
    const original = await champion();
    const other = world.versions.find((v) => v !== original)!;
    expect(other).toBeDefined();
    await page.click(`[data-testid=model-row][data-version="${other}"] [data-testid=promote]`);
    await page.click('.dialog button.btn-primary');
    await page.waitForSelector(`.toast >> text=${other} is now the champion`);
    await page.waitForSelector(`[data-testid=model-row][data-version="${other}"] >> text=Serving`);
    expect(await champion()).toBe(other);
    await shot('model-promoted');
    await page.click('[data-testid=rollback]');
    await page.click('.dialog button.btn-danger');
    await page.waitForSelector(`.toast >> text=${original} is the champion again`);
    await page.waitForSelector(`[data-testid=model-row][data-version="${original}"] >> text=Serving`);
    expect(await champion()).toBe(original);
  });

  it('lists open and closed alerts', async () => {
    await nav('Alerts');
    // spending a fifth of a month's budget on its first day runs ahead of the pro-rata share
    await page.waitForSelector('[data-testid=alert] >> text=Offer spend ahead of budget');
    await shot('alerts');
    await page.click('[data-testid=alerts-all]');
    await page.waitForFunction(() => location.hash === '#/alerts?status=all');
    await page.waitForSelector('[data-testid=alert]');
  });

  it('signs out, and saw no console error, failed request or unexpected HTTP error on any page', async () => {
    await page.click('.nav-signout');
    await page.waitForSelector('#api-key');
    expect(await page.evaluate(`sessionStorage.getItem('churn.apiKey')`)).toBeNull();
    expect(problems).toEqual([]);
  });
});
