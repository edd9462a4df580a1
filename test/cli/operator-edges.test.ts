import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { ingestEvents } from '../../src/services/events/ingest.js';
import type { StripeEventEnvelope } from '../../src/services/events/parse.js';
import { createStripeSandbox } from '../../src/simulator/sandbox/index.js';
import { seedSampleAccount } from '../../src/simulator/sandbox/sample-account.js';
import { simulateToSink } from '../../src/simulator/world/index.js';
import { createTestDatabase, TEST_PG_URL } from '../helpers/db.js';
import { customerObject, stripeEvent } from '../fixtures/stripe-events.js';

/**
 * The edges a new operator meets on the first day, each tried as they would: the real `churn`
 * binary (bin/churn.js) in a child process, with nothing but environment variables and flags.
 */

const BIN = resolve('bin/churn.js');
const T0 = 1_760_000_000;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** The environment a user's shell would have: none of the test runner's own switches. */
function userEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(VITEST|NODE_ENV|DATABASE_URL|TEST_DATABASE_URL|LOG_LEVEL|HOST|PORT|STRIPE_|INNGEST_|WEBHOOK_|DATA_DIR|MODEL_DIR|TFJS_BACKEND|CHURN_)/.test(k)) continue;
    env[k] = v;
  }
  const dir = mkdtempSync(join(tmpdir(), 'churn-op-'));
  env.DATA_DIR = join(dir, 'data');
  env.MODEL_DIR = join(dir, 'models');
  env.TFJS_BACKEND = 'wasm';
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Starts `churn …`; `detached` gives it its own process group, as a shell job has. */
function start(args: string[], env: NodeJS.ProcessEnv = userEnv()) {
  const started = Date.now();
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const out = { stdout: '', stderr: '' };
  child.stdout!.on('data', (c: Buffer) => (out.stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out.stderr += c.toString()));
  const done = new Promise<Run>((resolveRun) => {
    child.once('close', (code, signal) => resolveRun({ code, signal, ...out, ms: Date.now() - started }));
  });
  return { child, out, done };
}

async function churn(args: string[], env?: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<Run> {
  const run = start(args, env);
  const timer = setTimeout(() => process.kill(-run.child.pid!, 'SIGKILL'), timeoutMs);
  const result = await run.done;
  clearTimeout(timer);
  return result;
}

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null && (value as unknown) !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '');
const noStack = (text: string) => expect(text).not.toMatch(/^\s+at .+\(.+:\d+:\d+\)$|node_modules|wasm-out/m);

function metricValue(body: string, name: string, labels = ''): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

