import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createTestDatabase, describeEachDb } from '../helpers/db.js';
import type { Database } from '../../src/db/client.js';
import { migrateDatabase } from '../../src/db/client.js';

describeEachDb('database', (kind) => {
  let database: Database;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
  });
  afterAll(async () => database?.close());

  it('applies the committed migrations and can apply them again', async () => {
    await migrateDatabase(database);
    const tables = await database.query<{ table_name: string }>(
      sql`select table_name from information_schema.tables where table_schema = 'public' order by 1`,
    );
    const names = tables.map((t) => t.table_name);
    for (const t of ['stripe_events', 'outbox', 'customers', 'subscriptions', 'subscription_items', 'subscription_versions', 'invoices', 'payment_failures', 'payment_methods', 'charges', 'refunds', 'disputes', 'sync_cursors']) {
      expect(names).toContain(t);
    }
  });
});
