import type { Command } from 'commander';
import { UsageError } from '../lib/errors.js';
import { createApiKey, isRole, listApiKeys, revokeApiKey, ROLES } from '../services/auth/index.js';
import { withDatabase } from './context.js';

/** `churn keys create|list|revoke`: API keys for the /v1 HTTP API. The whole key is printed once. */
export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('API keys for the HTTP API (roles: viewer < editor < admin)');
  keys
    .command('create')
    .description('create a key and print it once (only its hash is stored)')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`)
    .option('--name <name>', 'what the key is for')
    .action(async (opts: { role: string; name?: string }) => {
      if (!isRole(opts.role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
      const role = opts.role;
      await withDatabase(async (database) => {
        const { key, apiKey } = await createApiKey(database, { role, name: opts.name, actor: 'cli', now: new Date() });
        process.stdout.write(`${key}\n`);
        process.stderr.write(`created ${apiKey.prefix} (${apiKey.role}); store the key now: it is not shown again\n`);
      });
    });
  keys
    .command('list')
    .description('list keys by prefix')
    .action(async () => {
      await withDatabase(async (database) => {
        for (const k of await listApiKeys(database)) {
          process.stdout.write(`${k.prefix}  ${k.role.padEnd(6)}  ${k.name ?? '-'}  created ${k.createdAt.toISOString()}  last used ${k.lastUsedAt?.toISOString() ?? 'never'}${k.revokedAt ? `  REVOKED ${k.revokedAt.toISOString()}` : ''}\n`);
        }
      });
    });
  keys
    .command('revoke <prefix>')
    .description('revoke a key by its prefix (churn_live_xxxxxxxx)')
    .action(async (prefix: string) => {
      await withDatabase(async (database) => {
        const k = await revokeApiKey(database, prefix, 'cli', new Date());
        process.stdout.write(`revoked ${k.prefix}\n`);
      });
    });
}
