/**
 * The synthetic Stripe world: a seeded subscription business whose customers churn by a
 * documented hidden process (see hazard.ts), emitted as Stripe events.
 */
import { DAY } from '../../lib/clock.js';
import { World, type EventSink, type MonthStats, type TruthSink, type WorldOptions } from './world.js';

export { World, addMonths, DEFAULT_START } from './world.js';
export type { WorldOptions, EventSink, TruthSink, ActionLookup, ActionState, MonthStats, CustomerOutcome } from './world.js';
export type { TruthRecord } from './hazard.js';
export { PINNED_API_VERSION, LEGACY_API_VERSION, isLegacyVersion } from './shapes.js';
export { createJsonlEventSink, createJsonlTruthSink, createWebhookSink } from './sinks.js';
export type { WebhookSinkOptions, WebhookFailure, WebhookEventSink, FileEventSink, FileTruthSink } from './sinks.js';
export { RESPONSE_TYPE_NAMES, type ResponseTypeName } from './state.js';

export interface SimulationSummary {
  customers: number;
  months: number;
  accounts: number;
  apiVersion: string;
  seed: number;
  start: number;
  end: number;
  events: number;
  signups: number;
  voluntaryChurn: number;
  involuntaryChurn: number;
  /** mean over months of churned / live at month start */
  meanMonthlyChurn: number;
  truthRecords: number;
  /** ROC-AUC of the truth's p30 against realised 30-day churn, over month-end snapshots whose window closed */
  oracleAuc: number | null;
}

export interface SimulationHooks {
  onMonth?(stats: MonthStats): void;
}

const AUC_BINS = 8192;

/** Streams ROC-AUC from a histogram of scores, so month-end snapshots need no storage. */
class AucHistogram {
  private readonly pos = new Float64Array(AUC_BINS);
  private readonly neg = new Float64Array(AUC_BINS);
  add(p: number, churned: boolean): void {
    const bin = Math.min(AUC_BINS - 1, Math.floor(p * AUC_BINS));
    (churned ? this.pos : this.neg)[bin]!++;
  }
  auc(): number | null {
    let negBelow = 0;
    let area = 0;
    let positives = 0;
    for (let b = 0; b < AUC_BINS; b++) {
      area += this.pos[b]! * (negBelow + this.neg[b]! / 2);
      negBelow += this.neg[b]!;
      positives += this.pos[b]!;
    }
    if (positives === 0 || negBelow === 0) return null;
    return area / (positives * negBelow);
  }
}

/**
 * Runs a whole world into a sink (and the truth into a truth sink), month by month, and checks
 * the oracle against what actually happened. Memory is bounded by one month of events.
 */
export async function simulateToSink(options: WorldOptions, sink: EventSink, truthSink?: TruthSink, hooks: SimulationHooks = {}): Promise<SimulationSummary> {
  const world = new World(options);
  const auc = new AucHistogram();
  const pending: { asOf: number; p: Float32Array }[] = [];
  let truthRecords = 0;
  let churnSum = 0;
  let churnMonths = 0;
  while (!world.done) {
    const stats = await world.advanceMonth(sink);
    if (stats.liveAtStart > 0) {
      churnSum += stats.churned / stats.liveAtStart;
      churnMonths++;
    }
    hooks.onMonth?.(stats);
    const now = world.now();
    const churnTimes = world.churnTimes();
    while (pending.length > 0 && pending[0]!.asOf + 30 * DAY <= now) {
      const snapshot = pending.shift()!;
      snapshot.p.forEach((p, i) => {
        if (Number.isNaN(p)) return;
        const t = churnTimes[i]!;
        auc.add(p, t > snapshot.asOf && t <= snapshot.asOf + 30 * DAY);
      });
    }
    const p = new Float32Array(world.options.customers).fill(Number.NaN);
    for (const { index, record } of world.truthWithIndex()) {
      p[index] = record.p30;
      truthRecords++;
      if (truthSink) {
        const r = truthSink.write(record);
        if (r) await r;
      }
    }
    pending.push({ asOf: now, p });
  }
  const totals = world.totals;
  return {
    customers: world.options.customers,
    months: world.options.months,
    accounts: world.options.accounts,
    apiVersion: world.options.apiVersion,
    seed: world.options.seed,
    start: world.options.start,
    end: world.now(),
    events: totals.events,
    signups: totals.signups,
    voluntaryChurn: totals.voluntary,
    involuntaryChurn: totals.involuntary,
    meanMonthlyChurn: churnMonths ? churnSum / churnMonths : 0,
    truthRecords,
    oracleAuc: auc.auc(),
  };
}
