/**
 * The model judged on both synthetic businesses: the first simulator (saas: per-seat plans, dunning,
 * card expiries) and the consumer streaming world (many add-ons, contracts, manual payers). For
 * every world and seed, a fresh database is simulated through the ingest path, trained with model
 * selection, and the served model, the tuned logistic baseline and the world's oracle are scored on
 * the same held-out months: ROC-AUC, PR-AUC, ECE. Seeded; prints a Markdown table, then one JSON
 * line per run.
 *
 *   npx tsx training/worlds.ts --customers 10000 --months 18 --seeds 1,2 [--postgres] [--ablate]
 *
 * Bars (README "How the model is judged"): the served model's ROC-AUC at least the logistic
 * baseline's minus 0.005, and within 0.02 of the oracle, or of the visible oracle (the oracle with
 * the world's hidden terms left out, from the truth records) where the world hides terms.
 */
import { parseArgs } from 'node:util';
import { openDatabase, type Database } from '../src/db/client.js';
import { freshPostgres } from './data.js';
import { measureQuality, type QualityResult } from './quality.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      customers: { type: 'string', default: '10000' },
      months: { type: 'string', default: '18' },
      seeds: { type: 'string', default: '1,2' },
      worlds: { type: 'string', default: 'saas,consumer' },
      postgres: { type: 'boolean', default: false },
      ablate: { type: 'boolean', default: false },
    },
  });
  const seeds = values.seeds.split(',').map(Number);
  const worlds = values.worlds.split(',') as ('saas' | 'consumer')[];
  if (seeds.some((s) => !Number.isInteger(s)) || worlds.some((w) => w !== 'saas' && w !== 'consumer')) {
    process.stderr.write('usage: tsx training/worlds.ts [--customers N] [--months M] [--seeds 1,2] [--worlds saas,consumer] [--postgres] [--ablate]\n');
    process.exit(2);
  }
  const results: QualityResult[] = [];
  for (const world of worlds) {
    for (const seed of seeds) {
      const database: Database = values.postgres ? await freshPostgres(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres') : await openDatabase({ dataDir: ':memory:' });
      try {
        const r = await measureQuality(database, { world, seed, customers: Number(values.customers), months: Number(values.months), ablate: values.ablate, quiet: true });
        results.push(r);
        process.stderr.write(`${world} seed ${seed}: served ${r.chosen} ${r.modelAuc.toFixed(4)}, logistic ${r.baselineAuc.toFixed(4)}, oracle ${r.oracleAuc.toFixed(4)}, visible oracle ${r.visibleAuc.toFixed(4)}\n`);
      } finally {
        await database.close();
      }
    }
  }
  const f = (v: number) => (Number.isNaN(v) ? '–' : v.toFixed(3));
  const d = (v: number) => (Number.isNaN(v) ? '–' : v.toFixed(4));
  const lines = [
    `${values.customers} customers x ${values.months} months per run; held-out months scored (${values.postgres ? 'PostgreSQL' : 'PGlite'}); visible = the oracle with the world's hidden terms left out`,
    '',
    '| world | seed | served model | ROC-AUC served / logistic / oracle / visible | PR-AUC served / logistic / oracle / visible | ECE served / logistic / oracle | served - logistic | served - oracle | served - visible |' + (values.ablate ? ' served ROC-AUC without v4 columns |' : ''),
    '|---|---|---|---|---|---|---|---|---|' + (values.ablate ? '---|' : ''),
    ...results.map(
      (r) =>
        `| ${r.world} | ${r.seed} | ${r.chosen} | ${f(r.modelAuc)} / ${f(r.baselineAuc)} / ${f(r.oracleAuc)} / ${f(r.visibleAuc)} | ${f(r.modelPrAuc)} / ${f(r.baselinePrAuc)} / ${f(r.oraclePrAuc)} / ${f(r.visiblePrAuc)} | ${f(r.modelEce)} / ${f(r.baselineEce)} / ${f(r.oracleEce)} | ${d(r.modelAuc - r.baselineAuc)} | ${d(r.modelAuc - r.oracleAuc)} | ${d(r.modelAuc - r.visibleAuc)} |` +
        (values.ablate ? ` ${r.withoutAccountStructure ? f(r.withoutAccountStructure.modelAuc) : '–'} |` : ''),
    ),
    '',
    ...results.map((r) => JSON.stringify(r)),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
