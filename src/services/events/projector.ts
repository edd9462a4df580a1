import type { Database } from '../../db/client.js';
import { errorMessage } from '../../lib/errors.js';
import { logger } from '../../lib/logger.js';
import { projectPendingEvents } from './ingest.js';

export interface ProjectorHandle {
  /** new events were stored (one call per delivery) */
  wake(): void;
  /** resolves once the current batch is finished */
  stop(): Promise<void>;
  /** projects everything pending now, whatever the load (tests, graceful shutdown) */
  drain(): Promise<void>;
}

export interface ProjectorOptions {
  /** how often to look for events stored by other processes, ms (default 1000) */
  intervalMs?: number;
  /** events per projection transaction (default 1000) */
  batchSize?: number;
  /** deliveries per second above which projection yields to acknowledging webhooks (default 100) */
  busyRate?: number;
  /** the longest projection may be deferred while busy, ms (default 15000) */
  maxLagMs?: number;
  /** milliseconds clock (tests) */
  clock?: () => number;
}

/**
 * Background projection for the webhook path: the route stores and answers at once, and this
 * worker brings the projections up to date in large set-based batches. Acknowledging Stripe is
 * the critical path (it retries slow answers) while projections feed scores computed daily, so
 * during a burst of deliveries the projector yields the CPU to the webhook path and catches up
 * as soon as the burst ends, or after `maxLagMs` at the latest. Safe to run in several
 * processes (rows are claimed with SKIP LOCKED).
 */
export function startProjector(database: Database, options: ProjectorOptions = {}): ProjectorHandle {
  const intervalMs = options.intervalMs ?? 1000;
  const busyRate = options.busyRate ?? 100;
  const maxLagMs = options.maxLagMs ?? 15_000;
  const clock = options.clock ?? (() => Date.now());
  const limit = options.batchSize ?? 1000;
  let stopped = false;
  let running: Promise<void> | null = null;
  let failures = 0;
  // deliveries counted per second, and when the oldest unprojected delivery arrived
  let windowStart = clock();
  let windowCount = 0;
  let lastRate = 0;
  let pendingSince: number | null = null;

  const runOnce = async () => {
    try {
      // Keep going while batches come back full; a partial batch means we caught up.
      while (!stopped && (await projectPendingEvents(database, { limit })) >= limit) {}
      failures = 0;
    } catch (err) {
      failures += 1;
      if (failures === 1 || failures % 30 === 0) logger.warn({ error: errorMessage(err) }, 'projector could not run; will retry');
    }
  };
  const start = () => {
    if (stopped || running) return running ?? Promise.resolve();
    pendingSince = null;
    running = runOnce().finally(() => {
      running = null;
    });
    return running;
  };
  const tick = () => {
    const now = clock();
    if (now - windowStart >= 1000) {
      lastRate = (windowCount * 1000) / (now - windowStart);
      windowStart = now;
      windowCount = 0;
    }
    const busy = lastRate > busyRate;
    const overdue = pendingSince !== null && now - pendingSince >= maxLagMs;
    if (!busy || overdue) void start();
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return {
    wake() {
      windowCount += 1;
      if (pendingSince === null) pendingSince = clock();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
    async drain() {
      while (running) await running;
      await start();
    },
  };
}
