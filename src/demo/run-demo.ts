import { rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type Stripe from 'stripe';
import { openDatabase, type Database } from '../db/client.js';
import { parseEnv } from '../env.js';
import { isoDay } from '../lib/clock.js';
import { initBackend } from '../ml/backend.js';
import { featureSet } from '../ml/features.js';
import { ModelRegistry } from '../ml/registry.js';
import type { RiskBand } from '../ml/types.js';
import { startServer } from '../server.js';
import { createStripeSandbox, storeActionLookup, storeEventSink } from '../simulator/sandbox/index.js';
import { World, createJsonlEventSink, createWebhookSink, type EventSink, type TruthRecord } from '../simulator/world/index.js';
import { createStripeClient } from '../stripe/client.js';
import { ingestEvents } from '../services/events/ingest.js';
import { readEventLines } from '../services/events/read-jsonl.js';
import { reconcileStripeEvents } from '../services/sync/reconcile.js';
import { scoreAllCustomers, type ScoredCustomer } from '../services/scoring/score-all-customers.js';
import { rankAtRisk } from '../services/scoring/at-risk.js';
import { formatAtRiskTable } from '../cli/at-risk-table.js';
import { trainChurnModel } from '../services/training/train-model.js';
import { writeTrainingReport } from '../services/training/write-report.js';
import { formatMoney } from '../lib/money.js';
import { createPolicy } from '../services/policies/store.js';
import { upliftReportFromStore } from '../services/retention/uplift-report.js';
import { createUpliftEstimator } from '../services/retention/uplift-targeting.js';
import { renderUpliftReportText } from '../services/uplift/report.js';
import { describeAction } from '../cli/policies.js';
import { actAtMonthEnd, compareTargeting, liveOneMonth, settleDue, type LoopContext, type TruthAtDecision } from './retention-loop.js';

export interface DemoOptions {
  customers: number;
  months: number;
  seed: number;
  /** where the demo's embedded database, files and models go (wiped first) */
  dir: string;
  /** one in this many live-month webhooks is "lost" so reconcile has something to recover */
  loseEvery: number;
  /** months of retention after the model is trained: decide, apply, live the month, settle */
  retentionMonths: number;
  /** run on this database instead of an embedded one in `dir` (evaluation scripts on PostgreSQL) */
  openDatabase?: () => Promise<Database>;
  out?: (line: string) => void;
}

const WEBHOOK_SECRET = 'whsec_churn_demo_endpoint_secret';

function tee(...sinks: EventSink[]): EventSink {
  return {
    async write(event) {
      for (const s of sinks) {
        const r = s.write(event);
        if (r) await r;
      }
    },
  };
}

const pct = (p: number) => `${(p * 100).toFixed(1)}%`.padStart(6);
const fmt = (n: number) => n.toLocaleString('en-US');

/** Spearman rank correlation (ties get their mean rank). */
export function spearman(a: number[], b: number[]): number {
  const ranks = (xs: number[]) => {
    const idx = xs.map((x, i) => [x, i] as const).sort((p, q) => p[0] - q[0]);
    const r = new Array<number>(xs.length);
    for (let i = 0; i < idx.length; ) {
      let j = i;
      while (j + 1 < idx.length && idx[j + 1]![0] === idx[i]![0]) j++;
      for (let k = i; k <= j; k++) r[idx[k]![1]] = (i + j) / 2;
      i = j + 1;
    }
    return r;
  };
  const ra = ranks(a);
  const rb = ranks(b);
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const ma = mean(ra);
  const mb = mean(rb);
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < ra.length; i++) {
    num += (ra[i]! - ma) * (rb[i]! - mb);
    da += (ra[i]! - ma) ** 2;
    db += (rb[i]! - mb) ** 2;
  }
  return da && db ? num / Math.sqrt(da * db) : 0;
}

/**
 * The whole product on one machine: a simulated Stripe account behind a Stripe-compatible
 * local API, its history ingested from a JSONL export, its last month delivered live as signed
 * webhooks (some lost on purpose and recovered by reconcile through the real SDK), a model
 * trained and judged against its baseline, every live customer scored with reasons.
 */
export interface DemoResult {
  scored: ScoredCustomer[];
  promoted: boolean;
  recovered: number;
  lost: number;
  /** the uplift proof, when retention months ran */
  retention: DemoRetention | null;
}

