import type { Inngest } from 'inngest';
import type Stripe from 'stripe';
import type { Database } from '../db/client.js';
import type { UnixSeconds } from '../lib/clock.js';

/** What the functions use, handed in once (the app's deps, or a test's own database). */
export interface InngestDeps {
  database: Database;
  now: () => UnixSeconds;
  /** Stripe client for reconcile; absent (no STRIPE_SECRET_KEY) = reconcile reports it skipped */
  stripe?: Stripe;
  /** the client the functions are declared on; default the app's one */
  client?: Inngest;
}
