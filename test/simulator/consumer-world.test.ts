import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';
import { buildTrainingSet } from '../../src/ml/dataset.js';
import { rocAuc } from '../../src/ml/metrics.js';
import { simulateConsumerToSink } from '../../src/simulator/consumer/world.js';
import { simulateConsumerIntoDatabase, type OracleTable } from '../../training/data.js';

describe('the consumer world (second synthetic business)', () => {
  it('is reproducible: the same seed gives the same events', async () => {
    const run = async (seed: number) => {
      const events: string[] = [];
      await simulateConsumerToSink({ customers: 60, months: 4, seed }, { write: (e) => void events.push(JSON.stringify(e)) });
      return events;
    };
    const [a, b, c] = [await run(3), await run(3), await run(4)];
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    // events come in created order
    const created = a.map((e) => (JSON.parse(e) as { created: number }).created);
    expect(created).toEqual([...created].sort((x, y) => x - y));
  });

  describe('ingested through the product path', () => {
    let db: Database;
    let oracle: OracleTable;
    beforeAll(async () => {
      db = await openDatabase({ dataDir: ':memory:' });
      ({ oracle } = await simulateConsumerIntoDatabase(db, { customers: 600, months: 9, seed: 2, quiet: true }));
    });
    afterAll(async () => db?.close());

    it('has the structure it promises: add-ons, contracts, manual payers, catalogue vocabulary', async () => {
      const set = await buildTrainingSet(db, { horizonDays: 30, split: { minTrainPositives: 5 } });
      expect(set.vocabulary.products.map((p) => p.label)).toContain('Streaming Basic');
      expect(set.vocabulary.products.length).toBeGreaterThan(4);
      const rows = await db.query<{ manual: number; multi: number; addons: number }>((await import('drizzle-orm')).sql`
        select avg((collection_method = 'send_invoice')::int)::float8 as manual,
               avg((interval = 'year' and interval_count = 2)::int)::float8 as multi,
               avg(item_count - 1)::float8 as addons
        from subscriptions where status = 'active'`);
      expect(rows[0]!.manual).toBeGreaterThan(0.3);
      expect(rows[0]!.multi).toBeGreaterThan(0.05);
      expect(rows[0]!.addons).toBeGreaterThan(0.5);
    });

    it('labels agree with the truth on who is live, and the oracle ranks churners', async () => {
      const set = await buildTrainingSet(db, { horizonDays: 30, split: { minTrainPositives: 5 } });
      const p = oracle.forSnapshots(set.snapshots);
      const known = Array.from(p).filter((v) => !Number.isNaN(v)).length;
      expect(known).toBe(p.length);
      const y = Float64Array.from(set.snapshots.flatMap((s) => Array.from(s.y)));
      const positives = y.reduce((a, b) => a + b, 0);
      // realised churn matches the oracle's expectation (within sampling noise)
      const expected = p.reduce((a, b) => a + b, 0);
      expect(Math.abs(positives - expected)).toBeLessThan(4 * Math.sqrt(expected) + 5);
      expect(rocAuc(y, p)).toBeGreaterThan(0.7);
    });
  });
});