export interface DemoRetention {
  treated: number;
  held: number;
  applied: number;
  /** the report's effect and interval (null when a side had no settled outcome) */
  effect: number | null;
  interval: [number, number] | null;
  /** the simulator's true effect for the same customers */
  trueEffect: number;
  covered: boolean | null;
  targeting: Awaited<ReturnType<typeof compareTargeting>>;
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const say = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const started = performance.now();
  const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)}s`;
  rmSync(options.dir, { recursive: true, force: true });
  mkdirSync(options.dir, { recursive: true });
  const modelDir = join(options.dir, 'models');
  const historyFile = join(options.dir, 'history.jsonl');

  say(`churn demo: a simulated Stripe account end to end (${options.openDatabase ? 'PostgreSQL' : `embedded database in ${options.dir}`})`);
  const database: Database = options.openDatabase ? await options.openDatabase() : await openDatabase({ dataDir: options.dir });
  const sandbox = createStripeSandbox({});
  const stripeApi = await sandbox.listen(0);
  const env = parseEnv({ STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, STRIPE_API_BASE: stripeApi.url, STRIPE_SECRET_KEY: sandbox.apiKey, MODEL_DIR: modelDir });
  let server: Awaited<ReturnType<typeof startServer>> | null = null;
  try {
    // 1. History: every month but the last, into the local Stripe API and a JSONL export.
    const world = new World({ customers: options.customers, months: options.months, seed: options.seed });
    sandbox.store.setNow(world.now());
    const actions = storeActionLookup(sandbox.store);
    const file = createJsonlEventSink(historyFile);
    const history = tee(storeEventSink(sandbox.store), file);
    say(`\n1. Simulating a subscription business: ${fmt(options.customers)} customers over ${options.months} months (seed ${options.seed})`);
    for (let m = 0; m < options.months - 1; m++) await world.advanceMonth(history, actions);
    await file.close();
    say(`   ${fmt(file.events)} Stripe events for ${isoDay(world.monthStart(0))} … ${isoDay(world.now())}, served by a Stripe-compatible API at ${stripeApi.url}`);

    // 2. Ingest the export, as `churn ingest history.jsonl` does.
    say(`\n2. Ingesting the history (churn ingest)`);
    async function* lines() {
      for await (const r of readEventLines(historyFile)) if (r.event) yield r.event;
    }
    const ingested = await ingestEvents(database, lines(), { source: 'ingest', batchSize: 2000 });
    say(`   ${fmt(ingested.stored)} events stored exactly once and projected into customers, subscriptions, invoices (${elapsed()})`);

    // 3. The last month live: signed webhooks to `churn serve`, a few lost, reconcile recovers them.
    server = await startServer(database, env, { port: 0, host: '127.0.0.1', relay: false });
    const webhook = createWebhookSink({ url: `${server.url}/webhooks/stripe`, secret: WEBHOOK_SECRET, concurrency: 4 });
    let seen = 0;
    let lost = 0;
    const lossy: EventSink = {
      write(event) {
        seen += 1;
        if (seen % options.loseEvery === 0) {
          lost += 1;
          return;
        }
        return webhook.write(event);
      },
    };
    say(`\n3. Month ${options.months} live: the account's events arrive as signed webhooks at ${server.url}/webhooks/stripe`);
    await world.advanceMonth(tee(storeEventSink(sandbox.store), lossy), actions);
    await webhook.close();
    await server.projector.drain();
    if (webhook.failures.length) say(`   ${webhook.failures.length} deliveries failed: ${webhook.failures[0]!.error}`);
    say(`   ${fmt(webhook.delivered)} delivered (stored before each 200, projected in the background); ${lost} lost on purpose`);
    const stripe: Stripe = createStripeClient({ secretKey: sandbox.apiKey, apiBase: stripeApi.url });
    // Deployed, reconcile runs every 30 minutes with a one-hour overlap; the demo's month passes in
    // seconds, so it looks back over the whole month once.
    const rec = await reconcileStripeEvents({ database, stripe, now: world.now(), overlapSeconds: 32 * 86_400 });
    say(`   churn reconcile (GET /v1/events with the stripe SDK): ${rec.stored} missed event(s) recovered, ${fmt(rec.duplicates)} already stored`);

    // 4. Train and judge.
    const backend = await initBackend(env.TFJS_BACKEND);
    say(`\n4. Training on monthly point-in-time snapshots (TF.js backend: ${backend})`);
    const trained = await trainChurnModel(database, {
      modelDir,
      trigger: 'demo',
      seed: options.seed,
      now: new Date(world.now() * 1000),
      writeReport: (r) => writeTrainingReport(r),
    });
    const m = trained.metrics.overall;
    const b = trained.baselineMetrics.overall;
    say(`   ${fmt(trained.data.rows.train)} training rows from ${trained.data.from} … ${trained.data.to}; held out ${trained.data.testMonths.join(', ')}`);
    say(`   ROC-AUC ${m.rocAuc.toFixed(3)} vs logistic baseline ${b.rocAuc.toFixed(3)}; PR-AUC ${m.prAuc.toFixed(3)}; calibration error ${m.ece.toFixed(3)}`);
    say(`   ${trained.promotedVersion ? `champion is now ${trained.promotedVersion}` : `${trained.version} kept as candidate`}: ${trained.decision.reason}`);

    // 5. Score everyone live today with the champion, with reasons.
    const registry = new ModelRegistry({ db: database.db, modelDir, featureSet: featureSet() });
    const model = await registry.refresh();
    if (!model) throw new Error('no champion model to score with');
    const scored = await scoreAllCustomers(database, { asOf: world.now(), model });
    const bands: Record<RiskBand, number> = { critical: 0, high: 0, medium: 0, low: 0 };
    for (const c of scored.customers) bands[c.band] += 1;
    say(`\n5. Scored ${fmt(scored.customers.length)} customers with a live subscription on ${isoDay(world.now())} (model ${scored.modelVersion})`);
    say(`   risk bands: ${(Object.keys(bands) as RiskBand[]).map((k) => `${k} ${bands[k]}`).join(' · ')}`);
    const truth = new Map<string, TruthRecord>();
    for (const t of world.truthAt()) truth.set(`${t.account ?? 'platform'} ${t.customer}`, t);
    const pairs = scored.customers.map((c) => [c.probability, truth.get(`${c.account} ${c.customerId}`)?.p30] as const).filter((p): p is readonly [number, number] => p[1] !== undefined);
    if (pairs.length > 10) {
      const rho = spearman(pairs.map((p) => p[0]), pairs.map((p) => p[1]));
      const meanScore = pairs.reduce((s, p) => s + p[0], 0) / pairs.length;
      const meanTrue = pairs.reduce((s, p) => s + p[1], 0) / pairs.length;
      say(`   against the simulator's hidden truth: rank agreement (Spearman) ${rho.toFixed(2)}; mean predicted ${pct(meanScore).trim()} vs true ${pct(meanTrue).trim()} 30-day churn`);
    }
    say(`\n   Most at risk, and why (as \`churn score\` prints them):`);
    for (const line of formatAtRiskTable(await rankAtRisk(database, scored), 10)) say(`   ${line}`);
    // 6. Retention: a policy, decided and applied at each month end, the world reacting a month later.
    let retention: DemoRetention | null = null;
    if (options.retentionMonths > 0) retention = await runRetention({ database, world, sandbox, stripe, model, say, months: options.retentionMonths, customers: options.customers });

    say(`\n${options.retentionMonths > 0 ? 10 : 6}. Evaluation report: ${trained.reportPath ?? '(not written)'}`);
    say(`   Serve this data: DATA_DIR=${options.dir} MODEL_DIR=${modelDir} STRIPE_WEBHOOK_SECRET=whsec_… npm run serve`);
    say(`   Dashboard: first DATA_DIR=${options.dir} npx churn keys create --role admin, then serve as above and open http://localhost:3000/ with that key`);
    say(`   Done in ${elapsed()}.`);
    return { scored: scored.customers, promoted: trained.promoted, recovered: rec.stored, lost, retention };
  } finally {
    await server?.close();
    await stripeApi.close();
    await database.close();
  }
}

