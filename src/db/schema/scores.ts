import { bigint, index, jsonb, pgTable, primaryKey, real, text, timestamp } from 'drizzle-orm/pg-core';
import type { Driver, RiskBand } from '../../ml/types.js';

/**
 * One churn score per customer, snapshot time and model version. `asOf` is the point in time the
 * features were computed at (unix seconds, like every Stripe time in the projections), so a score can
 * always be traced to the exact data and model that produced it; re-scoring the same snapshot with
 * the same model replaces the row instead of duplicating it.
 */
export const scores = pgTable(
  'scores',
  {
    account: text('account').notNull(),
    customerId: text('customer_id').notNull(),
    asOf: bigint('as_of', { mode: 'number' }).notNull(),
    modelName: text('model_name').notNull(),
    modelVersion: text('model_version').notNull(),
    /** calibrated probability of churning within the model's horizon */
    probability: real('probability').notNull(),
    band: text('band').$type<RiskBand>().notNull(),
    /** top drivers, largest contribution first */
    drivers: jsonb('drivers').$type<Driver[]>().notNull().default([]),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.account, t.customerId, t.asOf, t.modelName, t.modelVersion] }),
    index('scores_customer_latest_idx').on(t.account, t.customerId, t.asOf),
    index('scores_model_as_of_idx').on(t.modelName, t.modelVersion, t.asOf),
    // GET /v1/customers pages through one snapshot by (probability desc, account, customer id): an index range scan at any size
    index('scores_snapshot_rank_idx').on(t.modelName, t.modelVersion, t.asOf, t.probability.desc().nullsFirst(), t.account, t.customerId),
  ],
);
