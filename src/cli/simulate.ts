import type { Command } from 'commander';
import { UsageError } from '../lib/errors.js';
import { createProgress } from '../lib/progress.js';
import { isoDay, parseIsoToUnix } from '../lib/clock.js';
import {
  PINNED_API_VERSION,
  createJsonlEventSink,
  createJsonlTruthSink,
  createWebhookSink,
  simulateToFile,
  simulateToSink,
  type EventSink,
  type SimulationSummary,
  type WebhookEventSink,
  type FileTruthSink,
  type WorldOptions,
} from '../simulator/world/index.js';

interface SimulateFlags {
  customers: string;
  months: string;
  seed: string;
  accounts?: string;
  apiVersion: string;
  start?: string;
  out?: string;
  truth?: string;
  webhookUrl?: string;
  webhookSecret?: string;
  concurrency: string;
  workers?: string;
  quiet?: boolean;
}

function wholeNumber(name: string, value: string | undefined, min: number): number {
  const n = Number(value);
  if (value === undefined || value.trim() === '' || !Number.isInteger(n) || n < min) {
    throw new UsageError(`--${name} must be a whole number${min > 0 ? ` of at least ${min}` : ''} (got ${value ?? 'nothing'})`);
  }
  return n;
}

/** Validated world options from the flags; every bad flag is a usage error (exit code 2). */
export function worldOptionsFromFlags(flags: SimulateFlags): WorldOptions {
  const apiVersion = flags.apiVersion;
  if (!/^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$/.test(apiVersion)) throw new UsageError(`--api-version must look like 2026-10-28.endive or 2024-06-20 (got ${apiVersion})`);
  let start: number | undefined;
  if (flags.start !== undefined) {
    try {
      start = parseIsoToUnix(flags.start);
    } catch {
      throw new UsageError(`--start must be an ISO date such as 2025-01-01 (got ${flags.start})`);
    }
  }
  return {
    customers: wholeNumber('customers', flags.customers, 1),
    months: wholeNumber('months', flags.months, 1),
    seed: wholeNumber('seed', flags.seed, 0),
    accounts: flags.accounts === undefined ? 0 : wholeNumber('accounts', flags.accounts, 0),
    apiVersion,
    start,
  };
}

function printSummary(summary: SimulationSummary, flags: SimulateFlags, truthRecords: number, webhook?: WebhookEventSink): void {
  const lines = [
    `simulated ${summary.customers} customer(s) over ${summary.months} month(s) from ${isoDay(summary.start)} (seed ${summary.seed}, api ${summary.apiVersion}${summary.accounts ? `, ${summary.accounts} Connect account(s)` : ''})`,
    `${summary.events} event(s)${flags.out ? ` -> ${flags.out}` : ''}${webhook ? `; webhooks delivered ${webhook.delivered}, failed ${webhook.failures.length}` : ''}`,
    `churn: ${summary.voluntaryChurn} voluntary, ${summary.involuntaryChurn} involuntary; mean monthly churn ${(summary.meanMonthlyChurn * 100).toFixed(2)}%; oracle ROC-AUC ${summary.oracleAuc?.toFixed(3) ?? 'n/a'}`,
  ];
  if (flags.truth) lines.push(`${truthRecords} truth record(s) -> ${flags.truth}`);
  process.stdout.write(lines.join('\n') + '\n');
}

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('generate a seeded synthetic Stripe subscription business as Stripe events (JSONL file or signed webhooks), with the true churn probabilities')
    .requiredOption('--customers <n>', 'number of customers')
    .requiredOption('--months <m>', 'calendar months to simulate')
    .option('--seed <s>', 'random seed (same seed, same bytes)', '1')
    .option('--accounts <k>', 'spread customers over K Connect accounts (events carry `account`)')
    .option('--api-version <v>', `event shapes: ${PINNED_API_VERSION} or 2024-06-20`, PINNED_API_VERSION)
    .option('--start <iso>', 'start of month 0 (default 2025-01-01)')
    .option('--out <file>', 'write events as JSONL (one event per line, ordered by created)')
    .option('--truth <file>', 'write the true churn probabilities at each month end as JSONL')
    .option('--webhook-url <url>', 'POST each event, signed, to this URL instead of (or as well as) writing a file')
    .option('--webhook-secret <whsec>', 'signing secret for --webhook-url (whsec_...)')
    .option('--concurrency <n>', 'webhook deliveries in flight at once (1 keeps strict order)', '1')
    .option('--workers <n>', 'worker threads for file output (default: cores, at most 4; 1 = this thread)')
    .option('--quiet', 'no progress output')
    .action(async (flags: SimulateFlags) => {
      const options = worldOptionsFromFlags(flags);
      if (!flags.out && !flags.webhookUrl) throw new UsageError('give --out <file> or --webhook-url <url>');
      if (flags.webhookUrl) {
        if (!/^https?:\/\//.test(flags.webhookUrl)) throw new UsageError('--webhook-url must be an http(s) URL');
        if (!flags.webhookSecret?.startsWith('whsec_')) throw new UsageError('--webhook-secret whsec_... is required with --webhook-url');
      }
      const concurrency = wholeNumber('concurrency', flags.concurrency, 1);
      const workers = flags.workers === undefined ? undefined : wholeNumber('workers', flags.workers, 1);
      const progress = createProgress('simulate (months)', options.months, { quiet: flags.quiet });
      if (flags.out && !flags.webhookUrl) {
        // file only: shards of the world run in worker threads (same bytes as one thread)
        const summary = await simulateToFile({ ...options, out: flags.out, truth: flags.truth, workers, onMonth: () => progress.tick() });
        progress.stop();
        printSummary(summary, flags, summary.truthRecords);
        return;
      }
      const file = flags.out ? createJsonlEventSink(flags.out) : null;
      const webhook = flags.webhookUrl ? createWebhookSink({ url: flags.webhookUrl, secret: flags.webhookSecret!, concurrency }) : null;
      const sink: EventSink = file && webhook ? { write: async (e) => { await file.write(e); await webhook.write(e); } } : (file ?? webhook)!;
      const truth: FileTruthSink | undefined = flags.truth ? createJsonlTruthSink(flags.truth) : undefined;
      const summary = await simulateToSink(options, sink, truth, { onMonth: () => progress.tick() });
      progress.stop();
      await file?.close();
      await webhook?.close();
      await truth?.close();
      printSummary(summary, flags, truth?.records ?? 0, webhook ?? undefined);
      if (webhook && webhook.failures.length > 0) {
        for (const f of webhook.failures.slice(0, 10)) process.stderr.write(`webhook failed: ${f.eventId} ${f.type}: ${f.error} after ${f.attempts} attempt(s)\n`);
        throw new Error(`${webhook.failures.length} webhook deliver${webhook.failures.length === 1 ? 'y' : 'ies'} failed`);
      }
    });
}
