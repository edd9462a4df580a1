/**
 * Decision benchmark (`npx tsx bench/decide.ts [--customers 100000] [--rounds 5]`): the pure decision
 * function over N scored customers and four overlapping policies (threshold, top-k %, uplift with
 * effect estimates, a segment-filtered pause), against a floor measured in the same run: the least
 * any decision must do (one pass to filter by probability and a sort by risk). Target: deciding
 * for 100,000 customers in under 5 s on a 2-core machine. Prints one JSON object.
 */
import { parsePolicyDefinition, type PolicyInput } from '../src/services/policies/definition.js';
import { customerKey, decide, type PolicyForDecision, type PriorOffers } from '../src/services/retention/decide.js';
import type { DecisionCandidate } from '../src/services/retention/types.js';
import { DAY } from '../src/lib/clock.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const n = arg('customers', 100_000);
const rounds = arg('rounds', 5);
const asOf = 1_790_000_000;

// A deterministic population: risk skewed low as in real accounts, MRR log-normal-ish.
let state = 12345;
const rand = () => ((state = (state * 1103515245 + 12345) >>> 0) / 2 ** 32);
const bands = (p: number) => (p >= 0.5 ? 'critical' : p >= 0.25 ? 'high' : p >= 0.1 ? 'medium' : 'low') as DecisionCandidate['band'];
const candidates: DecisionCandidate[] = Array.from({ length: n }, (_, i) => {
  const p = rand() ** 3;
  return {
    account: i % 10 === 0 ? 'acct_connected' : 'platform',
    customerId: `cus_${i}`,
    subscriptionId: `sub_${i}`,
    subscriptionStatus: 'active',
    probability: p,
    band: bands(p),
    modelVersion: 'v1',
    mrr: Math.round(1_000 * Math.exp(rand() * 3)),
    currency: i % 7 === 0 ? 'eur' : 'usd',
    intervalMonths: i % 5 === 0 ? 12 : 1,
    productIds: [`prod_${i % 3}`],
    priceIds: [`price_${i % 6}`],
    tenureDays: Math.round(rand() * 900),
    cancelAtPeriodEnd: i % 50 === 0,
    discounted: i % 9 === 0,
    involuntaryRisk: rand() < 0.1,
  };
});
const history = new Map<string, PriorOffers>();
for (let i = 0; i < n; i += 13) history.set(customerKey(candidates[i]!.account, candidates[i]!.customerId), { offeredAt: [asOf - Math.round(rand() * 200) * DAY], decidedByPolicy: new Map() });

const policy = (id: string, input: Partial<PolicyInput>): PolicyForDecision => {
  const parsed = parsePolicyDefinition({
    name: id,
    mode: 'live',
    targeting: { kind: 'threshold', minProbability: 0.2 },
    action: { kind: 'coupon', percentOff: 20, duration: 'once' },
    budget: { monthlyAmount: 50_000_000, currency: 'usd' },
    holdoutPercent: 20,
    ...input,
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return { id, version: 1, definition: parsed.policy };
};
const policies = [
  policy('pol_threshold', { priority: 300 }),
  policy('pol_top', { priority: 200, targeting: { kind: 'top_percent', percent: 10 }, action: { kind: 'trial_extension', days: 14 } }),
  policy('pol_uplift', { priority: 100, targeting: { kind: 'uplift', fallbackMinProbability: 0.1 }, monthsKept: 12 }),
  policy('pol_pause', { priority: 50, segment: { products: ['prod_1'], churnType: 'voluntary', mrrMin: 2_000 }, action: { kind: 'pause', days: 30 } }),
];
const effects = new Map([['pol_uplift', new Map(candidates.map((c) => [customerKey(c.account, c.customerId), (rand() - 0.3) * 0.2]))]]);

const floor = () => {
  const chosen = candidates.filter((c) => c.probability >= 0.2);
  chosen.sort((a, b) => b.probability - a.probability);
  return chosen.length;
};
const run = () => decide({ asOf, policies, candidates, history, budgetLeft: new Map(), effects });

const times = { floor: [] as number[], decide: [] as number[] };
let decided = 0;
floor();
run();
for (let r = 0; r < rounds; r++) {
  let t = performance.now();
  floor();
  times.floor.push(performance.now() - t);
  t = performance.now();
  const result = run();
  times.decide.push(performance.now() - t);
  decided = result.decisions.filter((d) => d.arm).length;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const out = {
  bench: 'decide',
  customers: n,
  policies: policies.length,
  rounds,
  decidedWithArm: decided,
  floorMedianMs: Math.round(median(times.floor)),
  decideMedianMs: Math.round(median(times.decide)),
  decideMaxMs: Math.round(Math.max(...times.decide)),
  decisionsPerSecond: Math.round(n / (median(times.decide) / 1000)),
  ratioToFloor: Number((median(times.decide) / median(times.floor)).toFixed(1)),
  targetMs: 5_000,
  peakRssMb: Math.round(process.memoryUsage().rss / 2 ** 20),
};
process.stderr.write(`decide: ${n} customers x ${policies.length} policies in ${out.decideMedianMs} ms (floor ${out.floorMedianMs} ms); target < 5,000 ms\n`);
process.stdout.write(`${JSON.stringify(out)}\n`);
