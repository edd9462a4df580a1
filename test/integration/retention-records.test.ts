import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { DAY } from '../../src/lib/clock.js';
import { ChurnError } from '../../src/lib/errors.js';
import { createPolicy, listPolicies, policyVersion, policyVersions, updatePolicy } from '../../src/services/policies/store.js';
import { budgetMonthOf } from '../../src/services/retention/budget.js';
import { decide, type PolicyForDecision } from '../../src/services/retention/decide.js';
import { loadPriorOffers } from '../../src/services/retention/candidates.js';
import { decideOutcome } from '../../src/services/retention/outcomes.js';
import { recordDecisions, type PolicyRef } from '../../src/services/retention/record-decisions.js';
import type { DecisionCandidate } from '../../src/services/retention/types.js';
import { createTestDatabase, describeEachDb } from '../helpers/db.js';

const T = 1_790_000_000;

const basePolicy = {
  name: 'Save at-risk customers',
  mode: 'live',
  targeting: { kind: 'threshold', minProbability: 0.2 },
  action: { kind: 'coupon', percentOff: 20, duration: 'repeating', durationInMonths: 3 },
  budget: { monthlyAmount: 30_000, currency: 'usd' },
  holdoutPercent: 0,
};

function candidate(i: number): DecisionCandidate {
  return {
    account: 'platform',
    customerId: `cus_r${i}`,
    subscriptionId: `sub_r${i}`,
    subscriptionStatus: 'active',
    probability: 0.5,
    band: 'critical',
    modelVersion: 'v1',
    mrr: 10_000,
    currency: 'usd',
    intervalMonths: 1,
    productIds: [],
    priceIds: [],
    tenureDays: 100,
    cancelAtPeriodEnd: false,
    discounted: false,
    involuntaryRisk: false,
  };
}

