import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { initBackend } from '../../src/ml/backend.js';
import { dataWindow } from '../../src/ml/dataset.js';
import { featureSet } from '../../src/ml/features.js';
import { ModelRegistry } from '../../src/ml/registry.js';
import { createApiKey, type Role } from '../../src/services/auth/index.js';
import { createPolicy } from '../../src/services/policies/store.js';
import { applyIntervention } from '../../src/services/retention/apply-intervention.js';
import { decideRetention } from '../../src/services/retention/decide-retention.js';
import { createStripeClient } from '../../src/stripe/client.js';
import { settleOutcomes } from '../../src/services/retention/outcomes.js';
import { scoreAllCustomers } from '../../src/services/scoring/score-all-customers.js';
import { trainChurnModel } from '../../src/services/training/train-model.js';
import { writeTrainingReport } from '../../src/services/training/write-report.js';
import { simulateIntoDatabase } from '../../training/data.js';
import { createTestDatabase } from '../helpers/db.js';
import { testApp, testEnv } from '../helpers/app.js';

/**
 * The /v1 API against its own OpenAPI document, on a real PostgreSQL database seeded by the
 * simulator, with a real (small, quickly trained) champion: the document is checked by an OpenAPI
 * 3.1 validator, and every operation it lists is called and each answer's body is checked by a
 * JSON Schema 2020-12 validator against the schema the document declares for that status. An
 * operation without a case below fails the test, so a new route cannot go unchecked.
 */

const DAY = 86_400;
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => void;
const ROLE_RANK: Record<Role, number> = { viewer: 0, editor: 1, admin: 2 };

let database: Database;
let modelDir: string;
let end: number;
let app: ReturnType<typeof testApp>['app'];
let noModelApp: ReturnType<typeof testApp>['app'];
let registry: ModelRegistry;
let notices: Server;
let doc: any;
let ajv: Ajv2020;
let policyId: string;
const keys = {} as Record<Role, string>;
/** every (operation, status) a test saw, with its body: each is checked against the document at the end */
const seen: Array<{ method: string; path: string; status: number; body: unknown }> = [];

type Call = { status: number; body: any; text: string };
/** Calls the app as `role` and records the answer for the contract check; `path` is the document's template. */
async function call(role: Role | null, method: string, path: string, url: string, body?: unknown, target = app): Promise<Call> {
  const headers: Record<string, string> = {};
  if (role) headers.authorization = `Bearer ${keys[role]}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await target.request(url, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  const parsed = text ? JSON.parse(text) : null;
  seen.push({ method: method.toLowerCase(), path, status: res.status, body: parsed });
  return { status: res.status, body: parsed, text };
}

const pointer = (...parts: string[]) => parts.map((p) => encodeURIComponent(p.replace(/~/g, '~0').replace(/\//g, '~1'))).join('/');
const validators = new Map<string, ValidateFunction>();
/** The JSON Schema the document declares for this operation and status, compiled against the document's components. */
function responseValidator(method: string, path: string, status: number): ValidateFunction | null {
  const key = `${method} ${path} ${status}`;
  if (!validators.has(key)) {
    const declared = doc.paths[path]?.[method]?.responses?.[String(status)];
    if (!declared?.content?.['application/json']?.schema) return null;
    validators.set(key, ajv.compile({ $ref: `churn:openapi#/${pointer('paths', path, method, 'responses', String(status), 'content', 'application/json', 'schema')}` }));
  }
  return validators.get(key)!;
}

function operations(): Array<{ method: string; path: string; role: Role }> {
  return Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ method, path, role: op['x-role'] as Role })),
  );
}

