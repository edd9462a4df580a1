import type { Database } from '../db/client.js';
import type { Env } from '../env.js';
import { ChurnError } from '../lib/errors.js';
import { initBackend } from '../ml/backend.js';
import { dataWindow } from '../ml/dataset.js';
import { featureSet } from '../ml/features.js';
import type { ChurnModel } from '../ml/model.js';
import { ModelRegistry } from '../ml/registry.js';

/** The champion model and the decision time for commands that score: `--as-of`, or the newest stored event. */
export async function championAndAsOf(database: Database, env: Env, asOf: number | undefined, accounts?: string[]): Promise<{ model: ChurnModel; asOf: number }> {
  await initBackend(env.TFJS_BACKEND);
  const registry = new ModelRegistry({ db: database.db, modelDir: env.MODEL_DIR, featureSet: featureSet() });
  const model = await registry.refresh();
  if (!model) {
    const why = registry.status().lastError;
    throw new ChurnError('CONFLICT', why ? `the champion model cannot be loaded: ${why}` : 'no champion model yet: run `churn train` first');
  }
  const when = asOf ?? (await dataWindow(database, accounts))?.end;
  if (when === undefined) throw new ChurnError('VALIDATION_FAILED', 'no billing data to score: ingest Stripe events first');
  return { model, asOf: when };
}
