import { sql } from 'drizzle-orm';
import { bigint, index, jsonb, pgTable, real, text, uniqueIndex } from 'drizzle-orm/pg-core';

/**
 * Anomalies the service found in its own data (src/services/alerts). One row per episode: opened
 * when a check first fires for a (kind, key), updated at every check while it keeps firing, closed
 * when it clears. The partial unique index makes "one open alert per kind and key" a database fact,
 * so two checks running at once cannot open it twice.
 *
 * kind: payment_failure_spike | webhook_rejection_spike | processing_lag_spike | score_drift | budget_pace
 * key: what it is about (an account id, a policy id, a model version, 'all')
 */
export const alerts = pgTable(
  'alerts',
  {
    id: text('id').primaryKey(),
    kind: text('kind').notNull(),
    key: text('key').notNull(),
    /** 'warning' | 'critical' */
    severity: text('severity').notNull(),
    /** one sentence for a person, as of the last check */
    message: text('message').notNull(),
    /** the observed value and the bar it crossed (a rate, a z-score, a PSI, a share of budget) */
    value: real('value').notNull(),
    threshold: real('threshold').notNull(),
    /** the figures the detector computed, as of the last check */
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
    /** unix seconds */
    openedAt: bigint('opened_at', { mode: 'number' }).notNull(),
    lastSeenAt: bigint('last_seen_at', { mode: 'number' }).notNull(),
    closedAt: bigint('closed_at', { mode: 'number' }),
    /** when ALERT_WEBHOOK_URL accepted the opening and the closing notice; null = not (yet) delivered */
    notifiedOpenAt: bigint('notified_open_at', { mode: 'number' }),
    notifiedCloseAt: bigint('notified_close_at', { mode: 'number' }),
  },
  (t) => [
    uniqueIndex('alerts_one_open_uq').on(t.kind, t.key).where(sql`${t.closedAt} is null`),
    index('alerts_opened_idx').on(t.openedAt),
  ],
);
