/**
 * One shard of a world, simulated in a worker thread (see parallel.ts). Each 'month' request
 * simulates the next month and hands the sorted, serialised events back without copying them.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { OracleCheck } from './oracle.js';
import { World, type WorldOptions } from './world.js';

const port = parentPort!;
const { options, withTruth } = workerData as { options: WorldOptions; withTruth: boolean };
const world = new World(options);
const oracle = new OracleCheck();

port.on('message', (message: { type: 'month' | 'finish' }) => {
  if (message.type === 'month') {
    const { packed, stats } = world.advanceMonthPacked();
    const records = oracle.observe(world);
    const truth = withTruth ? { indices: Int32Array.from(records, (r) => r.index), records: records.map((r) => r.record) } : null;
    port.postMessage({ type: 'month', packed, stats, truth, truthCount: records.length }, [packed.arena, packed.offsets.buffer, packed.created.buffer, packed.owners.buffer, packed.order.buffer] as ArrayBuffer[]);
  } else {
    port.postMessage({ type: 'finish', positives: oracle.positives, negatives: oracle.negatives, totals: world.totals, end: world.now() });
  }
});
