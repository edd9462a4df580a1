import { describe, expect, it } from 'vitest';
import { InsufficientDataError, snapshotDates, splitByTime, type Snapshot } from '../../src/ml/dataset.js';

const month = (i: number) => Date.UTC(2025, i, 1) / 1000;
function snap(i: number, rows: number, positives: number): Snapshot {
  const y = new Uint8Array(rows);
  y.fill(1, 0, positives);
  return { asOf: month(i), keys: [], x: { data: new Float32Array(rows), rows, cols: 1 }, y, churnType: new Uint8Array(rows), positives, catalogues: [], priceNames: new Map() };
}

describe('time split of labelled snapshots', () => {
  it('keeps time order: oldest train, then validation, calibration, newest test', () => {
    const snaps = Array.from({ length: 12 }, (_, i) => snap(i, 1000, 40));
    const s = splitByTime(snaps);
    const all = [...s.train, ...s.valid, ...s.calib, ...s.test];
    expect(all.map((x) => x.asOf)).toEqual(snaps.map((x) => x.asOf));
    expect(s.test.at(-1)!.asOf).toBe(month(11));
    expect(Math.max(...s.train.map((x) => x.asOf))).toBeLessThan(Math.min(...s.valid.map((x) => x.asOf)));
    expect(s.train.length).toBeGreaterThanOrEqual(6);
  });

  it('widens a held-out part over months with no churners instead of leaving it without any', () => {
    const snaps = [snap(0, 500, 30), snap(1, 500, 25), snap(2, 500, 20), snap(3, 500, 15), snap(4, 500, 6), snap(5, 500, 0), snap(6, 500, 0), snap(7, 500, 3)];
    const s = splitByTime(snaps);
    for (const part of [s.valid, s.calib, s.test]) expect(part.reduce((a, x) => a + x.positives, 0)).toBeGreaterThan(0);
    expect(s.test.map((x) => x.asOf)).toEqual([month(3), month(4), month(5), month(6), month(7)]);
    expect(s.train.map((x) => x.asOf)).toEqual([month(0)]);
  });

  it('says clearly when there is too little to train on', () => {
    expect(() => splitByTime([snap(0, 100, 5), snap(1, 100, 5)])).toThrow(InsufficientDataError);
    expect(() => splitByTime([snap(0, 100, 1), snap(1, 100, 1), snap(2, 100, 1), snap(3, 100, 1)])).toThrow(/only 4 churners/);
    expect(() => splitByTime([snap(0, 100, 30), snap(1, 100, 0), snap(2, 100, 0), snap(3, 100, 0)])).toThrow(/no churners in the/);
  });

  it('takes month ends whose horizon is fully observed, oldest first', () => {
    const dates = snapshotDates({ dataStart: Date.UTC(2025, 0, 10) / 1000, until: Date.UTC(2025, 6, 20) / 1000, horizonDays: 30 });
    expect(dates).toEqual([month(1), month(2), month(3), month(4), month(5)]);
    expect(snapshotDates({ dataStart: month(0), until: month(12), horizonDays: 30, maxSnapshots: 3 })).toEqual([month(9), month(10), month(11)]);
  });
});

describe('gap of one horizon between the parts of the time split', () => {
  const DAY = 86_400;
  const gapOk = (earlier: Snapshot[], later: Snapshot[], horizonDays: number) =>
    Math.max(...earlier.map((x) => x.asOf)) + horizonDays * DAY <= Math.min(...later.map((x) => x.asOf)) + 3 * DAY;

  it('leaves out the months whose 90-day labels would look into the next part', () => {
    const snaps = Array.from({ length: 24 }, (_, i) => snap(i, 1000, 40));
    const s = splitByTime(snaps, { horizonDays: 90 });
    expect(gapOk(s.train, s.valid, 90)).toBe(true);
    expect(gapOk(s.valid, s.calib, 90)).toBe(true);
    expect(gapOk(s.calib, s.test, 90)).toBe(true);
    // two months are skipped at each of the three boundaries
    expect(s.train.length + s.valid.length + s.calib.length + s.test.length).toBe(24 - 3 * 2);
  });

  it('keeps consecutive month starts for a 30-day horizon (at most 3 days overlap in February)', () => {
    const snaps = Array.from({ length: 12 }, (_, i) => snap(i, 1000, 40));
    const s = splitByTime(snaps, { horizonDays: 30 });
    expect(s.train.length + s.valid.length + s.calib.length + s.test.length).toBe(12);
  });

  it('says so when the gap leaves no training months', () => {
    const snaps = Array.from({ length: 6 }, (_, i) => snap(i, 1000, 40));
    expect(() => splitByTime(snaps, { horizonDays: 90 })).toThrow(InsufficientDataError);
  });
});