describeEachDb('retention records', (kind) => {
  let database: Database;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await database.close();
  });
  beforeEach(async () => {
    await database.query(sql`truncate policies, interventions, policy_budgets, audit_log, decision_runs`);
  });

  it('versions a policy on every change, keeps old versions readable, and audits each change in the same transaction', async () => {
    const created = await createPolicy(database, basePolicy, 'alice');
    const updated = await updatePolicy(database, created.id, { targeting: { minProbability: 0.35 } }, 'bob');
    expect(updated.version).toBe(2);
    expect(updated.definition.targeting).toEqual({ kind: 'threshold', minProbability: 0.35 });
    expect((await policyVersion(database.db, created.id, 1))!.definition.targeting).toEqual({ kind: 'threshold', minProbability: 0.2 });
    expect((await policyVersions(database.db, created.id)).map((p) => p.version)).toEqual([2, 1]);
    expect((await listPolicies(database)).map((p) => p.version)).toEqual([2]);
    const audit = await database.query<{ actor: string; action: string; before: { version: number } | null; after: { version: number } }>(
      sql`select actor, action, before, after from audit_log order by at, action`,
    );
    expect(audit.map((a) => [a.actor, a.action, a.before?.version ?? null, a.after.version])).toEqual([
      ['alice', 'policy.create', null, 1],
      ['bob', 'policy.update', 1, 2],
    ]);
  });

  it('refuses an invalid change naming the field, and stores nothing', async () => {
    const created = await createPolicy(database, basePolicy, 'alice');
    const err = await updatePolicy(database, created.id, { holdoutPercent: 150 }, 'bob').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChurnError);
    expect((err as ChurnError).message).toMatch(/holdoutPercent/);
    await expect(createPolicy(database, { ...basePolicy, action: { kind: 'pause' } }, 'x')).rejects.toThrow(/action\.days/);
    expect((await policyVersions(database.db, created.id)).length).toBe(1);
    expect((await database.query<{ n: number }>(sql`select count(*)::int as n from audit_log`))[0]!.n).toBe(1);
  });

  it('concurrent deciders racing for the last of a budget never exceed it', async () => {
    const stored = await createPolicy(database, basePolicy, 'test');
    const policy: PolicyRef = { id: stored.id, version: 1, definition: stored.definition };
    // Each decider saw the whole budget left (stale snapshots): 10 candidates x 6,000 = 60,000 > 30,000.
    const deciders = Array.from({ length: 4 }, (_, k) => {
      const candidates = Array.from({ length: 10 }, (_, i) => candidate(k * 10 + i));
      const decided = decide({ asOf: T, policies: [policy as PolicyForDecision], candidates, history: new Map(), budgetLeft: new Map([[policy.id, 30_000]]) });
      return recordDecisions(database, { asOf: T, decisions: decided.decisions, policies: new Map([[policy.id, policy]]) });
    });
    const results = await Promise.all(deciders);
    const [budget] = await database.query<{ reserved: string | number; limit_amount: string | number }>(sql`select reserved, limit_amount from policy_budgets where policy_id = ${policy.id} and month = ${budgetMonthOf(T)}`);
    expect(Number(budget!.reserved)).toBeLessThanOrEqual(30_000);
    const [{ n, cost }] = await database.query<{ n: number; cost: string | number }>(sql`select count(*)::int as n, coalesce(sum(expected_cost), 0) as cost from interventions where arm = 'treatment'`);
    expect(n).toBe(5);
    expect(Number(cost)).toBe(Number(budget!.reserved));
    // each decider passed on the 5 its stale snapshot could afford: 20 tried, 5 reserved, 15 refused at write time
    expect(results.reduce((s, r) => s + r.skipped.budget, 0)).toBe(15);
  });

  it('never offers a customer twice inside the cooldown, even from stale snapshots or two policies at once', async () => {
    const a = await createPolicy(database, { ...basePolicy, name: 'A', budget: { monthlyAmount: 1_000_000, currency: 'usd' } }, 'test');
    const b = await createPolicy(database, { ...basePolicy, name: 'B', action: { kind: 'pause', days: 30 }, budget: { monthlyAmount: 1_000_000, currency: 'usd' } }, 'test');
    const refs = new Map<string, PolicyRef>([a, b].map((p) => [p.id, { id: p.id, version: 1, definition: p.definition }]));
    const one = [candidate(1)];
    const decideWith = (id: string, at: number) =>
      decide({ asOf: at, policies: [refs.get(id)! as PolicyForDecision], candidates: one, history: new Map(), budgetLeft: new Map() }).decisions;
    // Two policies, two decision times a day apart, all from snapshots that knew of no earlier offer.
    const results = await Promise.all([
      recordDecisions(database, { asOf: T, decisions: decideWith(a.id, T), policies: refs }),
      recordDecisions(database, { asOf: T + DAY, decisions: decideWith(b.id, T + DAY), policies: refs }),
      recordDecisions(database, { asOf: T + 2 * DAY, decisions: decideWith(a.id, T + 2 * DAY), policies: refs }),
    ]);
    const rows = await database.query<{ n: number }>(sql`select count(*)::int as n from interventions where arm = 'treatment'`);
    expect(rows[0]!.n).toBe(1);
    expect(results.reduce((s, r) => s + r.skipped.cooldown, 0)).toBe(2);
    // And the next decision sees the stored offer before it even gets to the database.
    const prior = await loadPriorOffers(database, T + 3 * DAY);
    const again = decide({ asOf: T + 3 * DAY, policies: [refs.get(a.id)! as PolicyForDecision], candidates: one, history: prior, budgetLeft: new Map() });
    expect(again.decisions[0]!.reasons.map((r) => r.code)).toContain('cooldown');
  });

  it('re-running the same decision changes nothing; a live run replaces an earlier dry run', async () => {
    const stored = await createPolicy(database, { ...basePolicy, holdoutPercent: 50 }, 'test');
    const policy: PolicyRef = { id: stored.id, version: 1, definition: stored.definition };
    const candidates = Array.from({ length: 4 }, (_, i) => candidate(i));
    const decisions = decide({ asOf: T, policies: [policy as PolicyForDecision], candidates, history: new Map(), budgetLeft: new Map() }).decisions;
    const dry = await recordDecisions(database, { asOf: T, decisions, policies: new Map([[policy.id, policy]]), dryRun: true });
    expect(dry.recorded.every((r) => r.status === 'dry_run')).toBe(true);
    expect((await database.query(sql`select * from policy_budgets where reserved > 0`)).length).toBe(0);
    const first = await recordDecisions(database, { asOf: T, decisions, policies: new Map([[policy.id, policy]]) });
    const second = await recordDecisions(database, { asOf: T, decisions, policies: new Map([[policy.id, policy]]) });
    expect(first.recorded).toHaveLength(4);
    expect(second.recorded).toHaveLength(0);
    expect(second.existing).toBe(4);
    const statuses = await database.query<{ status: string; n: number }>(sql`select status, count(*)::int as n from interventions group by status order by status`);
    const treated = first.recorded.filter((r) => r.arm === 'treatment').length;
    expect(statuses.reduce((s, r) => s + r.n, 0)).toBe(4);
    // the holdout hashes a random policy id: one run in sixteen holds all four out and reserves nothing
    const [budget] = await database.query<{ reserved: string | number }>(sql`select coalesce(sum(reserved), 0) as reserved from policy_budgets`);
    expect(Number(budget!.reserved)).toBe(treated * 6_000);
  });
});

it('decideOutcome: unsettled before the horizon, churn only inside the window, churn type from the reason', () => {
  const input = { decidedAt: T, horizonDays: 30 };
  expect(decideOutcome(input, null, T + 29 * DAY)).toEqual({ settled: false });
  expect(decideOutcome(input, { kept: true, lastGone: null, reason: null, dunningFailures: 0 }, T + 30 * DAY)).toEqual({ settled: true, outcome: 'stayed' });
  expect(decideOutcome(input, { kept: false, lastGone: T + 5 * DAY, reason: 'cancellation_requested', dunningFailures: 0 }, T + 31 * DAY)).toEqual({
    settled: true,
    outcome: 'churned',
    churnType: 'voluntary',
    churnedAt: T + 5 * DAY,
  });
  expect(decideOutcome(input, { kept: false, lastGone: T + 20 * DAY, reason: 'payment_failed', dunningFailures: 4 }, T + 40 * DAY)).toMatchObject({ churnType: 'involuntary' });
  // gone after the horizon: stayed within it
  expect(decideOutcome(input, { kept: false, lastGone: T + 31 * DAY, reason: 'cancellation_requested', dunningFailures: 0 }, T + 40 * DAY)).toEqual({ settled: true, outcome: 'stayed' });
  // already cancelling at the decision and still not kept: the offer did not win them back
  expect(decideOutcome(input, { kept: false, lastGone: T - 3 * DAY, reason: 'cancellation_requested', dunningFailures: 0 }, T + 30 * DAY, true)).toMatchObject({ outcome: 'churned' });
});
