import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';

const BIN = resolve('bin/churn.js');
const NOW_ISO = '2026-11-15T12:00:00Z';
const NOW = Date.parse(NOW_ISO) / 1000;
const DAY = 86_400;

function churn(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const clean: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(VITEST|NODE_ENV|DATABASE_URL|LOG_LEVEL|ALERT_|DATA_DIR)/.test(k)) clean[k] = v;
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((r) => child.once('close', (code) => r({ code, stdout, stderr })));
}

describe('churn alerts', () => {
  const dataDir = join(mkdtempSync(join(tmpdir(), 'churn-alerts-')), 'data');
  let server: Server;
  let url = '';
  const posts: string[] = [];

  beforeAll(async () => {
    const database = await openDatabase({ dataDir });
    let n = 0;
    for (const [day, count] of [30, ...new Array(14).fill(3)].entries()) {
      for (let i = 0; i < count; i++) {
        n += 1;
        await database.query(sql`insert into payment_failures (account, event_id, failed_at) values ('acct_cli', ${`evt_cli_${n}`}, ${NOW - day * DAY - 60 - i})`);
      }
    }
    await database.close();
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        posts.push(body);
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`;
  });
  afterAll(async () => new Promise<void>((r) => server.close(() => r())));

  it('--check finds the spike, refuses a loopback webhook without allow-private, and lists the open alert', async () => {
    const r = await churn(['alerts', '--check', '--now', NOW_ISO], { DATA_DIR: dataDir, ALERT_WEBHOOK_URL: url });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('1 opened');
    expect(r.stdout).toContain('notices 0 sent, 0 failed, 1 refused');
    expect(r.stdout).toMatch(/payment_failure_spike\s+acct_cli/);
    expect(r.stdout).toContain('30 payment failures in the last 24 h');
    expect(r.stderr).toContain('private or loopback');
    expect(posts).toEqual([]);
  }, 60_000);

  it('with ALERT_WEBHOOK_ALLOW_PRIVATE=1 the notice is posted once; the alert stays one', async () => {
    const r = await churn(['alerts', '--check', '--now', NOW_ISO], { DATA_DIR: dataDir, ALERT_WEBHOOK_URL: url, ALERT_WEBHOOK_ALLOW_PRIVATE: '1' });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('0 opened, 1 still open');
    expect(r.stdout).toContain('notices 1 sent');
    expect(posts).toHaveLength(1);
    expect(JSON.parse(posts[0]!).text).toMatch(/payment_failure_spike \(acct_cli\)/);
    const list = await churn(['alerts', '--json'], { DATA_DIR: dataDir });
    expect((JSON.parse(list.stdout) as Array<{ key: string }>).map((a) => a.key)).toEqual(['acct_cli']);
  }, 60_000);
});
