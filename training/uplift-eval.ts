/**
 * Judges the retention engine on the simulator, seed after seed (UPLIFT.md "Judging against the
 * simulator"): for each seed, the whole demo (simulate, ingest, train, then months of deciding,
 * applying through the local Stripe API with a holdout, living the month and settling outcomes),
 * then:
 * - does the report's 95 % interval of holdout-minus-treated churn contain the true effect (the
 *   mean over the same treated and held-out customers of p30 without minus with the offer)?
 * - at equal budget, how much true net value does uplift targeting keep against risk targeting?
 *
 *   npx tsx training/uplift-eval.ts --seeds 10 --customers 2000 --months 12 --retention-months 4 [--postgres]
 *
 * Prints one line per seed and one JSON summary line last.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { logger } from '../src/lib/logger.js';
import { runDemo } from '../src/demo/run-demo.js';
import { freshPostgres } from './data.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '10' },
    'first-seed': { type: 'string', default: '101' },
    customers: { type: 'string', default: '2000' },
    months: { type: 'string', default: '12' },
    'retention-months': { type: 'string', default: '4' },
    postgres: { type: 'boolean', default: false },
  },
});
logger.level = 'warn';
const seeds = Number(values.seeds);
const first = Number(values['first-seed']);
const rows: Record<string, unknown>[] = [];
for (let k = 0; k < seeds; k++) {
  const seed = first + k;
  const dir = mkdtempSync(join(tmpdir(), 'churn-uplift-eval-'));
  const started = performance.now();
  try {
    const r = await runDemo({
      customers: Number(values.customers),
      months: Number(values.months),
      seed,
      dir,
      loseEvery: 1_000_000,
      retentionMonths: Number(values['retention-months']),
      openDatabase: values.postgres ? () => freshPostgres(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test') : undefined,
      out: () => {},
    });
    const x = r.retention!;
    const t = x.targeting;
    const row = {
      seed,
      treated: x.treated,
      held: x.held,
      effect: x.effect,
      interval: x.interval,
      trueEffect: x.trueEffect,
      covered: x.covered,
      riskNet: t.risk.trueNetValue,
      upliftNet: t.uplift?.trueNetValue ?? null,
      riskChosen: t.risk.chosen,
      upliftChosen: t.uplift?.chosen ?? null,
      seconds: Math.round((performance.now() - started) / 1000),
    };
    rows.push(row);
    process.stdout.write(`${JSON.stringify(row)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const covered = rows.filter((r) => r.covered === true).length;
const withUplift = rows.filter((r) => r.upliftNet !== null);
const riskTotal = withUplift.reduce((s, r) => s + (r.riskNet as number), 0);
const upliftTotal = withUplift.reduce((s, r) => s + (r.upliftNet as number), 0);
const wins = withUplift.filter((r) => (r.upliftNet as number) >= 1.2 * (r.riskNet as number) && (r.upliftNet as number) > (r.riskNet as number)).length;
process.stdout.write(
  `${JSON.stringify({
    seeds: rows.length,
    intervalContainsTrueEffect: covered,
    seedsWithUpliftModel: withUplift.length,
    riskNetValueTotal: riskTotal,
    upliftNetValueTotal: upliftTotal,
    upliftVsRisk: riskTotal !== 0 ? (upliftTotal - riskTotal) / Math.abs(riskTotal) : null,
    seedsWhereUpliftKeeps20PercentMore: wins,
  })}\n`,
);
