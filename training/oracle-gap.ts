/**
 * How much of the oracle's signal a model could ever see, straight from the simulator (no database):
 * for every month-end truth record, the oracle's p30 and the same probability with the hidden terms
 * of the hazard (frailty, health) left out and the decline rate replaced by its debit/credit mean, both scored against what happened in the next 30 days.
 * The gap between the two AUCs is the part of the oracle no Stripe record can reveal.
 *
 *   npx tsx training/oracle-gap.ts --customers 20000 --months 18 --seed 42
 */
import { parseArgs } from 'node:util';
import { DAY } from '../src/lib/clock.js';
import { rocAuc } from '../src/ml/metrics.js';
import { World } from '../src/simulator/world/index.js';
import {
  currentTreatments,
  firstAttemptFailRate,
  involuntaryProbability,
  observableLogit,
  treatmentMultiplier,
  voluntaryProbability,
} from '../src/simulator/world/hazard.js';
import type { CustomerState } from '../src/simulator/world/state.js';

export interface OracleGap {
  rows: number;
  churners: number;
  monthlyChurn: number;
  oracleAuc: number;
  visibleAuc: number;
  /** voluntary churn of lost causes over sure things */
  lostCauseOverSureThing: number;
}

export async function oracleGap(options: { customers: number; months: number; seed: number }): Promise<OracleGap> {
  const world = new World(options);
  const customers = (world as unknown as { customers: CustomerState[] }).customers;
  const monthly = (world as unknown as { monthlyPaid(c: CustomerState, at: number): number }).monthlyPaid.bind(world);
  const pending: { asOf: number; slot: number; p: number; v: number }[] = [];
  const sink = { write() {}, writeSerialized() {} };
  let churned = 0;
  let live = 0;
  for (let m = 0; m < options.months; m++) {
    const stats = await world.advanceMonth(sink);
    churned += stats.churned;
    live += stats.liveAtStart;
    if (world.done) break;
    const asOf = world.now();
    for (const { slot, record } of world.truthWithIndex()) {
      const c = customers[slot]!;
      const now = currentTreatments(c, asOf);
      const pv = voluntaryProbability(observableLogit(c, asOf, monthly(c, asOf)), treatmentMultiplier(c.response, now));
      // the decline rate a model can know: the debit/credit mean, not the customer's own draw
      const pi = involuntaryProbability(Object.assign(Object.create(Object.getPrototypeOf(c)), c, { failRate: firstAttemptFailRate(c.funding === 'debit', 0, 0) * 1.05 }), asOf, now.pause);
      pending.push({ asOf, slot, p: record.p30, v: pv + (1 - pv) * pi });
    }
  }
  const end = world.now();
  const closed = pending.filter((r) => r.asOf + 30 * DAY <= end);
  const y = Float64Array.from(closed, (r) => {
    const t = world.churnTimeAt(r.slot);
    return t > r.asOf && t <= r.asOf + 30 * DAY ? 1 : 0;
  });
  const byType: Record<string, [number, number]> = {};
  for (const o of world.outcomes()) {
    const b = (byType[o.responseType] ??= [0, 0]);
    b[0]++;
    if (o.churnKind === 'voluntary') b[1]++;
  }
  const rate = (t: string) => byType[t]![1] / byType[t]![0];
  return {
    rows: closed.length,
    churners: y.reduce((a, b) => a + b, 0),
    monthlyChurn: churned / Math.max(1, live),
    oracleAuc: rocAuc(y, Float64Array.from(closed, (r) => r.p)),
    visibleAuc: rocAuc(y, Float64Array.from(closed, (r) => r.v)),
    lostCauseOverSureThing: rate('lost_cause') / rate('sure_thing'),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { customers: { type: 'string', default: '20000' }, months: { type: 'string', default: '18' }, seed: { type: 'string', default: '42' } },
  });
  const r = await oracleGap({ customers: Number(values.customers), months: Number(values.months), seed: Number(values.seed) });
  process.stdout.write(`${JSON.stringify(r)}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
