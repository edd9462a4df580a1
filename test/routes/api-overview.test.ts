import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import type { Database } from '../../src/db/client.js';
import { AlertSchema } from '../../src/routes/alerts.js';
import { OverviewSchema } from '../../src/routes/overview.js';
import { createApiKey } from '../../src/services/auth/index.js';
import { createPolicy } from '../../src/services/policies/store.js';
import { convertMinor } from '../../src/services/retention/costs.js';
import { createTestDatabase, describeEachDb } from '../helpers/db.js';
import { testApp } from '../helpers/app.js';

// 2025-10-09T08:53:20Z: "this month" is 2025-10
const NOW = 1_760_000_000;
const OCT = 1_759_276_800;
const DAY = 86_400;

describeEachDb('/v1 overview, alerts, policy draft simulate', (kind) => {
  let database: Database;
  let app: ReturnType<typeof testApp>['app'];
  let viewer: string;
  let policyId: string;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
    ({ app } = testApp(database, { now: () => NOW }));
    viewer = (await createApiKey(database, { role: 'viewer', actor: 'test', now: new Date(NOW * 1000) })).key;
    policyId = (await createPolicy(database, {
      name: 'Coupon for the risky', mode: 'live', targeting: { kind: 'threshold', minProbability: 0.3 },
      action: { kind: 'coupon', percentOff: 20, duration: 'once' }, budget: { monthlyAmount: 50_000, currency: 'usd' }, holdoutPercent: 50,
    }, 'test')).id;
    const snap = NOW - DAY;
    await database.query(sql.raw(`insert into scores (account, customer_id, as_of, model_name, model_version, probability, band) values
      ('acct_1', 'cus_a', ${snap}, 'churn', 'v1', 0.8, 'critical'), ('acct_1', 'cus_b', ${snap}, 'churn', 'v1', 0.5, 'high'),
      ('acct_1', 'cus_c', ${snap}, 'churn', 'v1', 0.05, 'low'), ('acct_1', 'cus_d', ${snap}, 'churn', 'v1', 0.02, 'low'),
      ('acct_1', 'cus_a', ${snap - 30 * DAY}, 'churn', 'v1', 0.1, 'low')`));
    await database.query(sql.raw(`insert into subscriptions (account, id, customer_id, status, currency, mrr, src_created, src_rank, src_event_id) values
      ('acct_1', 'sub_a', 'cus_a', 'active', 'usd', 10000, 1, 0, 'evt_1'), ('acct_1', 'sub_b', 'cus_b', 'past_due', 'eur', 5000, 1, 0, 'evt_2'),
      ('acct_1', 'sub_b0', 'cus_b', 'canceled', 'usd', 9999, 1, 0, 'evt_3'), ('acct_1', 'sub_c', 'cus_c', 'trialing', 'usd', 2000, 1, 0, 'evt_4')`));
    await database.query(sql.raw(`insert into policy_budgets (policy_id, month, currency, limit_amount, reserved) values
      ('${policyId}', '2025-10', 'usd', 50000, 12000), ('${policyId}', '2025-09', 'usd', 50000, 999)`));
    // this month: 3 coupons applied and 2 held out; one decision last month; outcomes settled this month:
    // treated 9 stayed / 1 churned, holdout 6 stayed / 4 churned
    const row = (id: string, arm: string, status: string, decidedAt: number, cost: number, outcome: string | null, settledAt: number | null) =>
      `('${id}', 'acct_1', 'cus_${id}', '${policyId}', 1, ${decidedAt}, '${arm}', 'coupon', '${status}', 0.5, 'high', 'usd', ${cost}, '2025-10', ${outcome ? `'${outcome}'` : 'null'}, ${settledAt ?? 'null'})`;
    const rows = [
      ...[1, 2, 3].map((i) => row(`t${i}`, 'treatment', 'applied', OCT + DAY, 1000, null, null)),
      ...[1, 2].map((i) => row(`h${i}`, 'holdout', 'holdout', OCT + DAY, 0, null, null)),
      row('old', 'treatment', 'applied', OCT - 5 * DAY, 1000, null, null),
      ...Array.from({ length: 10 }, (_, i) => row(`st${i}`, 'treatment', 'applied', OCT - 40 * DAY, 500, i === 0 ? 'churned' : 'stayed', OCT + 2 * DAY)),
      ...Array.from({ length: 10 }, (_, i) => row(`sh${i}`, 'holdout', 'holdout', OCT - 40 * DAY, 0, i < 4 ? 'churned' : 'stayed', OCT + 2 * DAY)),
    ];
    await database.query(sql.raw(`insert into interventions (id, account, customer_id, policy_id, policy_version, decided_at, arm, action, status, probability, band, currency, cost, budget_month, outcome, settled_at) values ${rows.join(', ')}`));
    await database.query(sql.raw(`insert into alerts (id, kind, key, severity, message, value, threshold, opened_at, last_seen_at, closed_at) values
      ('alr_open', 'budget_pace', '${policyId}', 'warning', 'spend runs ahead of budget', 0.4, 0.3, ${NOW - 3600}, ${NOW}, null),
      ('alr_closed', 'score_drift', 'v1', 'critical', 'scores drifted', 0.6, 0.2, ${NOW - 10 * DAY}, ${NOW - 9 * DAY}, ${NOW - 9 * DAY})`));
  });
  afterAll(async () => database?.close());
  const get = (url: string) => app.request(url, { headers: { authorization: `Bearer ${viewer}` } });

  it('reports MRR at risk by band from the newest snapshot and this month\'s retention per policy', async () => {
    const res = await get('/v1/reports/overview');
    expect(res.status).toBe(200);
    const o = OverviewSchema.parse(await res.json());
    expect(o.month).toBe('2025-10');
    expect(o.snapshot).toEqual({ modelName: 'churn', modelVersion: 'v1', asOf: NOW - DAY });
    const band = Object.fromEntries(o.risk.bands.map((b) => [b.band, b]));
    expect(band.critical).toEqual({ band: 'critical', customers: 1, mrr: 10000, expectedMrrLoss: 8000 });
    expect(band.high).toEqual({ band: 'high', customers: 1, mrr: convertMinor(5000, 'eur', 'usd'), expectedMrrLoss: convertMinor(2500, 'eur', 'usd') });
    expect(band.low).toEqual({ band: 'low', customers: 2, mrr: 2000, expectedMrrLoss: 100 });
    expect(band.medium!.customers).toBe(0);
    expect(o.risk.customers).toBe(4);
    const applied = o.interventions.find((i) => i.arm === 'treatment' && i.status === 'applied');
    expect(applied).toEqual({ action: 'coupon', arm: 'treatment', status: 'applied', count: 3, cost: 3000 });
    expect(o.interventions.find((i) => i.arm === 'holdout')!.count).toBe(2);
    const [p] = o.policies;
    expect(p).toMatchObject({ policyId, name: 'Coupon for the risky', budgetUsed: 12000, budgetLimit: 50000, budgetCurrency: 'usd', decided: { treated: 3, holdout: 2 } });
    expect(p!.settled).toEqual({ treatment: { stayed: 9, churned: 1 }, holdout: { stayed: 6, churned: 4 } });
    expect(p!.savedCustomers).toBe(3);
    expect(o.openAlerts).toBe(1);
    expect((await get('/v1/reports/overview?currency=USD')).status).toBe(422);
  });

  it('lists open alerts by default and every alert with status=all', async () => {
    const open = (await (await get('/v1/alerts')).json()) as any;
    expect(open.items.map((a: any) => AlertSchema.parse(a).id)).toEqual(['alr_open']);
    const all = (await (await get('/v1/alerts?status=all')).json()) as any;
    expect(all.items.map((a: any) => a.id)).toEqual(['alr_open', 'alr_closed']);
    expect(all.items[1].closedAt).toBe(NOW - 9 * DAY);
    const bad = await get('/v1/alerts?status=closed');
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as any).error.details[0].path).toEqual(['query', 'status']);
  });

  it('validates a simulate draft like an update, stores nothing, and needs a champion to run it', async () => {
    const post = (id: string, body: unknown) =>
      app.request(`/v1/policies/${id}/simulate`, { method: 'POST', headers: { authorization: `Bearer ${viewer}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const bad = await post(policyId, { draft: { targeting: { minProbability: 1.5 } } });
    expect(bad.status).toBe(422);
    expect(JSON.stringify(await bad.json())).toContain('targeting.minProbability');
    expect((await post(policyId, { draft: 'lower' })).status).toBe(422);
    expect((await post('pol_nope', { draft: { holdoutPercent: 10 } })).status).toBe(404);
    const noModel = await post(policyId, { draft: { targeting: { minProbability: 0.2 } } });
    expect(noModel.status).toBe(409);
    const versions = await database.query<{ n: number }>(sql`select count(*)::int as n from policies where id = ${policyId}`);
    expect(versions[0]!.n).toBe(1);
  });
});