beforeAll(async () => {
  await initBackend();
  database = await createTestDatabase('postgres');
  ({ summary: { end } } = await simulateIntoDatabase(database, { customers: 600, months: 10, seed: 5, quiet: true, accounts: 2 }));
  modelDir = await mkdtemp(join(tmpdir(), 'churn-api-contract-'));
  // the first champion, trained an hour before "now" (a version id is its training time and data)
  const trained = await trainChurnModel(database, { modelDir, seed: 1, now: new Date((end - 3600) * 1000), writeReport: writeTrainingReport });
  if (!trained.promoted) throw new Error(`the fixture needs a champion: ${trained.decision.reason}`);
  registry = new ModelRegistry({ db: database.db, modelDir, featureSet: featureSet(), checkEverySeconds: 0 });
  const champion = (await registry.champion())!;

  // a live policy decided 45 days ago (treated and held out), its notices posted to a local
  // receiver, the outcomes settled now; and today's scores
  notices = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((resolve) => notices.listen(0, '127.0.0.1', resolve));
  const policy = await createPolicy(
    database,
    {
      name: 'Notify on risk', mode: 'live', targeting: { kind: 'threshold', minProbability: 0.05 },
      action: { kind: 'notify', url: `http://127.0.0.1:${(notices.address() as AddressInfo).port}/churn` },
      budget: { monthlyAmount: 1_000_000, currency: 'usd' }, holdoutPercent: 40, horizonDays: 30, eligibility: { cooldownDays: 0 },
    },
    'test',
  );
  policyId = policy.id;
  await decideRetention(database, { asOf: end - 45 * DAY, model: champion, actor: 'test' });
  // notify calls no Stripe API: a client pointed at nothing proves it
  const stripe = createStripeClient({ secretKey: 'sk_test_unused', apiBase: 'http://127.0.0.1:9', maxNetworkRetries: 0 });
  for (const { id } of await database.query<{ id: string }>(sql`select id from interventions where status = 'decided'`)) {
    await applyIntervention({ database, stripe, now: end - 45 * DAY + 60, notify: { allowPrivateAddresses: true }, interventionId: id });
  }
  await settleOutcomes(database, { now: end });
  await scoreAllCustomers(database, { asOf: end, model: champion });

  const env = testEnv({ MODEL_DIR: modelDir });
  // a clock that moves a second a request: training runs and promotions each get their own time
  let tick = end;
  ({ app } = testApp(database, { env, now: () => tick++, models: registry }));
  ({ app: noModelApp } = testApp(database, { env, now: () => end }));
  for (const role of ['viewer', 'editor', 'admin'] as Role[]) keys[role] = (await createApiKey(database, { role, actor: 'test', now: new Date(end * 1000) })).key;

  doc = await (await app.request('/openapi.json')).json();
  ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(doc, 'churn:openapi');
}, 180_000);

afterAll(async () => {
  await new Promise((resolve) => notices?.close(resolve));
  await database?.close();
  if (modelDir) await rm(modelDir, { recursive: true, force: true });
});

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document (and the validator does reject a broken one)', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc));
    expect(result.errors ?? [], JSON.stringify(result.errors)).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    const broken = structuredClone(doc);
    delete broken.paths['/v1/customers'].get.responses['200'].description;
    broken.paths['/v1/customers'].get.parameters[0].in = 'body';
    expect((await new Validator().validate(broken)).valid).toBe(false);
  });

  it('declares no loose response body: every 2xx schema names its properties', () => {
    const loose: string[] = [];
    const ref = (s: any): any => (s?.$ref ? doc.components.schemas[s.$ref.split('/').pop()] : s);
    // an allOf (a schema extended with more properties) has the properties of all its parts
    const resolve = (s: any): any => {
      const r = ref(s);
      if (!r?.allOf) return r;
      const parts = r.allOf.map(resolve);
      return { type: 'object', properties: Object.assign({}, ...parts.map((p: any) => p.properties ?? {})) };
    };
    for (const { method, path } of operations()) {
      for (const [status, r] of Object.entries<any>(doc.paths[path][method].responses)) {
        if (!status.startsWith('2')) continue;
        const schema = resolve(r.content['application/json'].schema);
        if (schema.type !== 'object' || !schema.properties) loose.push(`${method} ${path} ${status}`);
        for (const [name, prop] of Object.entries<any>(schema.properties ?? {})) {
          const p = resolve(prop);
          if (p && Object.keys(p).length === 0) loose.push(`${method} ${path} ${status} .${name}`);
        }
      }
    }
    expect(loose).toEqual([]);
  });
});

