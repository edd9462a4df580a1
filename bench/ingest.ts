/**
 * Verified-webhook ingestion on real PostgreSQL, against a floor measured in the same run.
 *
 *   npm run bench -- ingest [--clients 16] [--seconds 8] [--rounds 3] [--database-url postgres://…]
 *
 * floor:  a bare Hono handler that verifies the signature and inserts one row.
 * churn:  the product's app (signature, validation, event + outbox in one transaction, the
 *         background projector running alongside).
 * Both run in this process with the same HTTP server, the same load generator (keep-alive
 * clients) and the same kind of pre-signed deliveries of a realistic subscription event, in
 * alternating rounds; the report gives each round and the median ratios. Each round also sends
 * both servers forged deliveries (wrong secret, answered 400): `forged` compares the refusal path,
 * where the product also counts every refusal for the rejection-spike alert, and checks that each
 * one reached webhook_rejections.
 */
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import postgres from 'postgres';
import Stripe from 'stripe';
import { openDatabase } from '../src/db/client.js';
import { parseEnv } from '../src/env.js';
import { startServer } from '../src/server.js';
import { signStripePayload } from '../src/stripe/webhook-signature.js';
import { stripeEvent, subscriptionObject } from '../test/fixtures/stripe-events.js';

const { values: args } = parseArgs({
  options: {
    clients: { type: 'string', default: '16' },
    seconds: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '3' },
    'database-url': { type: 'string', default: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
  },
});
const CLIENTS = Number(args.clients);
const SECONDS = Number(args.seconds);
const ROUNDS = Number(args.rounds);
const SECRET = 'whsec_bench_secret_0123456789';

async function freshDatabase(name: string): Promise<string> {
  const admin = postgres(args['database-url']!, { max: 1, onnotice: () => {} });
  await admin.unsafe(`drop database if exists ${name} with (force)`);
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const u = new URL(args['database-url']!);
  u.pathname = `/${name}`;
  return u.toString();
}

function deliveries(count: number, tag: string, secret = SECRET): { body: string; signature: string }[] {
  const now = Math.floor(Date.now() / 1000);
  const out = [];
  for (let i = 0; i < count; i++) {
    const sub = subscriptionObject({ id: `sub_${tag}${i}`, customer: `cus_${tag}${i % 5000}`, quantity: 1 + (i % 7) });
    const event = stripeEvent('customer.subscription.updated', sub, { created: now, id: `evt_${tag}${i}`, previous: { quantity: i % 7 } });
    const body = JSON.stringify(event);
    out.push({ body, signature: signStripePayload(body, secret, now) });
  }
  return out;
}

interface Result {
  requests: number;
  /** every request sent, warm-up included */
  sent: number;
  errors: number;
  throughput: number;
  p50ms: number;
  p99ms: number;
}

