import { and, eq } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { trainingRuns } from '../../db/schema/index.js';
import { ChurnError } from '../../lib/errors.js';
import { logger } from '../../lib/logger.js';
import { trainChurnModel } from '../training/train-model.js';
import { writeTrainingReport } from '../training/write-report.js';

/**
 * Training started from the API runs in this process, in the background, one at a time (the
 * machine's cores are shared with serving). The answer waits only until the run's row exists,
 * so the caller gets a run id to poll.
 */
let running: Promise<unknown> | null = null;

export async function startTrainingInBackground(
  database: Database,
  input: { modelDir: string; now: Date; asOf?: number; horizonDays?: number; seed?: number },
): Promise<string> {
  if (running) throw new ChurnError('CONFLICT', 'a training run started from the API is still running');
  const job = trainChurnModel(database, { modelDir: input.modelDir, now: input.now, asOf: input.asOf, horizonDays: input.horizonDays, seed: input.seed, trigger: 'api', writeReport: writeTrainingReport });
  running = job
    .catch((err) => logger.error({ err }, 'training run from the API failed'))
    .finally(() => {
      running = null;
    });
  // trainChurnModel's first step inserts the run row (trigger api, started at `now`)
  for (let i = 0; i < 500; i++) {
    const [row] = await database.db.select({ id: trainingRuns.id }).from(trainingRuns).where(and(eq(trainingRuns.trigger, 'api'), eq(trainingRuns.startedAt, input.now)));
    if (row) return row.id;
    const settled = await Promise.race([job.then(() => true, () => true), new Promise((r) => setTimeout(() => r(false), 10))]);
    if (settled && i > 0) {
      const [again] = await database.db.select({ id: trainingRuns.id }).from(trainingRuns).where(and(eq(trainingRuns.trigger, 'api'), eq(trainingRuns.startedAt, input.now)));
      if (again) return again.id;
      await job; // rethrows why it could not start
    }
  }
  throw new ChurnError('UNAVAILABLE', 'the training run did not start in time');
}

export function trainingInProgress(): Promise<unknown> | null {
  return running;
}