describe('policies', () => {
  it('refuses an invalid policy with 422 naming each field as a path from the body, and an unknown one with 404', async () => {
    const bad = await call('editor', 'POST', '/v1/policies', '/v1/policies', { name: 'x', targeting: { kind: 'threshold', minProbability: 2 }, action: { kind: 'coupon', duration: 'once' }, budget: { monthlyAmount: -1 } });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details.map((d: any) => d.path.join('.')).sort()).toEqual(['json.action.percentOff', 'json.budget.monthlyAmount', 'json.targeting.minProbability']);
    const patch = await call('editor', 'PATCH', '/v1/policies/{id}', `/v1/policies/${policyId}`, { holdoutPercent: 95 });
    expect(patch.status).toBe(422);
    expect(patch.body.error.details.map((d: any) => d.path)).toEqual([['json', 'holdoutPercent']]);
    expect((await call('editor', 'PATCH', '/v1/policies/{id}', '/v1/policies/pol_nope', { priority: 1 })).status).toBe(404);
    expect((await call('viewer', 'GET', '/v1/policies/{id}', '/v1/policies/pol_nope')).status).toBe(404);
    const cursor = await call('viewer', 'GET', '/v1/customers', '/v1/customers?cursor=garbage');
    expect(cursor.body.error.details).toEqual([{ path: ['query', 'cursor'], message: 'invalid cursor' }]);
  });
});

describe('customers', () => {
  it('filters the latest snapshot by account, probability, MRR and policy, each page riskiest first', async () => {
    const list = async (query: string) => {
      const res = await call('viewer', 'GET', '/v1/customers', `/v1/customers?limit=200&${query}`);
      expect(res.status, res.text).toBe(200);
      return res.body;
    };
    const all = await list('');
    expect(all.snapshot).toEqual({ modelName: 'churn', modelVersion: (await registry.champion())!.metadata.version, asOf: end });
    expect(all.items.length).toBe(200);
    const [{ accounts }] = await database.query<{ accounts: string[] }>(sql`select array_agg(distinct account order by account) as accounts from scores where as_of = ${end}`);
    expect(accounts.length).toBe(2); // two accounts in this world
    const one = await list(`account=${accounts[1]}`);
    expect(one.items.length).toBeGreaterThan(0);
    expect(one.items.every((i: any) => i.account === accounts[1])).toBe(true);
    const band = await list('minProbability=0.1&maxProbability=0.3');
    expect(band.items.length).toBeGreaterThan(0);
    expect(band.items.every((i: any) => i.probability >= 0.1 && i.probability <= 0.3)).toBe(true);
    const rich = await list('minMrr=5000&maxMrr=20000');
    expect(rich.items.length).toBeGreaterThan(0);
    expect(rich.items.every((i: any) => i.mrr >= 5000 && i.mrr <= 20000)).toBe(true);
    const targeted = await list(`policyId=${policyId}`);
    const [{ n }] = await database.query<{ n: number }>(
      sql`select count(distinct (i.account, i.customer_id))::int as n from interventions i join scores s on s.account = i.account and s.customer_id = i.customer_id and s.as_of = ${end} where i.policy_id = ${policyId}`,
    );
    expect(targeted.items.length).toBe(Math.min(n, 200));
    for (const page of [all, one, band, rich, targeted]) {
      const probs = page.items.map((i: any) => i.probability);
      expect([...probs].sort((a, b) => b - a)).toEqual(probs);
    }
  });

  it("a customer's detail: score with drivers in words, history, subscriptions, invoices, events and the interventions made", async () => {
    const [c] = await database.query<{ account: string; customer_id: string }>(
      sql`select i.account, i.customer_id from interventions i join scores s on s.account = i.account and s.customer_id = i.customer_id and s.as_of = ${end}
          where i.status = 'applied' order by s.probability desc, i.id limit 1`,
    );
    const detail = await call('viewer', 'GET', '/v1/customers/{account}/{customerId}', `/v1/customers/${c!.account}/${c!.customer_id}`);
    expect(detail.status).toBe(200);
    expect(detail.body.latestScore.asOf).toBe(end);
    expect(detail.body.latestScore.drivers.length).toBeGreaterThan(0);
    expect(detail.body.latestScore.drivers.every((d: unknown) => typeof d === 'string' && d.length > 5)).toBe(true);
    expect(detail.body.scoreHistory.map((s: any) => s.asOf)).toEqual(expect.arrayContaining([end, end - 45 * DAY]));
    expect(detail.body.subscriptions.length).toBeGreaterThan(0);
    expect(detail.body.invoices.length).toBeGreaterThan(0);
    expect(detail.body.events.length).toBeGreaterThan(0);
    expect(detail.body.interventions).toEqual([expect.objectContaining({ policyId, status: 'applied', arm: 'treatment', action: 'notify' })]);
    expect((await call('viewer', 'GET', '/v1/customers/{account}/{customerId}', `/v1/customers/${c!.account}/cus_nope`)).status).toBe(404);
  });
});