async function load(url: string, pool: { body: string; signature: string }[], seconds: number, expectStatus = 200): Promise<Result> {
  const agent = new Agent({ connections: CLIENTS, pipelining: 1, keepAliveTimeout: 30_000 });
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const warmupEnd = performance.now() + 1000;
  const end = warmupEnd + seconds * 1000;
  const client = async () => {
    for (;;) {
      const t = performance.now();
      if (t >= end || next >= pool.length) return;
      const d = pool[next++]!;
      const res = await request(`${url}/webhooks/stripe`, {
        method: 'POST',
        body: d.body,
        headers: { 'content-type': 'application/json', 'stripe-signature': d.signature },
        dispatcher: agent,
      });
      await res.body.text();
      if (res.statusCode !== expectStatus) errors++;
      if (t >= warmupEnd) latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  await agent.close();
  if (next >= pool.length) throw new Error('delivery pool exhausted: raise the pool size');
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  return { requests: latencies.length, sent: next, errors, throughput: +(latencies.length / seconds).toFixed(1), p50ms: +q(0.5).toFixed(2), p99ms: +q(0.99).toFixed(2) };
}

async function startFloor(): Promise<{ url: string; close(): Promise<void> }> {
  const url = await freshDatabase('churn_bench_floor');
  const sql = postgres(url, { max: 10, onnotice: () => {} });
  await sql`create table floor_events (id text primary key, payload jsonb not null)`;
  const stripe = new Stripe('sk_test_bench');
  const app = new Hono();
  app.post('/webhooks/stripe', async (c) => {
    const raw = await c.req.text();
    try {
      stripe.webhooks.signature!.verifyHeader(raw, c.req.header('stripe-signature')!, SECRET, 300);
    } catch {
      return c.json({ error: 'bad signature' }, 400);
    }
    const id = (JSON.parse(raw) as { id: string }).id;
    await sql`insert into floor_events (id, payload) values (${id}, ${raw}::jsonb) on conflict do nothing`;
    return c.json({ received: true });
  });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      await new Promise((r) => server.close(r));
      await sql.end();
    },
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// Both servers run side by side; rounds alternate (floor, churn, floor, churn, …) so background
// load on a shared machine hits both alike, and each ratio compares neighbouring rounds.
const floorServer = await startFloor();
const churnUrl = await freshDatabase('churn_bench_ingest');
const database = await openDatabase({ databaseUrl: churnUrl, poolSize: 10 });
const env = parseEnv({ DATABASE_URL: churnUrl, STRIPE_WEBHOOK_SECRET: SECRET });
const churnServer = await startServer(database, env, { port: 0, host: '127.0.0.1', relay: false });
const perRound = Math.ceil(SECONDS * 4000) + 2000;
const rounds: { floor: Result; churn: Result; catchUpSeconds: number }[] = [];
// Forged deliveries (400 INVALID_SIGNATURE), in the same alternation: the product also counts each
// refusal in webhook_rejections (an in-memory tally written about once a second); the floor only answers 400.
const forgedRounds: { floor: Result; churn: Result }[] = [];
const FORGED = 'whsec_forged_0123456789';
for (let r = 0; r < ROUNDS; r++) {
  const floor = await load(floorServer.url, deliveries(perRound, `f${r}x`), SECONDS);
  const churn = await load(churnServer.url, deliveries(perRound, `c${r}x`), SECONDS);
  // The projector deferred its work during the burst; let it finish before the next floor
  // round so it never steals the floor's CPU, and report how long catching up took.
  const t0 = performance.now();
  await churnServer.projector.drain();
  const catchUpSeconds = +((performance.now() - t0) / 1000).toFixed(2);
  rounds.push({ floor, churn, catchUpSeconds });
  forgedRounds.push({
    floor: await load(floorServer.url, deliveries(perRound, `rf${r}x`, FORGED), SECONDS, 400),
    churn: await load(churnServer.url, deliveries(perRound, `rc${r}x`, FORGED), SECONDS, 400),
  });
  process.stderr.write(`round ${r + 1}: floor ${floor.throughput} ev/s p99 ${floor.p99ms} ms | churn ${churn.throughput} ev/s p99 ${churn.p99ms} ms, projections caught up ${catchUpSeconds}s after the burst\n`);
}
const forgedSent = forgedRounds.reduce((a, r) => a + r.churn.sent, 0);
const countedSql = (await import('drizzle-orm')).sql`select coalesce(sum(count), 0)::int as n from webhook_rejections`;
let counted = 0;
for (let i = 0; i < 50 && counted < forgedSent; i++) {
  counted = Number((await database.query<{ n: number }>(countedSql))[0]!.n);
  if (counted < forgedSent) await new Promise((r) => setTimeout(r, 100));
}
for (const [i, f] of forgedRounds.entries()) {
  process.stderr.write(`forged round ${i + 1}: floor ${f.floor.throughput} req/s p99 ${f.floor.p99ms} ms | churn ${f.churn.throughput} req/s p99 ${f.churn.p99ms} ms\n`);
}
process.stderr.write(`${counted} of ${forgedSent} refusals counted in webhook_rejections\n`);

const t = performance.now();
await churnServer.projector.drain();
const projectedWithin = +((performance.now() - t) / 1000).toFixed(2);
const [{ n }] = await database.query<{ n: number }>((await import('drizzle-orm')).sql`select count(*)::int as n from stripe_events where processed_at is null`);
if (Number(n) !== 0) throw new Error(`${n} events left unprojected`);
await churnServer.close();
await database.close();
await floorServer.close();

const throughputRatios = rounds.map((r) => r.churn.throughput / r.floor.throughput);
const p99Ratios = rounds.map((r) => r.churn.p99ms / r.floor.p99ms);
const report = {
  benchmark: 'ingest',
  clients: CLIENTS,
  secondsPerRound: SECONDS,
  rounds,
  throughputRatio: +median(throughputRatios).toFixed(3),
  p99Ratio: +median(p99Ratios).toFixed(3),
  backlogProjectedSecondsAfterLoad: projectedWithin,
  forged: {
    rounds: forgedRounds,
    throughputRatio: +median(forgedRounds.map((r) => r.churn.throughput / r.floor.throughput)).toFixed(3),
    p99Ratio: +median(forgedRounds.map((r) => r.churn.p99ms / r.floor.p99ms)).toFixed(3),
    sent: forgedSent,
    countedInDatabase: counted,
  },
  targets: { throughputRatioAtLeast: 0.75, p99RatioAtMost: 1.5 },
};
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
process.stderr.write(
  `median of ${ROUNDS} rounds: throughput ratio ${report.throughputRatio} (target >= 0.75), p99 ratio ${report.p99Ratio} (target <= 1.5); backlog projected ${projectedWithin}s after load\n`,
);
