import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src/cli/program.js';

describe('churn simulate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'churn-simulate-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes ordered events and the truth file, in the old shapes with --api-version 2024-06-20', async () => {
    const out = join(dir, 'events.jsonl');
    const truth = join(dir, 'truth.jsonl');
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const code = await runCli(['node', 'churn', 'simulate', '--customers', '40', '--months', '3', '--seed', '3', '--accounts', '2', '--api-version', '2024-06-20', '--start', '2024-03-01', '--out', out, '--truth', truth, '--quiet']);
    const printed = stdout.mock.calls.map((c) => String(c[0])).join('');
    stdout.mockRestore();
    expect(code).toBe(0);
    expect(printed).toMatch(/simulated 40 customer\(s\) over 3 month\(s\) from 2024-03-01/);
    const events = readFileSync(out, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(events[0].created).toBe(Date.UTC(2024, 2, 1) / 1000);
    expect(events.every((e) => e.api_version === '2024-06-20' && /^acct_/.test(e.account))).toBe(true);
    const invoice = events.find((e) => e.type === 'invoice.paid').data.object;
    expect(invoice.subscription).toMatch(/^sub_/);
    const records = readFileSync(truth, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(records.length).toBeGreaterThan(40);
    expect(Object.keys(records[0]).sort()).toEqual(
      ['account', 'asOf', 'customer', 'p30', 'p30IfCoupon', 'p30IfPause', 'p30IfTrialExtension', 'p30NoTreatment', 'pInvoluntary', 'pVoluntary', 'responseType', 'subscription'].sort(),
    );
  });

  it('writes the same bytes with worker threads as in one thread', async () => {
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const files: Buffer[] = [];
    for (const workers of ['1', '2', '3']) {
      const out = join(dir, `w${workers}.jsonl`);
      const truth = join(dir, `t${workers}.jsonl`);
      expect(await runCli(['node', 'churn', 'simulate', '--customers', '120', '--months', '3', '--seed', '8', '--workers', workers, '--out', out, '--truth', truth, '--quiet'])).toBe(0);
      files.push(Buffer.concat([readFileSync(out), readFileSync(truth)]));
    }
    stdout.mockRestore();
    expect(files[0]!.length).toBeGreaterThan(1_000_000);
    expect(files[1]!.equals(files[0]!)).toBe(true);
    expect(files[2]!.equals(files[0]!)).toBe(true);
  });

  it('exits 2 on bad usage', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const bad = [
      ['--customers', '-5', '--months', '2', '--out', join(dir, 'x.jsonl')],
      ['--customers', '5', '--months', '2'],
      ['--customers', '5', '--months', '2', '--api-version', 'yesterday', '--out', join(dir, 'x.jsonl')],
      ['--customers', '5', '--months', '2', '--webhook-url', 'http://127.0.0.1:1/x'],
      ['--customers', '5', '--months', '2', '--start', 'soon', '--out', join(dir, 'x.jsonl')],
    ];
    for (const args of bad) expect(await runCli(['node', 'churn', 'simulate', ...args, '--quiet'])).toBe(2);
    stderr.mockRestore();
  });
});
