import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { UsageError } from '../lib/errors.js';
import { createProgress } from '../lib/progress.js';
import { ingestEvents, rebuildProjections } from '../services/events/ingest.js';
import { DEFAULT_MAX_LINE_BYTES, readEventLines, validateEventFile } from '../services/events/read-jsonl.js';
import { countStoredEvents } from '../services/events/store.js';
import { intOption, withDatabase } from './context.js';

export function registerIngest(program: Command): void {
  program
    .command('ingest')
    .description('store and project Stripe events from a JSONL file (one event object per line, as GET /v1/events returns them)')
    .argument('<file>', 'events.jsonl')
    .option('--skip-invalid', 'store the valid lines even when some lines are malformed (still exits 1, naming the skipped lines)')
    .option('--max-line-bytes <n>', `longest line read as one event (default ${DEFAULT_MAX_LINE_BYTES}, 16 MiB)`)
    .action(async (file: string, opts: { skipInvalid?: boolean; maxLineBytes?: string }) => {
      if (!existsSync(file)) throw new UsageError(`no such file: ${file}`);
      const maxLineBytes = intOption('max-line-bytes', opts.maxLineBytes, DEFAULT_MAX_LINE_BYTES);
      if (maxLineBytes < 1) throw new UsageError('--max-line-bytes must be at least 1');
      const check = await validateEventFile(file, { maxLineBytes });
      for (const b of check.bad) process.stderr.write(`${file}:${b.line}: ${b.reason}\n`);
      if (check.badCount > check.bad.length) process.stderr.write(`${file}: … and ${check.badCount - check.bad.length} more malformed line(s)\n`);
      if (check.badCount > 0 && !opts.skipInvalid) {
        throw new Error(`${check.badCount} malformed line(s); nothing was stored (fix them, or pass --skip-invalid to store the ${check.valid} valid ones)`);
      }
      await withDatabase(async (database) => {
        const progress = createProgress('ingest', check.valid);
        async function* valid() {
          for await (const r of readEventLines(file, { maxLineBytes })) if (r.event) yield r.event;
        }
        const summary = await ingestEvents(database, valid(), {
          source: 'ingest',
          countRepeats: true,
          onBatch: (b) => progress.tick(b.stored + b.duplicates + (b.repeated ?? 0)),
        });
        progress.stop();
        const total = await countStoredEvents(database.db);
        const parts = [`ingested ${summary.stored} new event(s)`, `${summary.duplicates} already stored`];
        if (summary.repeated) parts.push(`${summary.repeated} repeated id(s) inside the file (stored once)`);
        if (check.badCount) parts.push(`${check.badCount} malformed line(s) skipped`);
        process.stdout.write(`${parts.join(', ')}; ${total} event(s) in the store\n`);
        // Skipping was asked for, but the file was still not clean: a script must notice.
        if (check.badCount > 0) {
          process.stderr.write(`churn: ${check.badCount} malformed line(s) were skipped (exit 1)\n`);
          process.exitCode = 1;
        }
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
