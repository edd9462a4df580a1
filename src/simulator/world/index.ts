/**
 * The synthetic Stripe world: a seeded subscription business whose customers churn by a
 * documented hidden process (see hazard.ts), emitted as Stripe events.
 *
 * Payment intents and credit notes (no bearing on churn): every collection attempt's charge comes
 * with its payment intent's event (payment_intent.succeeded, or payment_intent.payment_failed with
 * last_payment_error code/decline_code); one intent per invoice, shared by its retries, created at
 * finalisation. Every refund is made through a credit note on the invoice the refunded charge paid
 * (credit_note.created, type post_payment, the refund's amount, reason product_unsatisfactory,
 * order_change or duplicate by a hash of the customer's id counter).
 */
import { MonthlyChurn, OracleCheck } from './oracle.js';
import { World, type EventSink, type MonthStats, type TruthSink, type WorldOptions } from './world.js';

export { World, addMonths, DEFAULT_START } from './world.js';
export type { WorldOptions, EventSink, TruthSink, ActionLookup, ActionState, MonthStats, CustomerOutcome } from './world.js';
export type { TruthRecord } from './hazard.js';
export { PINNED_API_VERSION, LEGACY_API_VERSION, isLegacyVersion } from './shapes.js';
export { createJsonlEventSink, createJsonlTruthSink, createWebhookSink } from './sinks.js';
export type { WebhookSinkOptions, WebhookFailure, WebhookEventSink, FileEventSink, FileTruthSink } from './sinks.js';
export { RESPONSE_TYPE_NAMES, type ResponseTypeName } from './state.js';
export { simulateToFile, type FileSimulationOptions } from './parallel.js';

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

/**
 * Runs a whole world into a sink (and the truth into a truth sink), month by month, and checks
 * the oracle against what actually happened. Memory is bounded by one month of events.
 */
export async function simulateToSink(options: WorldOptions, sink: EventSink, truthSink?: TruthSink, hooks: SimulationHooks = {}): Promise<SimulationSummary> {
  const world = new World(options);
  const oracle = new OracleCheck();
  const churn = new MonthlyChurn();
  let truthRecords = 0;
  while (!world.done) {
    const stats = await world.advanceMonth(sink);
    churn.add(stats.churned, stats.liveAtStart);
    hooks.onMonth?.(stats);
    for (const { record } of oracle.observe(world)) {
      truthRecords++;
      if (truthSink) {
        const r = truthSink.write(record);
        if (r) await r;
      }
    }
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
    meanMonthlyChurn: churn.mean(),
    truthRecords,
    oracleAuc: oracle.auc(),
  };
}
