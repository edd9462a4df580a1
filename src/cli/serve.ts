import { startTracing, stopTracing } from '../lib/tracing.js';
import type { Command } from 'commander';
import { openDatabase } from '../db/client.js';
import { hostProblem, parseEnv } from '../env.js';
import { UsageError } from '../lib/errors.js';
import { logger } from '../lib/logger.js';
import { startServer } from '../server.js';

/** `--port`: 0 asks the system for a free port (tests, side-by-side instances). */
export function portOption(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--port must be a whole number from 0 to 65535, got "${value}"`);
  return n;
}

export function hostOption(value: string | undefined, fallback: string): string {
  if (value === undefined) return fallback;
  const problem = hostProblem(value);
  if (problem) throw new UsageError(`--host ${problem}`);
  return value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : value;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the HTTP service (Stripe webhooks, the /v1 JSON API with /openapi.json and /docs, health, metrics, Inngest endpoint) and its background workers (projector, outbox relay)')
    .option('--port <port>', 'port (default: PORT or 3000; 0 picks a free one)')
    .option('--host <host>', 'address to listen on (default: HOST or 0.0.0.0, every interface)')
    .action(async (opts: { port?: string; host?: string }) => {
      // Usage and configuration are checked before anything is opened, so a mistake exits at once.
      const env = parseEnv();
      const port = portOption(opts.port, env.PORT);
      const host = hostOption(opts.host, env.HOST);
      const database = await openDatabase({ databaseUrl: env.DATABASE_URL, dataDir: env.DATA_DIR });
      await startTracing({ endpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT });
      let server: Awaited<ReturnType<typeof startServer>>;
      try {
        server = await startServer(database, env, { port, host });
      } catch (err) {
        await database.close();
        throw err;
      }
      logger.info({ address: server.boundUrl, database: database.kind }, 'churn is serving');
      const local = server.boundUrl === server.url ? '' : ` (every interface; from this machine ${server.url})`;
      process.stdout.write(`churn serving on ${server.boundUrl}${local}, database ${database.kind}; Ctrl-C to stop\n`);
      await new Promise<void>((resolve) => {
        const shutdown = () => resolve();
        process.once('SIGINT', shutdown);
        process.once('SIGTERM', shutdown);
      });
      await server.close();
      await database.close();
      await stopTracing();
    });
}
