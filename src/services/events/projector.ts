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
export function startProjector(database: Database, options: { intervalMs?: number; batchSize?: number } = {}): ProjectorHandle {
  const intervalMs = options.intervalMs ?? 1000;
  let stopped = false;
  let running: Promise<void> | null = null;
  let again = false;
  let failures = 0;

  const runOnce = async () => {
    do {
      again = false;
      try {
        while (!stopped && (await projectPendingEvents(database, { limit: options.batchSize ?? 500 })) > 0) {}
        failures = 0;
      } catch (err) {
        failures += 1;
        if (failures === 1 || failures % 30 === 0) logger.warn({ error: errorMessage(err) }, 'projector could not run; will retry');
      }
    } while (again && !stopped);
  };
  const wake = () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = runOnce().finally(() => {
      running = null;
    });
  };
  const timer = setInterval(wake, intervalMs);
  timer.unref();
  return {
    wake,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
    async drain() {
      wake();
      while (running) await running;
    },
  };
}
