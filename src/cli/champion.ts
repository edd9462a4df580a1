import type { Database } from '../db/client.js';
import type { Env } from '../env.js';
import { ChurnError, UsageError } from '../lib/errors.js';
import { DAY_SECONDS } from '../db/queries/features.sql.js';
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

/** How far past the newest stored event `--as-of` may go: a day of quiet is normal, more is missing data. */
export const AS_OF_TOLERANCE_SECONDS = DAY_SECONDS;

/**
 * Refuses a decision time more than a day after the newest stored event: the features would read
 * the days with no stored events as days when nothing happened (no failed payment, no downgrade, the
 * card not yet replaced), so the scores would look calmer than the account is.
 */
export async function refuseAsOfBeyondData(database: Database, asOf: number, accounts?: string[]): Promise<void> {
  const window = await dataWindow(database, accounts);
  if (!window || asOf <= window.end + AS_OF_TOLERANCE_SECONDS) return;
  const iso = (t: number) => new Date(t * 1000).toISOString();
  throw new UsageError(
    `--as-of ${iso(asOf)} is after the newest stored event (${iso(window.end)}); scores there would read the missing days as days when nothing happened. ` +
      'Store the newer events first (webhooks, `churn reconcile` or `churn ingest`), or leave out --as-of to score at the newest event.',
  );
}