describe('training runs', () => {
  it('starts one in the background (202), refuses a second while it runs (409), and reports it until done', async () => {
    const started = await call('editor', 'POST', '/v1/training-runs', '/v1/training-runs', { seed: 3 });
    expect(started.status, started.text).toBe(202);
    expect(started.body).toEqual({ id: expect.stringMatching(/^trn_/), status: 'running' });
    const again = await call('editor', 'POST', '/v1/training-runs', '/v1/training-runs', {});
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('CONFLICT');
    let run: Call | undefined;
    await vi.waitFor(
      async () => {
        run = await call('viewer', 'GET', '/v1/training-runs/{id}', `/v1/training-runs/${started.body.id}`);
        expect(run.status).toBe(200);
        expect(run.body.status).not.toBe('running');
      },
      { timeout: 120_000, interval: 250 },
    );
    expect(run!.body).toMatchObject({ id: started.body.id, trigger: 'api', status: 'succeeded', params: { seed: 3 }, error: null });
    expect(run!.body.metrics.model.overall.rocAuc).toBeGreaterThan(0);
    expect(run!.body.decision).toEqual(expect.objectContaining({ promote: expect.any(Boolean), reason: expect.any(String) }));
    const audit = await database.query<{ action: string; entity_id: string }>(sql`select action, entity_id from audit_log where action = 'training.start'`);
    expect(audit).toEqual([{ action: 'training.start', entity_id: started.body.id }]);
  }, 150_000);

  it('refuses a bad body with 422 and the field path, a viewer with 403, an unknown run with 404', async () => {
    const bad = await call('editor', 'POST', '/v1/training-runs', '/v1/training-runs', { horizonDays: 0, seed: 'x' });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details.map((d: any) => d.path.join('.')).sort()).toEqual(['json.horizonDays', 'json.seed']);
    expect((await call('editor', 'POST', '/v1/training-runs', '/v1/training-runs', '{"seed":')).status).toBe(400);
    expect((await call('viewer', 'POST', '/v1/training-runs', '/v1/training-runs', {})).status).toBe(403);
    expect((await call(null, 'POST', '/v1/training-runs', '/v1/training-runs', {})).status).toBe(401);
    expect((await call('viewer', 'GET', '/v1/training-runs/{id}', '/v1/training-runs/trn_nope')).status).toBe(404);
    const [{ n }] = await database.query<{ n: number }>(sql`select count(*)::int as n from training_runs where trigger = 'api'`);
    expect(n).toBe(1);
  });
});

describe('policy simulation with the champion', () => {
  it('says what the policy would do now and records nothing', async () => {
    const before = await database.query<{ n: number }>(sql`select (select count(*) from interventions)::int + (select count(*) from decision_runs)::int as n`);
    const sim = await call('viewer', 'POST', '/v1/policies/{id}/simulate', `/v1/policies/${policyId}/simulate`, {});
    expect(sim.status, sim.text).toBe(200);
    const champion = (await registry.champion())!;
    expect(sim.body.asOf).toBe((await dataWindow(database))!.end);
    expect(sim.body.modelVersion).toBe(champion.metadata.version);
    expect(sim.body.candidates).toBeGreaterThan(100);
    const [p] = sim.body.policies;
    expect(p).toMatchObject({ policyId, name: 'Notify on risk', mode: 'live', currency: 'usd' });
    expect(p.treated + p.holdout).toBeGreaterThan(0);
    // the holdout is a deterministic hash of customer and policy id (random per run): with 40 %
    // held out, twenty or more decided customers and none held out would be a 1-in-28,000 run
    if (p.treated + p.holdout >= 20) expect(p.holdout).toBeGreaterThan(0);
    expect(await database.query(sql`select (select count(*) from interventions)::int + (select count(*) from decision_runs)::int as n`)).toEqual(before);
    // an earlier as-of is another point in time
    const earlier = await call('viewer', 'POST', '/v1/policies/{id}/simulate', `/v1/policies/${policyId}/simulate`, { asOf: end - 30 * DAY });
    expect(earlier.status).toBe(200);
    expect(earlier.body.asOf).toBe(end - 30 * DAY);
  });

  it('answers 404 for an unknown policy, 422 for a bad as-of, 409 with no champion, 401 without a key', async () => {
    expect((await call('viewer', 'POST', '/v1/policies/{id}/simulate', '/v1/policies/pol_nope/simulate', {})).status).toBe(404);
    const bad = await call('viewer', 'POST', '/v1/policies/{id}/simulate', `/v1/policies/${policyId}/simulate`, { asOf: 'yesterday' });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details[0].path).toEqual(['json', 'asOf']);
    const none = await call('viewer', 'POST', '/v1/policies/{id}/simulate', `/v1/policies/${policyId}/simulate`, {}, noModelApp);
    expect(none.status).toBe(409);
    expect(none.body.error.message).toContain('no champion');
    expect((await call(null, 'POST', '/v1/policies/{id}/simulate', `/v1/policies/${policyId}/simulate`, {})).status).toBe(401);
  });
});

