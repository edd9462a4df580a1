import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { createStripeSandbox, type StripeSandbox } from '../../src/simulator/sandbox/index.js';
import { seedSampleAccount } from '../../src/simulator/sandbox/sample-account.js';
import { createTestDatabase } from '../helpers/db.js';
import { startInngestTarget, type InngestTarget } from './relay-target.js';

const CONNECTED = 'acct_1CliConnected';

/** The commands as a user runs them: env configuration, real PostgreSQL, the local Stripe API, an HTTP Inngest. */
describe('churn backfill / reconcile / relay (CLI)', () => {
  let database: Database & { url?: string };
  let sandbox: StripeSandbox;
  let closeSandbox: () => Promise<void>;
  let target: InngestTarget;
  let runCli: (argv: string[]) => Promise<number>;
  const output: string[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    sandbox = createStripeSandbox({ now: 1_780_000_000, accounts: [CONNECTED] });
    seedSampleAccount(sandbox.store, { customers: 9, seed: 31 });
    seedSampleAccount(sandbox.store, { customers: 3, seed: 32, account: CONNECTED });
    const listening = await sandbox.listen(0);
    closeSandbox = listening.close;
    target = await startInngestTarget();
    vi.stubEnv('DATABASE_URL', database.url!);
    vi.stubEnv('STRIPE_SECRET_KEY', sandbox.apiKey);
    vi.stubEnv('STRIPE_API_BASE', listening.url);
    vi.stubEnv('INNGEST_BASE_URL', target.url);
    vi.stubEnv('INNGEST_EVENT_KEY', 'cli-test-key');
    vi.stubEnv('INNGEST_DEV', '0');
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      output.push(String(chunk));
      return true;
    });
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      output.push(String(chunk));
      return true;
    });
    // imported after the environment is set: the Inngest client reads it when created
    ({ runCli } = await import('../../src/cli/program.js'));
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
    await closeSandbox();
    await target.close();
    await database.close();
  });

  const churn = (...args: string[]) => runCli(['node', 'churn', ...args]);
  const count = async (table: string, where = 'true') =>
    Number((await database.query<{ n: number }>(sql.raw(`select count(*)::int as n from ${table} where ${where}`)))[0]!.n);

  it('backfill copies the account, dated by the objects\' own times; a second run reports it complete', async () => {
    output.length = 0;
    expect(await churn('backfill', '--quiet')).toBe(0);
    expect(output.join('')).toMatch(/customers: 9 read, 9 new/);
    expect(output.join('')).toMatch(/history: \d+ subscriptions rebuilt/);
    expect(output.join('')).toMatch(/complete \(\d+ Stripe API calls\)/);
    expect(await count('customers', `account = 'platform'`)).toBe(9);
    // snapshots are dated by the objects' own times on the sandbox's simulated clock, none after it
    const [{ created }] = await database.query<{ created: number }>(sql`select max(created)::int as created from stripe_events where id like 'evt_sync_%'`);
    expect(created).toBeLessThanOrEqual(sandbox.store.now());
    expect(created).toBeGreaterThan(sandbox.store.now() - 400 * 86_400);
    output.length = 0;
    expect(await churn('backfill', '--quiet')).toBe(0);
    expect(output.join('')).toMatch(/customers: already complete/);
  });

  it('backfill --stripe-account stores the connected account apart', async () => {
    expect(await churn('backfill', '--quiet', '--stripe-account', CONNECTED)).toBe(0);
    expect(await count('customers', `account = '${CONNECTED}'`)).toBe(3);
    expect(await count('customers', `account = 'platform'`)).toBe(9);
  });

  it('rejects a malformed account id as bad usage', async () => {
    expect(await churn('backfill', '--stripe-account', 'cus_123')).toBe(2);
    expect(await churn('reconcile', '--stripe-account', 'nope')).toBe(2);
  });

  it('reconcile stores what was missed', async () => {
    const newest = (await database.query<{ id: string }>(sql`select id from stripe_events where account = 'platform' and id not like 'evt_sync_%' order by created desc, id desc limit 2`)).map((r) => r.id);
    await database.query(sql`delete from outbox where event_id = ${newest[1]!}`);
    await database.query(sql`delete from stripe_events where id = ${newest[1]!}`);
    output.length = 0;
    expect(await churn('reconcile', '--quiet')).toBe(0);
    expect(output.join('')).toMatch(/1 missed and now stored/);
    expect(await count('stripe_events', `id = '${newest[1]!}' and source = 'reconcile'`)).toBe(1);
  });

  it('relay --once forwards the outbox to Inngest and leaves nothing pending', async () => {
    const pending = await count('outbox', 'delivered_at is null');
    expect(pending).toBeGreaterThan(0);
    output.length = 0;
    expect(await churn('relay', '--once')).toBe(0);
    expect(output.join('')).toMatch(new RegExp(`relayed ${pending} event\\(s\\); 0 failed`));
    expect(await count('outbox', 'delivered_at is null')).toBe(0);
    expect(new Set(target.received.map((e) => e.id)).size).toBe(pending);
  });
});
