import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { UsageError } from '../lib/errors.js';
import { createProgress } from '../lib/progress.js';
import { ingestEvents, rebuildProjections } from '../services/events/ingest.js';
import { readEventLines, validateEventFile } from '../services/events/read-jsonl.js';
import { countStoredEvents } from '../services/events/store.js';
import { withDatabase } from './context.js';

export function registerIngest(program: Command): void {
  program
    .command('ingest')
    .description('store and project Stripe events from a JSONL file (one event object per line, as GET /v1/events returns them)')
    .argument('<file>', 'events.jsonl')
    .option('--skip-invalid', 'store the valid lines even when some lines are malformed')
    .action(async (file: string, opts: { skipInvalid?: boolean }) => {
      if (!existsSync(file)) throw new UsageError(`no such file: ${file}`);
      const check = await validateEventFile(file);
      for (const b of check.bad) process.stderr.write(`${file}:${b.line}: ${b.reason}\n`);
      if (check.bad.length > 0 && !opts.skipInvalid) {
        throw new Error(`${check.bad.length} malformed line(s); nothing was stored (fix them, or pass --skip-invalid to store the ${check.valid} valid ones)`);
      }
      await withDatabase(async (database) => {
        const progress = createProgress('ingest', check.valid);
        async function* valid() {
          for await (const r of readEventLines(file)) if (r.event) yield r.event;
        }
        const summary = await ingestEvents(database, valid(), {
          source: 'ingest',
          onBatch: (b) => progress.tick(b.stored + b.duplicates),
        });
        progress.stop();
        const total = await countStoredEvents(database.db);
        process.stdout.write(
          `ingested ${summary.stored} new event(s), ${summary.duplicates} already stored${check.bad.length ? `, ${check.bad.length} malformed line(s) skipped` : ''}; ${total} event(s) in the store\n`,
        );
        if (check.bad.length > 0) process.exitCode = 1;
      });
    });

  program
    .command('rebuild')
    .description('rebuild every projection from the stored events (gives the same rows as incremental projection)')
    .action(async () => {
      await withDatabase(async (database) => {
        const total = await countStoredEvents(database.db);
        const progress = createProgress('rebuild', total);
        const n = await rebuildProjections(database, { onBatch: (k) => progress.tick(k) });
        progress.stop();
        process.stdout.write(`rebuilt projections from ${n} stored event(s)\n`);
      });
    });
}
