import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import type { Database } from '../../src/db/client.js';
import { createApiKey } from '../../src/services/auth/index.js';
import { CustomerPageSchema } from '../../src/routes/customers.js';
import { PolicySchema } from '../../src/routes/policies.js';
import { createTestDatabase, describeEachDb } from '../helpers/db.js';
import { testApp } from '../helpers/app.js';

const NOW = 1_760_000_000;

describeEachDb('/v1 resources', (kind) => {
  let database: Database;
  let app: ReturnType<typeof testApp>['app'];
  let viewer: string;
  let editor: string;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
    await database.query(sql.raw('truncate scores, customers, subscriptions, interventions, policies, audit_log, api_keys, model_versions'));
    ({ app } = testApp(database, { now: () => NOW }));
    viewer = (await createApiKey(database, { role: 'viewer', actor: 'test', now: new Date(NOW * 1000) })).key;
    const e = await createApiKey(database, { role: 'editor', actor: 'test', now: new Date(NOW * 1000) });
    editor = e.key;
    // 130 scored customers in one snapshot (two with equal probability, to test the tie order) and an older snapshot
    await database.query(sql.raw(`insert into scores (account, customer_id, as_of, model_name, model_version, probability, band, drivers)
      select 'acct_1', 'cus_' || lpad(g::text, 4, '0'), ${NOW}, 'churn', 'v1', case when g <= 2 then 0.5 else (g % 97) / 100.0 end,
        case when g % 4 = 0 then 'high' else 'low' end, '[{"feature":"f","value":1,"contribution":0.1,"sentence":"MRR down 20% in 90 days"}]'::jsonb
      from generate_series(1, 130) g`));
    await database.query(sql.raw(`insert into scores (account, customer_id, as_of, model_name, model_version, probability, band) values ('acct_1', 'cus_0001', ${NOW - 86400}, 'churn', 'v1', 0.9, 'critical')`));
    await database.query(sql.raw(`insert into customers (account, id, email, src_created, src_rank, src_event_id) values ('acct_1', 'cus_0001', 'a@example.com', 1, 0, 'evt_1')`));
  });
  afterAll(async () => database?.close());
  const get = (url: string, key = viewer) => app.request(url, { headers: { authorization: `Bearer ${key}` } });

  it('pages through every customer of the latest snapshot once, riskiest first, with a band filter', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let probs: number[] = [];
    do {
      const res = await get(`/v1/customers?limit=50${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      const page = CustomerPageSchema.parse(await res.json());
      seen.push(...page.items.map((i) => i.customerId));
      probs.push(...page.items.map((i) => i.probability));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(130);
    expect(new Set(seen).size).toBe(130);
    expect([...probs].sort((a, b) => b - a)).toEqual(probs);
    const high = CustomerPageSchema.parse(await (await get('/v1/customers?band=high&limit=200')).json());
    expect(high.items.length).toBe(32);
    expect(high.items.every((i) => i.band === 'high')).toBe(true);
    const detail = (await (await get('/v1/customers/acct_1/cus_0001')).json()) as any;
    expect(detail.email).toBe('a@example.com');
    expect(detail.latestScore.drivers).toEqual(['MRR down 20% in 90 days']);
    expect(detail.scoreHistory).toHaveLength(2);
    expect((await get('/v1/customers/acct_1/cus_nope')).status).toBe(404);
    expect((await get('/v1/customers?cursor=garbage')).status).toBe(422);
  });

  it('creates and versions a policy, writing the audit log with the key id as actor', async () => {
    const definition = {
      name: 'API test', mode: 'dry_run', priority: 1, segment: {}, targeting: { kind: 'threshold', minProbability: 0.4 },
      action: { kind: 'notify', url: 'https://hooks.example.com/churn' }, budget: { monthlyAmount: 1000, currency: 'usd' }, holdoutPercent: 20,
    };
    const created = await app.request('/v1/policies', { method: 'POST', headers: { authorization: `Bearer ${editor}`, 'content-type': 'application/json' }, body: JSON.stringify(definition) });
    const text = await created.text();
    expect(created.status, text).toBe(201);
    const policy = PolicySchema.parse(JSON.parse(text));
    const updated = await app.request(`/v1/policies/${policy.id}`, { method: 'PATCH', headers: { authorization: `Bearer ${editor}`, 'content-type': 'application/json' }, body: JSON.stringify({ priority: 2 }) });
    expect(updated.status).toBe(200);
    const full = (await (await get(`/v1/policies/${policy.id}`)).json()) as any;
    expect(full.version).toBe(2);
    expect(full.versions.map((v: any) => v.version)).toEqual([2, 1]);
    const keyId = (await database.query<{ id: string }>(sql`select id from api_keys where role = 'editor'`))[0]!.id;
    const audit = await database.query<{ actor: string; action: string }>(sql`select actor, action from audit_log where entity_type = 'policy' order by at`);
    expect(audit).toEqual([{ actor: keyId, action: 'policy.create' }, { actor: keyId, action: 'policy.update' }]);
  });
});