describe('interventions', () => {
  it('pages through every intervention once, newest decision first, and filters by arm, outcome, status and policy', async () => {
    const all = await database.query<{ id: string; arm: string; outcome: string | null; status: string }>(sql`select id, arm, outcome, status from interventions order by decided_at desc, id`);
    expect(all.length).toBeGreaterThan(20);
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Call = await call('viewer', 'GET', '/v1/interventions', `/v1/interventions?limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(7);
      ids.push(...page.body.items.map((i: any) => i.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(ids).toEqual(all.map((r) => r.id));

    const count = async (query: string) => (await call('viewer', 'GET', '/v1/interventions', `/v1/interventions?limit=200&${query}`)).body.items;
    const holdout = await count('arm=holdout');
    expect(holdout.length).toBe(all.filter((r) => r.arm === 'holdout').length);
    expect(holdout.every((i: any) => i.arm === 'holdout' && i.status === 'holdout')).toBe(true);
    for (const outcome of ['stayed', 'churned'] as const) expect((await count(`outcome=${outcome}`)).length).toBe(all.filter((r) => r.outcome === outcome).length);
    expect(all.filter((r) => r.outcome !== null).length).toBe(all.length); // decided 45 days ago, horizon 30: all settled
    expect(await count('outcome=pending')).toEqual([]);
    const applied = await count('status=applied');
    expect(applied.length).toBe(all.filter((r) => r.status === 'applied').length);
    expect(applied.length).toBeGreaterThan(0);
    expect(applied.every((i: any) => i.arm === 'treatment' && i.appliedAt === end - 45 * DAY + 60)).toBe(true);
    expect((await count(`policyId=${policyId}`)).length).toBe(all.length);
    expect(await count('policyId=pol_other')).toEqual([]);

    const one = await call('viewer', 'GET', '/v1/interventions/{id}', `/v1/interventions/${all[0]!.id}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: all[0]!.id, policyId, policyVersion: 1, action: 'notify', decidedAt: end - 45 * DAY });
    expect(one.body.reasons.length).toBeGreaterThan(0);
  });

  it('answers 404 for an unknown id, 422 for a bad cursor or filter, 401 without a key', async () => {
    expect((await call('viewer', 'GET', '/v1/interventions/{id}', '/v1/interventions/int_nope')).status).toBe(404);
    const badCursor = await call('viewer', 'GET', '/v1/interventions', '/v1/interventions?cursor=bm9wZQ');
    expect(badCursor.status).toBe(422);
    const badFilter = await call('viewer', 'GET', '/v1/interventions', '/v1/interventions?status=lost&arm=both&limit=0');
    expect(badFilter.status).toBe(422);
    expect(badFilter.body.error.details.map((d: any) => d.path.join('.')).sort()).toEqual(['query.arm', 'query.limit', 'query.status']);
    expect((await call(null, 'GET', '/v1/interventions', '/v1/interventions')).status).toBe(401);
  });
});

