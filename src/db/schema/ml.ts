import { sql } from 'drizzle-orm';
import { index, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/**
 * Every trained model version. Files live under MODEL_DIR/<name>/<version>/ (model.json,
 * weights.bin, metadata.json); this table says which version serves. At most one champion per
 * name (partial unique index), so a promotion can never leave two in service.
 */
export const modelVersions = pgTable(
  'model_versions',
  {
    name: text('name').notNull(),
    /** sortable: v20261127T101500Z-<short data hash> */
    version: text('version').notNull(),
    /** candidate | champion | retired */
    status: text('status').notNull().default('candidate'),
    /** held-out metrics of the model and its baseline, as written in metadata.json */
    metrics: jsonb('metrics').$type<Record<string, unknown>>().notNull(),
    /** directory of the model files, relative to MODEL_DIR when possible */
    path: text('path').notNull(),
    featureVersion: text('feature_version'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    promotedAt: timestamp('promoted_at', { withTimezone: true }),
    retiredAt: timestamp('retired_at', { withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.name, t.version] }),
    uniqueIndex('model_versions_one_champion_uq').on(t.name).where(sql`${t.status} = 'champion'`),
    index('model_versions_status_idx').on(t.name, t.status),
  ],
);

/**
 * One row per training attempt (CLI, API or Inngest), so the growth team can see what ran,
 * on which window, with what result, and why a candidate was or was not promoted.
 */
export const trainingRuns = pgTable(
  'training_runs',
  {
    id: text('id').primaryKey(),
    modelName: text('model_name').notNull(),
    /** running | succeeded | failed (a run's row is written when it starts) */
    status: text('status').notNull(),
    /** who asked: cli | api | schedule | demo */
    trigger: text('trigger').notNull().default('cli'),
    /** as-of, horizon, seed, epochs... whatever the trainer was called with */
    params: jsonb('params').$type<Record<string, unknown>>().notNull().default({}),
    modelVersion: text('model_version'),
    metrics: jsonb('metrics').$type<Record<string, unknown>>(),
    /** promotion decision and its reason */
    decision: jsonb('decision').$type<Record<string, unknown>>(),
    reportPath: text('report_path'),
    error: text('error'),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [index('training_runs_model_started_idx').on(t.modelName, t.startedAt)],
);
