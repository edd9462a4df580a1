/**
 * How much of the oracle's signal a model could ever see, straight from the simulator (no database):
 * for every month-end truth record, the oracle's p30 and the visible oracle's (the truth record's
 * p30Visible: saas leaves out the hazard's hidden frailty and health terms and replaces the decline
 * rate by its debit/credit mean; consumer sets the hidden frailty to its mean), both scored against
 * what happened in the next 30 days. The gap between the two AUCs is the part of the oracle no
 * Stripe record can reveal. training/worlds.ts prints the visible oracle on the held-out rows too.
 *
 *   npx tsx training/oracle-gap.ts --customers 20000 --months 18 --seed 42 [--world consumer]
 */
import { parseArgs } from 'node:util';
import { DAY } from '../src/lib/clock.js';
import { rocAuc } from '../src/ml/metrics.js';
import { World } from '../src/simulator/world/index.js';
import { simulateConsumerToSink } from '../src/simulator/consumer/world.js';

export interface OracleGap {
  rows: number;
  churners: number;
  monthlyChurn: number;
  oracleAuc: number;
  visibleAuc: number;
  /** saas only: voluntary churn of lost causes over sure things */
  lostCauseOverSureThing?: number;
}

export async function oracleGap(options: { customers: number; months: number; seed: number }): Promise<OracleGap> {
  const world = new World(options);
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
    for (const { slot, record } of world.truthWithIndex()) pending.push({ asOf, slot, p: record.p30, v: record.p30Visible });
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

/**
 * The same for the consumer world: churn times read from its events (the cancellation request, or
 * the deletion for non-payment), truth at every month start.
 */
export async function consumerOracleGap(options: { customers: number; months: number; seed: number }): Promise<OracleGap> {
  const churnAt = new Map<string, number>();
  const truth: { customer: string; asOf: number; p: number; v: number }[] = [];
  const summary = await simulateConsumerToSink(
    options,
    {
      write(event) {
        const e = event as { type: string; created: number; data: { object: { customer: string; cancel_at_period_end?: boolean; cancellation_details?: { reason: string | null } }; previous_attributes?: { cancel_at_period_end?: boolean } } };
        const o = e.data.object;
        if (churnAt.has(o.customer)) return;
        const requested = e.type === 'customer.subscription.updated' && o.cancel_at_period_end === true && e.data.previous_attributes?.cancel_at_period_end === false;
        const unpaid = e.type === 'customer.subscription.deleted' && o.cancellation_details?.reason === 'payment_failed';
        if (requested || unpaid) churnAt.set(o.customer, e.created);
      },
    },
    { write: (r) => void truth.push({ customer: r.customer, asOf: r.asOf, p: r.p30, v: r.p30Visible }) },
  );
  const closed = truth.filter((r) => r.asOf + 30 * DAY <= summary.end);
  const y = Float64Array.from(closed, (r) => {
    const t = churnAt.get(r.customer) ?? 0;
    return t > r.asOf && t <= r.asOf + 30 * DAY ? 1 : 0;
  });
  const live = truth.length;
  return {
    rows: closed.length,
    churners: y.reduce((a, b) => a + b, 0),
    monthlyChurn: (summary.voluntaryChurn + summary.involuntaryChurn) / Math.max(1, live),
    oracleAuc: rocAuc(y, Float64Array.from(closed, (r) => r.p)),
    visibleAuc: rocAuc(y, Float64Array.from(closed, (r) => r.v)),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { customers: { type: 'string', default: '20000' }, months: { type: 'string', default: '18' }, seed: { type: 'string', default: '42' }, world: { type: 'string', default: 'saas' } },
  });
  if (values.world !== 'saas' && values.world !== 'consumer') throw new Error(`--world must be saas or consumer, got ${values.world}`);
  const options = { customers: Number(values.customers), months: Number(values.months), seed: Number(values.seed) };
  const r = values.world === 'consumer' ? await consumerOracleGap(options) : await oracleGap(options);
  process.stdout.write(`${JSON.stringify(r)}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