describe('reports', () => {
  it('the uplift report counts the settled arms the store holds, per policy and overall, and filters by policy and time', async () => {
    const report = await call('viewer', 'GET', '/v1/reports/uplift', '/v1/reports/uplift');
    expect(report.status, report.text).toBe(200);
    const arms = await database.query<{ arm: string; n: number; churned: number }>(
      sql`select arm, count(*)::int as n, count(*) filter (where outcome = 'churned')::int as churned from interventions group by arm order by arm`,
    );
    const holdout = arms.find((a) => a.arm === 'holdout')!;
    const treated = arms.find((a) => a.arm === 'treatment')!;
    expect(report.body.overall.holdout).toMatchObject({ settled: holdout.n, churned: holdout.churned, pending: 0 });
    expect(report.body.overall.treated).toMatchObject({ settled: treated.n, churned: treated.churned, pending: 0 });
    expect(report.body.policies.map((p: any) => p.policyId)).toEqual([policyId]);
    expect(report.body.overall.verdict.status).toMatch(/not_enough_data|reduces_churn|increases_churn/);
    const other = await call('viewer', 'GET', '/v1/reports/uplift', '/v1/reports/uplift?policyId=pol_other');
    expect(other.body.overall.treated.settled + other.body.overall.holdout.settled).toBe(0);
    const later = await call('viewer', 'GET', '/v1/reports/uplift', `/v1/reports/uplift?from=${end - 10 * DAY}`);
    expect(later.body.policies).toEqual([]);
    expect((await call('viewer', 'GET', '/v1/reports/uplift', '/v1/reports/uplift?from=soon')).status).toBe(422);
  });

  it("the model report is the serving champion's metrics and its evaluation curves; 404 without a champion", async () => {
    const report = await call('viewer', 'GET', '/v1/reports/model', '/v1/reports/model');
    expect(report.status).toBe(200);
    const [champion] = await database.query<{ version: string }>(sql`select version from model_versions where status = 'champion'`);
    expect(report.body.model).toMatchObject({ version: champion!.version, status: 'champion' });
    expect(report.body.evaluation.candidate.curves.roc.length).toBeGreaterThan(2);
    expect(report.body.evaluation.candidate.curves.calibration).toHaveLength(10);
    expect(report.body.model.metrics.model.overall.rocAuc).toBeGreaterThan(0);
  });
});

