import type { Command } from 'commander';
import { openDatabase } from '../db/client.js';
import { parseEnv } from '../env.js';
import { logger } from '../lib/logger.js';
import { intOption } from './context.js';
import { startServer } from '../server.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the HTTP service (webhooks, API, dashboard, Inngest endpoint) and its background workers')
    .option('--port <port>', 'port (default: PORT or 3000)')
    .action(async (opts: { port?: string }) => {
      const env = parseEnv();
      const database = await openDatabase({ databaseUrl: env.DATABASE_URL, dataDir: env.DATA_DIR });
      const server = await startServer(database, env, { port: intOption('port', opts.port, env.PORT) });
      logger.info({ url: server.url, database: database.kind }, 'churn is serving');
      process.stdout.write(`churn serving on ${server.url} (database: ${database.kind})\n`);
      await new Promise<void>((resolve) => {
        const shutdown = () => resolve();
        process.once('SIGINT', shutdown);
        process.once('SIGTERM', shutdown);
      });
      await server.close();
      await database.close();
    });
}
