import { DAY } from '../../lib/clock.js';
import type { TruthRecord } from './hazard.js';
import type { World } from './world.js';

const AUC_BINS = 8192;
const HORIZON = 30 * DAY;

/**
 * Checks the truth against what happened: each month-end snapshot of p30 is kept (as compact
 * arrays) until its 30-day window has closed, then scored into a histogram ROC-AUC, so no event or
 * truth record needs to be stored. Histograms from several shards add up.
 */
export class OracleCheck {
  readonly positives = new Float64Array(AUC_BINS);
  readonly negatives = new Float64Array(AUC_BINS);
  private pending: { asOf: number; slots: Int32Array; p: Float32Array }[] = [];

  /** Scores snapshots whose window closed, takes the new month-end snapshot, returns its records. */
  observe(world: World): { index: number; record: TruthRecord }[] {
    const now = world.now();
    while (this.pending.length > 0 && this.pending[0]!.asOf + HORIZON <= now) {
      const { asOf, slots, p } = this.pending.shift()!;
      for (let i = 0; i < slots.length; i++) {
        const t = world.churnTimeAt(slots[i]!);
        this.add(p[i]!, t > asOf && t <= asOf + HORIZON);
      }
    }
    const records = [...world.truthWithIndex()];
    const slots = new Int32Array(records.length);
    const p = new Float32Array(records.length);
    records.forEach((r, i) => {
      slots[i] = r.slot;
      p[i] = r.record.p30;
    });
    this.pending.push({ asOf: now, slots, p });
    return records;
  }

  private add(p: number, churned: boolean): void {
    const bin = Math.min(AUC_BINS - 1, Math.floor(p * AUC_BINS));
    (churned ? this.positives : this.negatives)[bin]!++;
  }

  merge(positives: Float64Array, negatives: Float64Array): void {
    for (let b = 0; b < AUC_BINS; b++) {
      this.positives[b]! += positives[b]!;
      this.negatives[b]! += negatives[b]!;
    }
  }

  auc(): number | null {
    let negBelow = 0;
    let area = 0;
    let pos = 0;
    for (let b = 0; b < AUC_BINS; b++) {
      area += this.positives[b]! * (negBelow + this.negatives[b]! / 2);
      negBelow += this.negatives[b]!;
      pos += this.positives[b]!;
    }
    if (pos === 0 || negBelow === 0) return null;
    return area / (pos * negBelow);
  }
}

/** Mean over months of churned / live at month start. */
export class MonthlyChurn {
  private sum = 0;
  private months = 0;
  add(churned: number, liveAtStart: number): void {
    if (liveAtStart === 0) return;
    this.sum += churned / liveAtStart;
    this.months++;
  }
  mean(): number {
    return this.months ? this.sum / this.months : 0;
  }
}
