/**
 * Scale benchmark for the world generator: `npx tsx bench/simulate.ts [--customers 100000 --months 24]`.
 * Streams the world to a JSONL file (deleted afterwards unless --keep) and prints one JSON line:
 * events, seconds, events/s, peak RSS of this process (sampled every 100 ms and at each month end;
 * worker threads share the process, so it includes them), file size. `--workers 1` runs the
 * world in the main thread.
 * The machine is shared: other work running at the same time slows it down.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { simulateToFile } from '../src/simulator/world/index.js';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const customers = Number(flag('customers', '100000'));
const months = Number(flag('months', '24'));
const seed = Number(flag('seed', '1'));
const keep = process.argv.includes('--keep');
const workers = Number(flag('workers', String(Math.min(4, availableParallelism()))));
const dir = mkdtempSync(join(tmpdir(), 'churn-bench-simulate-'));
const out = flag('out', join(dir, 'events.jsonl'));

let peakRss = process.memoryUsage.rss();
const sample = () => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
};
const timer = setInterval(sample, 100);

const started = process.hrtime.bigint();
const summary = await simulateToFile({
  customers,
  months,
  seed,
  workers,
  out,
  onMonth: (m) => {
    sample();
    if (process.argv.includes('--verbose')) process.stderr.write(`month ${m.month}: ${m.events} events, ${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(1)} s\n`);
  },
});
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
clearInterval(timer);
sample();
const fileBytes = statSync(out).size;
if (!keep) rmSync(dir, { recursive: true, force: true });

process.stdout.write(
  JSON.stringify({
    bench: 'simulate',
    customers,
    months,
    workers,
    events: summary.events,
    seconds: Math.round(seconds * 100) / 100,
    eventsPerSecond: Math.round(summary.events / seconds),
    peakRssMB: Math.round(peakRss / 1e6),
    fileBytes,
    fileMB: Math.round(fileBytes / 1e6),
    bytesPerEvent: Math.round(fileBytes / summary.events),
    meanMonthlyChurn: Math.round(summary.meanMonthlyChurn * 10000) / 10000,
    oracleAuc: summary.oracleAuc === null ? null : Math.round(summary.oracleAuc * 1000) / 1000,
  }) + '\n',
);