describe('churn serve', () => {
  it('--port 99999 is bad usage: exit 2 at once, before anything is opened', async () => {
    const r = await churn(['serve', '--port', '99999'], undefined, 20_000);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toEqual(['churn: --port must be a whole number from 0 to 65535, got "99999"']);
    // only the CLI's start-up: no database was opened, no worker keeps the process alive
    expect(r.ms).toBeLessThan(10_000);
  });

  it('a port in use is one line, "port N is in use", and exit 1', async () => {
    const squatter: Server = createServer();
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
    const port = (squatter.address() as AddressInfo).port;
    try {
      const r = await churn(['serve', '--host', '127.0.0.1', '--port', String(port)]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`churn: port ${port} is in use`);
      expect(r.stderr).not.toContain('EADDRINUSE');
      noStack(r.stderr);
    } finally {
      await new Promise<void>((r) => squatter.close(() => r()));
    }
  });

  describe('running, without a webhook secret or Inngest, then losing its database', () => {
    let database: Database & { url?: string };
    let server: ReturnType<typeof start>;
    let base = '';
    let dropped = false;

    beforeAll(async () => {
      database = await createTestDatabase('postgres');
      server = start(['serve', '--port', '0'], userEnv({ DATABASE_URL: database.url, HOST: '127.0.0.1', WEBHOOK_MAX_BYTES: '2048' }));
      base = await waitFor('the serving line', () => server.out.stdout.match(/churn serving on (http:\/\/127\.0\.0\.1:\d+)/)?.[1]);
    });
    afterAll(async () => {
      if (server?.child.exitCode === null) {
        process.kill(-server.child.pid!, 'SIGINT');
        await server.done;
      }
      if (!dropped) await database?.close();
    });

    it('binds HOST and logs the address really bound; warns once, in one line, that webhooks will be refused', async () => {
      const logs = lines(server.out.stderr).map((l) => JSON.parse(l) as { level: number; msg: string; address?: string });
      expect(logs.find((l) => l.msg === 'churn is serving')?.address).toBe(base);
      const warnings = logs.filter((l) => l.msg.includes('STRIPE_WEBHOOK_SECRET'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!.level).toBe(40);
      // HOST=127.0.0.1 really is the only address: another loopback address is refused
      const port = Number(new URL(base).port);
      const elsewhere = await fetch(`http://127.0.0.2:${port}/healthz`).then(
        () => 'answered',
        () => 'refused',
      );
      expect(elsewhere).toBe('refused');
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
    });

    it('/api/inngest answers the 503 envelope with a reason and logs nothing per hit', async () => {
      const before = lines(server.out.stderr).length;
      for (const method of ['GET', 'PUT', 'POST']) {
        const res = await fetch(`${base}/api/inngest`, { method });
        expect(res.status).toBe(503);
        const body = (await res.json()) as { error: { code: string; message: string; requestId: string; details: { reason: string } } };
        expect(body.error.code).toBe('UNAVAILABLE');
        expect(body.error.message).toMatch(/^Inngest is not configured/);
        expect(body.error.details.reason).toBe('INNGEST_NOT_CONFIGURED');
        expect(body.error.requestId).not.toBe('');
      }
      expect(lines(server.out.stderr).length).toBe(before);
      expect(server.out.stderr.match(/\/api\/inngest answers 503/g)).toHaveLength(1);
    });

    it('/metrics counts 413s, and keeps answering when the database is gone: last backlog, stale, unreachable', async () => {
      const tooLarge = await fetch(`${base}/webhooks/stripe`, { method: 'POST', body: 'x'.repeat(4096), headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=0' } });
      expect(tooLarge.status).toBe(413);
      const unsigned = await fetch(`${base}/webhooks/stripe`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=0' } });
      expect(unsigned.status).toBe(503);

      // Three events wait in the outbox: no relay runs without Inngest.
      const events = [1, 2, 3].map((i) => stripeEvent('customer.created', customerObject(`cus_M${i}`), { created: T0 + i }) as unknown as StripeEventEnvelope);
      await ingestEvents(database, events, { source: 'ingest' });
      const up = await (await fetch(`${base}/metrics`)).text();
      expect(metricValue(up, 'churn_webhook_deliveries_total', '{outcome="PAYLOAD_TOO_LARGE"}')).toBe(1);
      expect(metricValue(up, 'churn_webhook_deliveries_total', '{outcome="UNAVAILABLE"}')).toBe(1);
      expect(metricValue(up, 'churn_backlog', '{queue="outbox_pending"}')).toBe(3);
      expect(metricValue(up, 'churn_backlog_stale')).toBe(0);
      expect(metricValue(up, 'churn_database_reachable')).toBe(1);

      // The database goes away under the running server.
      const name = new URL(database.url!).pathname.slice(1);
      await database.close().catch(() => {});
      dropped = true;
      const admin = postgres(TEST_PG_URL, { max: 1, onnotice: () => {} });
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();

      const res = await fetch(`${base}/metrics`);
      expect(res.status).toBe(200);
      const down = await res.text();
      expect(metricValue(down, 'churn_backlog', '{queue="outbox_pending"}')).toBe(3);
      expect(metricValue(down, 'churn_backlog_stale')).toBe(1);
      expect(metricValue(down, 'churn_database_reachable')).toBe(0);
      expect(metricValue(down, 'churn_webhook_deliveries_total', '{outcome="PAYLOAD_TOO_LARGE"}')).toBe(1);
      expect((await fetch(`${base}/readyz`)).status).toBe(503);

      process.kill(-server.child.pid!, 'SIGINT');
      const r = await server.done;
      expect(r.code).toBe(0);
    });
  });
});

describe('configuration', () => {
  it('a bad LOG_LEVEL, like every bad variable, is one line naming it', async () => {
    const cases: Array<[Record<string, string>, string[], string]> = [
      [{ LOG_LEVEL: 'loud' }, ['doctor'], 'churn: configuration error: LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent, got "loud"'],
      [{ PORT: 'abc' }, ['serve'], 'churn: configuration error: PORT: must be a whole number from 1 to 65535, got "abc"'],
      [{ HOST: 'http://example.test' }, ['serve'], 'churn: configuration error: HOST: must be a host name or IP address to listen on (e.g. 127.0.0.1, 0.0.0.0, ::), got "http://example.test"'],
      [{ TFJS_BACKEND: 'gpu' }, ['doctor'], 'churn: configuration error: TFJS_BACKEND: must be one of tensorflow, wasm, cpu, got "gpu"'],
    ];
    const runs = await Promise.all(cases.map(([env, args]) => churn(args, userEnv(env))));
    runs.forEach((r, i) => {
      expect(r.code, cases[i]![2]).toBe(1);
      expect(lines(r.stderr)).toEqual([cases[i]![2]]);
    });
  });

  it('churn --version prints the package version', async () => {
    const r = await churn(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe((JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version);
  });
});

describe('churn doctor', () => {
  it('exits 1 on any FAIL (an unmigrated database) and says why a database is unreachable', async () => {
    const name = `churn_t_empty_${process.pid}_${Date.now()}`;
    const admin = postgres(TEST_PG_URL, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${name}`);
    const at = (path: string, user = 'postgres') => {
      const u = new URL(TEST_PG_URL);
      u.username = user;
      u.pathname = `/${path}`;
      return u.toString();
    };
    try {
      const [empty, refused, auth, unknown] = await Promise.all([
        churn(['doctor'], userEnv({ DATABASE_URL: at(name) })),
        churn(['doctor'], userEnv({ DATABASE_URL: 'postgres://churn:hunter2@127.0.0.1:1/none' })),
        churn(['doctor'], userEnv({ DATABASE_URL: at('test', 'churn_no_such_role') })),
        churn(['doctor'], userEnv({ DATABASE_URL: 'postgres://churn@no-such-host.invalid:5432/none' })),
      ]);
      expect(empty.code).toBe(1);
      expect(empty.stdout).toMatch(/^ok {3}database +postgres at .+: reachable$/m);
      expect(empty.stdout).toMatch(/^FAIL migrations +0 of \d+ applied; pending 0000_init.*\(run `churn migrate`\)$/m);
      expect(empty.stderr).toContain('churn: 2 check(s) failed: migrations, champion');

      expect(refused.code).toBe(1);
      expect(refused.stdout).toMatch(/^FAIL database +postgres at 127\.0\.0\.1:1: unreachable: connection refused/m);
      expect(refused.stdout).not.toContain('hunter2');
      expect(auth.code).toBe(1);
      expect(auth.stdout).toMatch(/^FAIL database .*unreachable: authentication failed: role "churn_no_such_role" does not exist/m);
      expect(unknown.code).toBe(1);
      expect(unknown.stdout).toMatch(/^FAIL database .*unreachable: unknown host: no-such-host\.invalid does not resolve/m);
    } finally {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  });
});

describe('churn ingest', () => {
  let database: Database & { url?: string };
  beforeAll(async () => {
    database = await createTestDatabase('postgres');
  });
  afterAll(async () => {
    await database?.close();
  });

  it('a line over the limit, bad JSON, a BOM and a repeated id: each named by line, counted in the summary', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'churn-op-ingest-'));
    const file = join(dir, 'events.jsonl');
    const [one, two, three] = [1, 2, 3].map((i) => JSON.stringify(stripeEvent('customer.created', customerObject(`cus_I${i}`), { created: T0 + i })));
    // line 1 behind a UTF-8 byte-order mark, line 3 repeats line 1's id, line 4 is 17 MiB, line 5 is cut short
    const huge = `{"id":"evt_huge","pad":"${'x'.repeat(17 * 1024 * 1024)}"}`;
    writeFileSync(file, `\uFEFF${one}\n${two}\r\n${one}\n${huge}\n{"id": "evt_cut\n${three}\n`);
    const env = userEnv({ DATABASE_URL: database.url });

    const strict = await churn(['ingest', file], env);
    expect(strict.code).toBe(1);
    expect(lines(strict.stderr)).toEqual([
      `${file}:4: line 4 is ${Buffer.byteLength(huge)} bytes, over the 16777216-byte limit for one event (--max-line-bytes)`,
      `${file}:5: line 5 is not valid JSON: Unterminated string in JSON at position 15`,
      'churn: 2 malformed line(s); nothing was stored (fix them, or pass --skip-invalid to store the 4 valid ones)',
    ]);
    const count = async () => Number((await database.query<{ n: number }>(sql`select count(*)::int as n from stripe_events`))[0]!.n);
    expect(await count()).toBe(0);

    const skipping = await churn(['ingest', file, '--skip-invalid'], env);
    expect(skipping.code).toBe(1);
    expect(skipping.stdout).toContain('ingested 3 new event(s), 0 already stored, 1 repeated id(s) inside the file (stored once), 2 malformed line(s) skipped; 3 event(s) in the store');
    expect(lines(skipping.stderr).at(-1)).toBe('churn: 2 malformed line(s) were skipped (exit 1)');
    expect(await count()).toBe(3);
  });
});

describe('churn backfill and relay', () => {
  let database: Database & { url?: string };
  let closeSandbox: () => Promise<void>;
  let env: NodeJS.ProcessEnv;
  const sandbox = createStripeSandbox({ now: 1_780_000_000 });

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    seedSampleAccount(sandbox.store, { customers: 250, seed: 41 });
    const listening = await sandbox.listen(0);
    closeSandbox = listening.close;
    env = userEnv({ DATABASE_URL: database.url, STRIPE_SECRET_KEY: sandbox.apiKey, STRIPE_API_BASE: listening.url });
  });
  afterAll(async () => {
    await closeSandbox?.();
    await database?.close();
  });

  it('Ctrl-C says "interrupted; run again to resume" (exit 130), and running again resumes', async () => {
    // Slow customer pages, so the interrupt lands in the middle of the walk.
    sandbox.faults.inject({ delayMs: 1500, count: 2, pathPrefix: '/v1/customers', method: 'GET' });
    const run = start(['backfill'], env);
    await waitFor('the first customer page to be stored', async () => {
      const rows = await database.query<{ cursor: string | null }>(sql`select cursor from sync_cursors where resource = 'backfill:customers' and cursor is not null`);
      return rows.length > 0 ? true : undefined;
    });
    process.kill(-run.child.pid!, 'SIGINT'); // what a terminal's Ctrl-C sends: the whole foreground group
    const r = await run.done;
    expect(r.code).toBe(130);
    expect(lines(r.stderr).at(-1)).toMatch(/^churn: backfill interrupted \(during customers, after cus_\w+\); run again to resume$/);

    sandbox.faults.clear();
    const again = await churn(['backfill', '--quiet'], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^customers: \d+ read, \d+ new, 0 already stored \(\+\d+ payment methods expanded\) \(resumed after cus_\w+\)$/m);
    expect(again.stdout).toContain('backfill of platform complete');
  });

  it('relay --once without Inngest prints why the sends failed', async () => {
    const r = await churn(['relay', '--once'], env);
    expect(r.code).toBe(1);
    const [, failed, pending] = r.stdout.match(/^relayed 0 event\(s\); (\d+) failed and will be retried; (\d+) pending$/m)!;
    // one batch tried, then the run stops: the rest were not sent again and again
    expect(Number(failed)).toBe(100);
    expect(Number(pending)).toBeGreaterThan(100);
    expect(r.stderr).toMatch(/^churn: relay failed: .*event key/m);
    expect(r.stderr).toMatch(/^churn: Inngest is not configured: set INNGEST_EVENT_KEY/m);
  });
});

describe('churn train and score output', () => {
  let database: Database & { url?: string };
  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    const events: StripeEventEnvelope[] = [];
    await simulateToSink({ customers: 300, months: 8, seed: 3 }, { write: (e) => void events.push(e as unknown as StripeEventEnvelope) });
    await ingestEvents(database, events, { source: 'ingest' });
  });
  afterAll(async () => {
    await database?.close();
  });

  // one environment (database and MODEL_DIR) for training and the scoring runs after it
  let env: NodeJS.ProcessEnv;
  it('results and progress on stdout, JSON logs on stderr; the training bar counts model-selection trials and ends full', async () => {
    env = userEnv({ DATABASE_URL: database.url });
    const train = await churn(['train'], env, 120_000);
    expect(train.code).toBe(0);
    const score = await churn(['score'], env);
    expect(score.code).toBe(0);
    for (const r of [train, score]) {
      expect(lines(r.stdout).filter((l) => l.startsWith('{'))).toEqual([]);
      expect(lines(r.stderr).length).toBeGreaterThan(0);
      for (const l of lines(r.stderr)) expect(() => JSON.parse(l), l).not.toThrow();
    }
    const bar = lines(train.stdout).filter((l) => l.startsWith('training ('));
    const [, done, total] = bar.at(-1)!.match(/: (\d+)\/(\d+)$/)!;
    // three logistic regressions and up to three networks (and two refits when the search was subsampled)
    expect(Number(total)).toBeGreaterThanOrEqual(4);
    expect(Number(total)).toBeLessThanOrEqual(8);
    expect(done).toBe(total);
    expect(train.stdout).toMatch(/^model selection: (network|logistic|blend), \d+ trials on \d+ of \d+ training rows.*, in [\d.]+ s: /m);
    expect(train.stdout).toMatch(/^model churn v\S+: trained on \d+ snapshots/m);
    expect(score.stdout).toMatch(/^scored \d+ customer\(s\) as of /m);
  });

  const storedScores = async () => (await database.query<{ n: number }>(sql`select count(*)::int as n from scores`))[0]!.n;

  it('score prints the most at-risk customers (who, risk, band, MRR, at risk, why) and writes a CSV sorted by risk with the as-of date', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'churn-score-'));
    const out = join(dir, 'scores.csv');
    const r = await churn(['score', '--out', out, '--top', '5'], env);
    expect(r.code, r.stderr).toBe(0);
    const table = lines(r.stdout.slice(r.stdout.indexOf('most at risk')));
    expect(table[1]).toMatch(/^customer\s+risk\s+band\s+MRR\s+at risk\s+why$/);
    expect(table.slice(2)).toHaveLength(5);
    // a name or an email, the probability, a band, money, then the reasons
    for (const l of table.slice(2)) expect(l).toMatch(/^\S.*@.*\s\d+\.\d%\s+(low|medium|high|critical)\s+\$[\d,.]+\s+\$[\d,.]+\s+\S/);
    const csv = readFileSync(out, 'utf8').trim().split('\n');
    expect(csv[0]).toBe('customer,account,name,email,probability,risk_band,mrr_minor,revenue_at_risk_minor,currency,drivers,as_of,model_version');
    const probabilities = csv.slice(1).map((l) => Number(l.match(/,(0\.\d{4}|1\.0000),/)![1]));
    expect(probabilities).toEqual([...probabilities].sort((a, b) => b - a));
    const asOf = r.stdout.match(/as of (\S+) /)![1]!;
    expect(csv.slice(1).every((l) => l.includes(`,${asOf},`))).toBe(true);
  });

  it('score --as-of beyond the newest stored event is refused (exit 2) and stores nothing', async () => {
    const before = await storedScores();
    const r = await churn(['score', '--as-of', '2099-01-01'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^churn: --as-of 2099-01-01T00:00:00.000Z is after the newest stored event \(\d{4}-/m);
    expect(await storedScores()).toBe(before);
  });

  it('score --out to a path that cannot be written fails before anything is scored or stored', async () => {
    const before = await storedScores();
    const r = await churn(['score', '--out', join(tmpdir(), 'no-such-dir-churn', 'scores.csv')], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^churn: cannot write --out .*no-such-dir-churn\/scores\.csv: ENOENT/m);
    expect(await storedScores()).toBe(before);
  });
});

describe('churn train on an account too small to train', () => {
  let database: Database & { url?: string };
  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    const events: StripeEventEnvelope[] = [];
    await simulateToSink({ customers: 60, months: 2, seed: 4 }, { write: (e) => void events.push(e as unknown as StripeEventEnvelope) });
    await ingestEvents(database, events, { source: 'ingest' });
  });
  afterAll(async () => {
    await database?.close();
  });

  it('says what is missing (months, churners), when training becomes possible, and what to do', async () => {
    const r = await churn(['train'], userEnv({ DATABASE_URL: database.url }), 120_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^churn: not enough history to train yet: need at least 4 monthly snapshots/m);
    expect(r.stderr).toMatch(/^Stored history: \d\.\d month\(s\), \d{4}-\d\d-\d\d … \d{4}-\d\d-\d\d\. Training needs 4 monthly snapshots .* allows them from \d{4}-\d\d-\d\d\) and at least 23 churners/m);
    expect(r.stderr).toMatch(/^What to do: /m);
    expect((await database.query<{ n: number }>(sql`select count(*)::int as n from model_versions`))[0]!.n).toBe(0);
  });
});