/** The demo's retention policy: a cheap offer, targeted by uplift once outcomes allow, with a holdout. */
export function demoPolicy(customers: number) {
  return {
    name: 'Win back at-risk customers',
    description: '$10 off the next invoice for customers an offer is expected to keep; risk-targeted until enough outcomes are settled',
    mode: 'live' as const,
    priority: 200,
    targeting: { kind: 'uplift' as const, fallbackMinProbability: 0.03, minOutcomesPerArm: 60 },
    action: { kind: 'coupon' as const, amountOff: 1_000, currency: 'usd', duration: 'once' as const },
    eligibility: { cooldownDays: 60, maxOffersPerYear: 3, skipIfDiscounted: true, includeCancelling: false },
    // about 3 dollars of budget per customer a month: up to three in ten customers can get an offer
    budget: { monthlyAmount: Math.max(60_000, Math.round(customers * 300)), currency: 'usd' },
    holdoutPercent: 40,
    horizonDays: 30,
    monthsKept: 12,
  };
}

async function runRetention(
  ctx: LoopContext & { say: (line: string) => void; months: number; customers: number; world: World },
): Promise<DemoRetention> {
  const { say, database } = ctx;
  const policy = await createPolicy(database, demoPolicy(ctx.customers), 'demo');
  const d = policy.definition;
  say(`\n6. Retention policy (churn policies create): "${d.name}", ${describeAction(d)}, ${d.holdoutPercent}% holdout, budget ${formatMoney(d.budget.monthlyAmount, d.budget.currency)} a month,`);
  say(`   uplift targeting (risk >= ${(d.targeting.kind === 'uplift' ? d.targeting.fallbackMinProbability * 100 : 0).toFixed(0)}% until ${d.targeting.kind === 'uplift' ? d.targeting.minOutcomesPerArm : 0} settled outcomes per arm), live against the local Stripe API`);
  const learned: string[] = [];
  const loop: LoopContext = { ...ctx, estimateEffects: createUpliftEstimator({ onLearned: (l) => learned.push(`effect model from ${l.treated} treated and ${l.holdout} held-out outcomes`) }) };
  const truth: TruthAtDecision[] = [];
  let treated = 0;
  let held = 0;
  let applied = 0;
  say(`\n7. ${ctx.months} month(s) of retention: at each month end score, decide (churn act), apply through the stripe SDK; the world reacts; outcomes settle (churn outcomes)`);
  for (let m = 0; m < ctx.months; m++) {
    learned.length = 0;
    const { round, truth: t } = await actAtMonthEnd(loop);
    truth.push(...t);
    treated += round.treated;
    held += round.held;
    applied += round.applied;
    await liveOneMonth(loop);
    const settled = await settleDue(loop);
    say(`   ${isoDay(round.asOf)}: ${round.treated} treated, ${round.held} held out; ${round.applied} coupons applied${round.failed ? `, ${round.failed} failed` : ''}${learned.length ? ` (${learned[0]})` : ' (risk targeting)'}; a month later ${settled} outcome(s) settled${settled === 0 ? ' (the 30-day horizon reaches past this shorter month)' : ''}`);
  }
  // one more month so the last decisions' horizons pass
  await liveOneMonth(loop);
  const last = await settleDue(loop);
  say(`   ${isoDay(ctx.world.now())}: ${last} more outcome(s) settled`);

  // 8. The proof: treated vs holdout, beside the simulator's truth for the same customers.
  const report = await upliftReportFromStore(database, { policyId: policy.id });
  say(`\n8. Uplift report (churn report uplift)`);
  for (const line of renderUpliftReportText(report).split('\n')) say(`   ${line}`);
  const trueEffect = truth.length ? truth.reduce((s, x) => s + x.trueEffect, 0) / truth.length : 0;
  const overall = report.overall;
  const effect = overall.effect?.estimate ?? null;
  const interval: [number, number] | null = overall.effect ? [overall.effect.lower, overall.effect.upper] : null;
  const covered = interval ? interval[0] <= trueEffect && trueEffect <= interval[1] : null;
  say(`   Simulator's true effect for the same ${truth.length} customers (mean of p30 without minus with the coupon): ${(trueEffect * 100).toFixed(1)} points;` +
    ` measured ${effect === null ? 'n/a' : `${(effect * 100).toFixed(1)} points [${(interval![0] * 100).toFixed(1)}, ${(interval![1] * 100).toFixed(1)}]`}${covered === null ? '' : covered ? ': inside the interval' : ': OUTSIDE the interval'}`);

  // 9. Risk versus uplift targeting at the same budget, judged on the counterfactuals.
  const targeting = await compareTargeting(loop, policy, d.budget.monthlyAmount);
  say(`\n9. Targeting at the same budget (${formatMoney(targeting.budget, targeting.currency)}) on ${isoDay(ctx.world.now())}, valued on the simulator's true counterfactuals (${d.monthsKept} months kept):`);
  say(`   by risk:   ${targeting.risk.chosen} customers, cost ${formatMoney(targeting.risk.cost, targeting.currency)}, true net value ${formatMoney(targeting.risk.trueNetValue, targeting.currency)}`);
  if (targeting.uplift) {
    const diff = targeting.uplift.trueNetValue - targeting.risk.trueNetValue;
    say(`   by uplift: ${targeting.uplift.chosen} customers, cost ${formatMoney(targeting.uplift.cost, targeting.currency)}, true net value ${formatMoney(targeting.uplift.trueNetValue, targeting.currency)} (${formatMoney(Math.abs(diff), targeting.currency)} ${diff >= 0 ? 'more' : 'less'} than by risk)`);
  } else say('   by uplift: not enough settled outcomes to learn an effect model yet');
  return { treated, held, applied, effect, interval, trueEffect, covered, targeting };
}
