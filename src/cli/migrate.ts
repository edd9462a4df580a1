import type { Command } from 'commander';
import { withDatabase } from './context.js';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('apply the committed database migrations')
    .action(async () => {
      await withDatabase(async (database) => {
        process.stdout.write(`migrations applied (${database.kind})\n`);
      });
    });
}
