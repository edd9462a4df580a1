import type { Command } from 'commander';
import { inngest } from '../inngest/client.js';
import { logger } from '../lib/logger.js';
import { outboxBacklog, relayOutboxBatch, runRelay, type OutboxEvent } from '../services/outbox/relay.js';
import { inngestConfigured } from '../server.js';
import { intOption, withDatabase } from './context.js';

const INNGEST_SETUP = 'set INNGEST_EVENT_KEY (Inngest Cloud, or INNGEST_BASE_URL for a self-hosted server) or INNGEST_DEV=1 for the dev server';

export function registerRelay(program: Command): void {
  program
    .command('relay')
    .description('forward stored Stripe events to Inngest (outbox relay); runs until stopped')
    .option('--batch-size <n>', 'events per send', '100')
    .option('--once', 'send everything that is due, then exit')
    .action(async (opts: { batchSize?: string; once?: boolean }) => {
      const batchSize = intOption('batch-size', opts.batchSize, 100);
      const send = (events: OutboxEvent[]) => inngest.send(events);
      await withDatabase(async (database, env) => {
        if (opts.once) {
          let delivered = 0;
          let failed = 0;
          const reasons = new Set<string>();
          for (;;) {
            const r = await relayOutboxBatch(database, { send, batchSize });
            delivered += r.delivered;
            failed += r.failed;
            if (r.error) reasons.add(r.error);
            // A failed batch is retried with backoff; going on would only meet the same failure
            // (each batch up to the send timeout) and, once the backoff expires, the same rows again.
            if (r.claimed === 0 || r.failed > 0) break;
          }
          const backlog = await outboxBacklog(database);
          process.stdout.write(`relayed ${delivered} event(s); ${failed} failed and will be retried; ${backlog.pending} pending\n`);
          if (failed > 0) {
            // "failed" alone leaves the operator guessing: say what Inngest (or the network) said.
            for (const reason of reasons) process.stderr.write(`churn: relay failed: ${reason}\n`);
            if (!inngestConfigured(env)) process.stderr.write(`churn: Inngest is not configured: ${INNGEST_SETUP}\n`);
            process.exitCode = 1;
          }
          return;
        }
        const controller = new AbortController();
        const stop = () => controller.abort();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        logger.info({ batchSize }, 'outbox relay started');
        const totals = await runRelay({ database, send, batchSize, signal: controller.signal });
        process.stdout.write(`relay stopped: ${totals.delivered} delivered, ${totals.failed} failed attempts\n`);
      });
    });
}
