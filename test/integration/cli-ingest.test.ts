import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { sql } from 'drizzle-orm';
import { runCli } from '../../src/cli/program.js';
import { openDatabase, type Database } from '../../src/db/client.js';
import { createTestDatabase } from '../helpers/db.js';
import { customerObject, stripeEvent, subscriptionObject } from '../fixtures/stripe-events.js';

const T0 = 1_760_000_000;
let database: Database & { url?: string };
const dir = mkdtempSync(join(tmpdir(), 'churn-ingest-'));

beforeAll(async () => {
  database = await createTestDatabase('postgres');
  process.env.DATABASE_URL = database.url;
});
afterAll(async () => {
  delete process.env.DATABASE_URL;
  await database?.close();
});
afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
  return { out, err };
}

const count = async () => Number((await database.query<{ n: number }>(sql`select count(*)::int as n from stripe_events`))[0]!.n);

it('reports malformed lines by number and stores nothing from the file', async () => {
  const good = [
    stripeEvent('customer.created', customerObject('cus_L1'), { created: T0 }),
    stripeEvent('customer.subscription.created', subscriptionObject({ id: 'sub_L1', customer: 'cus_L1' }), { created: T0 + 1 }),
  ];
  const file = join(dir, 'mixed.jsonl');
  writeFileSync(file, [JSON.stringify(good[0]), '{"id": "evt_broken", ', '', JSON.stringify({ id: 'not_an_event' }), JSON.stringify(good[1])].join('\n'));
  const { err } = capture();
  const code = await runCli(['node', 'churn', 'ingest', file]);
  expect(code).toBe(1);
  const text = err.join('');
  expect(text).toContain('mixed.jsonl:2: line 2 is not valid JSON');
  expect(text).toContain('mixed.jsonl:4: not a Stripe event');
  expect(text).toMatch(/2 malformed line\(s\); nothing was stored/);
  expect(await count()).toBe(0);

  vi.restoreAllMocks();
  const { out } = capture();
  const code2 = await runCli(['node', 'churn', 'ingest', file, '--skip-invalid']);
  expect(code2).toBe(1);
  expect(out.join('')).toMatch(/ingested 2 new event\(s\), 0 already stored, 2 malformed line\(s\) skipped/);
  expect(await count()).toBe(2);
  const subs = await database.query(sql`select id from subscriptions`);
  expect(subs).toEqual([{ id: 'sub_L1' }]);
});

it('ingesting the same file twice stores nothing new, and a missing file is a usage error', async () => {
  const file = join(dir, 'clean.jsonl');
  writeFileSync(file, `${JSON.stringify(stripeEvent('customer.created', customerObject('cus_L2'), { created: T0 }))}\n`);
  capture();
  expect(await runCli(['node', 'churn', 'ingest', file])).toBe(0);
  const before = await count();
  expect(await runCli(['node', 'churn', 'ingest', file])).toBe(0);
  expect(await count()).toBe(before);
  expect(await runCli(['node', 'churn', 'ingest', join(dir, 'nope.jsonl')])).toBe(2);
  expect(await runCli(['node', 'churn', 'rebuild'])).toBe(0);
  expect(await count()).toBe(before);
});

it('works on the embedded database when DATABASE_URL is unset', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'churn-pglite-'));
  const saved = process.env.DATABASE_URL;
  delete process.env.DATABASE_URL;
  process.env.DATA_DIR = dataDir;
  try {
    const file = join(dir, 'pglite.jsonl');
    writeFileSync(file, `${JSON.stringify(stripeEvent('customer.created', customerObject('cus_L3'), { created: T0 }))}\n`);
    capture();
    expect(await runCli(['node', 'churn', 'ingest', file])).toBe(0);
    const local = await openDatabase({ dataDir });
    const rows = await local.query(sql`select id from customers`);
    await local.close();
    expect(rows).toEqual([{ id: 'cus_L3' }]);
  } finally {
    process.env.DATABASE_URL = saved;
    delete process.env.DATA_DIR;
  }
});
