import type { Database } from '../../db/client.js';
import { errorMessage } from '../../lib/errors.js';
import { logger } from '../../lib/logger.js';
import { projectPendingEvents } from './ingest.js';

export interface ProjectorHandle {
  /** run soon: new events were stored */
  wake(): void;
  /** resolves once the current batch is finished */
  stop(): Promise<void>;
  /** resolves when nothing is pending (tests, graceful shutdown) */
  drain(): Promise<void>;
}

/**
 * Background projection for the webhook path: the route stores and answers at once, this
 * worker catches the projections up (woken per delivery, and on an interval in case another
 * process stored events). Safe to run in several processes (rows are claimed with SKIP LOCKED).
 */
export function startProjector(database: Database, options: { intervalMs?: number; batchSize?: number; coalesceMs?: number } = {}): ProjectorHandle {
  const intervalMs = options.intervalMs ?? 1000;
  // Deliveries come in bursts. Acknowledging Stripe is the critical path and projections feed
  // daily scores, so the projector waits a second and then projects everything that arrived in
  // large set-based batches, instead of one small transaction per delivery competing with the
  // webhook path for the CPU.
  const coalesceMs = options.coalesceMs ?? 1000;
  let scheduled: NodeJS.Timeout | null = null;
  let stopped = false;
  let running: Promise<void> | null = null;
  let again = false;
  let failures = 0;

  const runOnce = async () => {
    do {
      again = false;
      try {
        // Keep going only while batches come back full; a partial batch means we caught up, and
        // the next wake-up will find a larger batch than an immediate retry would.
        const limit = options.batchSize ?? 1000;
        while (!stopped && (await projectPendingEvents(database, { limit })) >= limit) {}
        failures = 0;
      } catch (err) {
        failures += 1;
        if (failures === 1 || failures % 30 === 0) logger.warn({ error: errorMessage(err) }, 'projector could not run; will retry');
      }
    } while (again && !stopped);
  };
  const run = () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = runOnce().finally(() => {
      running = null;
    });
  };
  const wake = () => {
    if (stopped || scheduled) return;
    scheduled = setTimeout(() => {
      scheduled = null;
      run();
    }, coalesceMs);
  };
  const timer = setInterval(run, intervalMs);
  timer.unref();
  return {
    wake,
    async stop() {
      stopped = true;
      clearInterval(timer);
      if (scheduled) clearTimeout(scheduled);
      await running;
    },
    async drain() {
      run();
      while (running) await running;
    },
  };
}
