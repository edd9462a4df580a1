import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { webhookSecrets, parseEnv } from '../env.js';
import { logger } from '../lib/logger.js';
import { createProgress } from '../lib/progress.js';
import { UsageError } from '../lib/errors.js';
import { DEFAULT_SANDBOX_API_KEY, SandboxStore, createStripeSandbox } from '../simulator/sandbox/index.js';
import { loadWorld } from '../simulator/sandbox/world-link.js';
import { intOption } from './context.js';

interface SandboxCliOptions {
  port?: string;
  customers?: string;
  seed?: string;
  months?: string;
  accounts?: string;
  apiKey?: string;
  webhookUrl?: string[];
  webhookSecret?: string;
  eventRetentionDays?: string;
  rateLimit?: string;
  quiet?: boolean;
}

const KEEP_ALL_EVENTS_UP_TO = 20_000;

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** What a person needs to point any Stripe client at the sandbox. */
export function startBanner(info: {
  url: string;
  apiKey: string;
  accounts: string[];
  customers: number;
  eventRetentionDays: number;
  rateLimitPerSecond?: number;
  webhooks: { url: string; secret: string }[];
}): string {
  const lines = [
    `Stripe-compatible sandbox listening on ${info.url}`,
    `  API key:   ${info.apiKey}`,
    `  customers: ${info.customers}${info.accounts.length > 0 ? ` across connected accounts ${info.accounts.join(', ')}` : ''}`,
  ];
  lines.push(`  events:    ${info.eventRetentionDays > 0 ? `the last ${info.eventRetentionDays} simulated days (as Stripe lists them)` : 'all kept'}`);
  if (info.rateLimitPerSecond) lines.push(`  rate limit: ${info.rateLimitPerSecond} reads and ${info.rateLimitPerSecond} writes per second per account (429 rate_limit_error above it)`);
  for (const webhook of info.webhooks) lines.push(`  webhooks → ${webhook.url} (signing secret ${webhook.secret})`);
  const account = info.accounts[0];
  lines.push(
    '',
    'Point the product (or any Stripe SDK) at it:',
    `  export STRIPE_API_BASE=${info.url} STRIPE_SECRET_KEY=${info.apiKey}`,
    'Try it:',
    `  curl -s ${info.url}/v1/customers?limit=3 -u ${info.apiKey}:`,
    `  curl -s "${info.url}/v1/events?limit=5&types[]=customer.subscription.updated" -u ${info.apiKey}:`,
    `  curl -s ${info.url}/v1/coupons -u ${info.apiKey}: -d id=SAVE20 -d percent_off=20 -d duration=repeating -d duration_in_months=3`,
  );
  if (account) lines.push(`  curl -s ${info.url}/v1/subscriptions?limit=3 -u ${info.apiKey}: -H "Stripe-Account: ${account}"`);
  lines.push(
    'Inject faults (the next 2 calls answer 429 rate_limit_error):',
    `  curl -s ${info.url}/_sandbox/faults -H "Authorization: Bearer ${info.apiKey}" -H "Content-Type: application/json" -d '{"status":429,"count":2}'`,
    'Rate limit per account (Stripe: about 100/s live, 25/s test mode); throttled counts:',
    `  curl -s ${info.url}/_sandbox/rate-limit -H "Authorization: Bearer ${info.apiKey}" -H "Content-Type: application/json" -d '{"perSecond":25}'`,
    `  curl -s ${info.url}/_sandbox/rate-limit -H "Authorization: Bearer ${info.apiKey}"`,
    'Ctrl-C stops it.',
  );
  return lines.join('\n') + '\n';
}

export function registerStripeSandbox(program: Command): void {
  program
    .command('stripe-sandbox')
    .description('run a Stripe-compatible local API (optionally holding a generated world) for the demo, tests and manual checks')
    .option('--port <port>', 'port on 127.0.0.1 (0 = any free port)', '12111')
    .option('--customers <n>', 'generate a world of N customers first (0 = start empty)', '0')
    .option('--seed <s>', 'world seed', '1')
    .option('--months <m>', 'months of world history', '12')
    .option('--accounts <a>', 'spread the world over A Connect accounts (0 = platform account)', '0')
    .option('--api-key <key>', `secret key clients must send (default ${DEFAULT_SANDBOX_API_KEY})`)
    .option('--webhook-url <url>', 'deliver signed events to this URL (repeatable)', collect)
    .option('--webhook-secret <whsec>', 'signing secret for --webhook-url (default: STRIPE_WEBHOOK_SECRET, else a new one)')
    .option('--event-retention-days <d>', `keep events this many simulated days, as Stripe lists 30 (0 = keep all; default: all up to ${KEEP_ALL_EVENTS_UP_TO} customers, else 30)`)
    .option('--rate-limit <per-second>', 'answer 429 rate_limit_error above this many reads (and writes) per second per account, as Stripe does (0 = no limit)', '0')
    .option('--quiet', 'no progress output')
    .action(async (opts: SandboxCliOptions) => {
      const port = intOption('port', opts.port, 12111);
      if (port > 65535) throw new UsageError('--port must be at most 65535');
      const customers = intOption('customers', opts.customers, 0);
      const seed = intOption('seed', opts.seed, 1);
      const months = intOption('months', opts.months, 12);
      const accounts = intOption('accounts', opts.accounts, 0);
      // Every event of a large world does not fit in memory (~70 KB per customer-year); Stripe itself lists 30 days.
      const retention = intOption('event-retention-days', opts.eventRetentionDays, customers > KEEP_ALL_EVENTS_UP_TO ? 30 : 0);
      const rateLimit = intOption('rate-limit', opts.rateLimit, 0);
      const apiKey = opts.apiKey ?? DEFAULT_SANDBOX_API_KEY;
      if (!/^(sk|rk)_test_/.test(apiKey)) throw new UsageError('--api-key must be a test key (sk_test_… or rk_test_…): the sandbox is test mode');
      if (customers > 0 && months < 1) throw new UsageError('--months must be at least 1');
      const webhookUrls = opts.webhookUrl ?? [];
      let secret = opts.webhookSecret;
      if (secret !== undefined && !secret.startsWith('whsec_')) throw new UsageError('--webhook-secret must start with whsec_');
      if (webhookUrls.length > 0 && secret === undefined) {
        secret = webhookSecrets(parseEnv())[0] ?? `whsec_${randomBytes(24).toString('base64url')}`;
      }

      const store = new SandboxStore({ eventRetentionDays: retention || undefined });
      if (customers > 0) {
        const progress = createProgress('generating world (months)', months, { quiet: opts.quiet });
        const summary = await loadWorld(store, { customers, seed, months, accounts }, { onMonth: () => progress.tick() });
        progress.stop();
        logger.info({ customers, months, seed, events: summary.events }, 'world loaded into the sandbox');
      }
      // Webhook endpoints are added after the world is loaded: they get what happens from now on.
      const sandbox = createStripeSandbox({
        apiKey,
        store,
        logger,
        webhooks: webhookUrls.map((url) => ({ url, secret: secret! })),
        rateLimit: rateLimit > 0 ? { perSecond: rateLimit } : undefined,
      });
      const server = await sandbox.listen(port);
      process.stdout.write(
        startBanner({
          url: server.url,
          apiKey,
          accounts: store.accounts().filter((a) => a.startsWith('acct_')),
          customers,
          eventRetentionDays: retention,
          rateLimitPerSecond: rateLimit,
          webhooks: webhookUrls.map((url) => ({ url, secret: secret! })),
        }),
      );
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await server.close();
    });
}
