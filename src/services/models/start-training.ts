import type { Database } from '../../db/client.js';
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
  // the run's own id, handed over as soon as its row exists (never looked up by time: two
  // servers starting runs in the same second must not answer with each other's run)
  let started!: (id: string) => void;
  const runId = new Promise<string>((resolve) => (started = resolve));
  const job = trainChurnModel(database, {
    modelDir: input.modelDir,
    now: input.now,
    asOf: input.asOf,
    horizonDays: input.horizonDays,
    seed: input.seed,
    trigger: 'api',
    writeReport: writeTrainingReport,
    onRunStarted: started,
  });
  running = job
    .catch((err) => logger.error({ err }, 'training run from the API failed'))
    .finally(() => {
      running = null;
    });
  // a job that fails before its row exists (database down) rejects here with its own error
  return Promise.race([runId, job.then(() => runId)]);
}

export function trainingInProgress(): Promise<unknown> | null {
  return running;
}
