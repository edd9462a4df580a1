import type { Inngest } from 'inngest';
import type Stripe from 'stripe';
import type { Database } from '../db/client.js';
import type { UnixSeconds } from '../lib/clock.js';
import type { ChurnModel } from '../ml/model.js';
import type { TrainChurnModelInput } from '../services/training/train-model.js';

/** What the functions use, handed in once (the app's deps, or a test's own database). */
export interface InngestDeps {
  database: Database;
  now: () => UnixSeconds;
  /**
   * Stripe client for reconcile and for applying offers; absent (no STRIPE_SECRET_KEY) =
   * reconcile reports it skipped and the daily decision runs as a dry run.
   */
  stripe?: Stripe;
  /** the client the functions are declared on; default the app's one */
  client?: Inngest;
  /**
   * The champion model now serving (the server's hot-reloading ModelRegistry.champion); absent or
   * null = nothing has been trained yet, and scoring and deciding report themselves skipped.
   */
  champion?: () => Promise<ChurnModel | null>;
  /** called after a retrain promoted a new champion, so scoring picks it up at once (ModelRegistry.refresh) */
  refreshChampion?: () => Promise<unknown>;
  /** model registry files (MODEL_DIR); default ./models */
  modelDir?: string;
  /** training settings for retrain-model (seed, epochs, split bars); default trainChurnModel's own */
  training?: Pick<TrainChurnModelInput, 'seed' | 'modelOptions' | 'split' | 'maxSnapshots' | 'accounts'>;
  /** customers per slice of the daily scoring fan-out; default 2,000 */
  scoreBatchSize?: number;
}
