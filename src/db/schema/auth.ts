import { index, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * API keys. The visible prefix (`churn_live_ab12cd34`) names a key in lists, logs and the audit
 * log; only the SHA-256 of the secret is stored (the secret is high-entropy random, so a slow
 * password hash buys nothing), and it is compared in constant time.
 */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: text('id').primaryKey(),
    prefix: text('prefix').notNull().unique(),
    name: text('name'),
    /** viewer | editor | admin */
    role: text('role').notNull(),
    secretHash: text('secret_hash').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [index('api_keys_created_idx').on(t.createdAt)],
);