describe('every operation against the document', () => {
  /** A valid request for each operation in the document; the happy status it must answer. */
  const cases: Record<string, () => Promise<{ role: Role; url: string; body?: unknown; status: number }>> = {
    'get /v1/policies': async () => ({ role: 'viewer', url: '/v1/policies', status: 200 }),
    'post /v1/policies': async () => ({
      role: 'editor', url: '/v1/policies', status: 201,
      body: { name: 'Coupon', targeting: { kind: 'top_percent', percent: 10 }, action: { kind: 'coupon', percentOff: 20, duration: 'once' }, budget: { monthlyAmount: 50_000 } },
    }),
    'get /v1/policies/{id}': async () => ({ role: 'viewer', url: `/v1/policies/${policyId}`, status: 200 }),
    'patch /v1/policies/{id}': async () => ({ role: 'editor', url: `/v1/policies/${policyId}`, body: { description: 'tuned' }, status: 200 }),
    'post /v1/policies/{id}/simulate': async () => ({ role: 'viewer', url: `/v1/policies/${policyId}/simulate`, body: {}, status: 200 }),
    'get /v1/customers': async () => ({ role: 'viewer', url: '/v1/customers?limit=5&minProbability=0.01', status: 200 }),
    'get /v1/customers/{account}/{customerId}': async () => {
      const [c] = await database.query<{ account: string; customer_id: string }>(sql`select account, customer_id from interventions order by probability desc limit 1`);
      return { role: 'viewer', url: `/v1/customers/${c!.account}/${c!.customer_id}`, status: 200 };
    },
    'get /v1/interventions': async () => ({ role: 'viewer', url: '/v1/interventions?limit=3', status: 200 }),
    'get /v1/interventions/{id}': async () => {
      const [i] = await database.query<{ id: string }>(sql`select id from interventions order by id limit 1`);
      return { role: 'viewer', url: `/v1/interventions/${i!.id}`, status: 200 };
    },
    'get /v1/reports/uplift': async () => ({ role: 'viewer', url: '/v1/reports/uplift', status: 200 }),
    'get /v1/reports/model': async () => ({ role: 'viewer', url: '/v1/reports/model', status: 200 }),
    'get /v1/reports/overview': async () => ({ role: 'viewer', url: '/v1/reports/overview', status: 200 }),
    'get /v1/alerts': async () => ({ role: 'viewer', url: '/v1/alerts?status=all', status: 200 }),
    'get /v1/me': async () => ({ role: 'viewer', url: '/v1/me', status: 200 }),
    'get /v1/models': async () => ({ role: 'viewer', url: '/v1/models', status: 200 }),
    'get /v1/models/{version}': async () => ({ role: 'viewer', url: '/v1/models/champion', status: 200 }),
    'post /v1/models/{version}/promote': async () => {
      const [other] = await database.query<{ version: string }>(sql`select version from model_versions where status <> 'champion' order by created_at limit 1`);
      return { role: 'admin', url: `/v1/models/${other!.version}/promote`, status: 200 };
    },
    'post /v1/models/rollback': async () => ({ role: 'admin', url: '/v1/models/rollback', status: 200 }),
    'post /v1/training-runs': async () => ({ role: 'editor', url: '/v1/training-runs', body: { seed: 4 }, status: 202 }),
    'get /v1/training-runs/{id}': async () => {
      const [r] = await database.query<{ id: string }>(sql`select id from training_runs order by started_at limit 1`);
      return { role: 'viewer', url: `/v1/training-runs/${r!.id}`, status: 200 };
    },
    'get /v1/keys': async () => ({ role: 'admin', url: '/v1/keys', status: 200 }),
    'post /v1/keys': async () => ({ role: 'admin', url: '/v1/keys', body: { role: 'viewer', name: 'contract' }, status: 201 }),
    'delete /v1/keys/{prefix}': async () => {
      const created = await createApiKey(database, { role: 'viewer', actor: 'test', now: new Date(end * 1000) });
      return { role: 'admin', url: `/v1/keys/${created.apiKey.prefix}`, status: 200 };
    },
  };

  it('has a valid request for every operation the document lists', () => {
    const missing = operations().map((o) => `${o.method} ${o.path}`).filter((k) => !cases[k]);
    expect(missing, 'operations without a contract case: add one above').toEqual([]);
  });

  it('each operation answers its happy status to its role, 401 without a key and 403 below its role', async () => {
    // the training-run case starts a second run: let the first finish (it did, above) and wait for this one at the end
    for (const op of operations()) {
      const c = await cases[`${op.method} ${op.path}`]!();
      expect(ROLE_RANK[c.role]).toBe(ROLE_RANK[op.role]);
      const res = await call(c.role, op.method.toUpperCase(), op.path, c.url, c.body);
      expect(res.status, `${op.method} ${op.path}: ${res.text}`).toBe(c.status);
      expect((await call(null, op.method.toUpperCase(), op.path, c.url, c.body)).status).toBe(401);
      if (op.role !== 'viewer') expect((await call('viewer', op.method.toUpperCase(), op.path, c.url, c.body)).status).toBe(403);
    }
    const [running] = await database.query<{ id: string }>(sql`select id from training_runs where trigger = 'api' order by started_at desc, id desc limit 1`);
    await vi.waitFor(async () => expect((await call('viewer', 'GET', '/v1/training-runs/{id}', `/v1/training-runs/${running!.id}`)).body.status).not.toBe('running'), { timeout: 120_000, interval: 250 });
  }, 150_000);

  it('every answer seen in this file has a status the document declares and a body its schema accepts, with no stack trace or secret', () => {
    expect(seen.length).toBeGreaterThan(60);
    const secrets = Object.values(keys).map((k) => k.split('_').slice(3).join('_'));
    const problems: string[] = [];
    for (const s of seen) {
      const declared = doc.paths[s.path]?.[s.method]?.responses ?? {};
      if (!declared[String(s.status)]) {
        problems.push(`${s.method} ${s.path} answered ${s.status}, which the document does not declare`);
        continue;
      }
      const validate = responseValidator(s.method, s.path, s.status);
      if (validate && !validate(s.body)) problems.push(`${s.method} ${s.path} ${s.status}: ${ajv.errorsText(validate.errors, { separator: '; ' })}`);
      const text = JSON.stringify(s.body);
      if (/\n\s+at |\bat .+\.ts:\d+/.test(text)) problems.push(`${s.method} ${s.path} ${s.status}: a stack trace`);
      for (const secret of secrets) if (text.includes(secret)) problems.push(`${s.method} ${s.path} ${s.status}: an API key secret`);
    }
    expect(problems).toEqual([]);
    // the check can fail: a body the schema does not accept is caught
    const validate = responseValidator('get', '/v1/interventions/{id}', 200)!;
    expect(validate({ id: 'int_1' })).toBe(false);
  });
});
