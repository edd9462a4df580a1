import { describe, expect, it } from 'vitest';
import {
  detectBudgetPace,
  detectPaymentFailureSpike,
  detectProcessingLagSpike,
  detectScoreDrift,
  detectWebhookRejectionSpike,
  histogram,
  poissonUpperTail,
  populationStabilityIndex,
} from '../../src/services/alerts/detect.js';

/** A small seeded generator (mulberry32), so the noise is the same on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function poisson(mean: number, random: () => number): number {
  const l = Math.exp(-mean);
  let k = 0;
  let p = 1;
  do {
    k += 1;
    p *= random();
  } while (p > l);
  return k - 1;
}

describe('payment-failure spikes (Poisson tail against the trailing 14 days)', () => {
  it('the tail probability is right where it can be checked by hand', () => {
    expect(poissonUpperTail(0, 3)).toBe(1);
    expect(poissonUpperTail(1, 3)).toBeCloseTo(1 - Math.exp(-3), 12);
    // P(X >= 3 | 1) = 1 − e^-1 (1 + 1 + 1/2)
    expect(poissonUpperTail(3, 1)).toBeCloseTo(1 - Math.exp(-1) * 2.5, 12);
    expect(poissonUpperTail(200, 5)).toBeGreaterThan(0);
    expect(poissonUpperTail(200, 5)).toBeLessThan(1e-100);
  });

  it('stays quiet on Poisson noise around the baseline: no alert in 500 ordinary days', () => {
    const random = rng(42);
    let fired = 0;
    for (let trial = 0; trial < 500; trial++) {
      const mean = 2 + random() * 30;
      const baseline = Array.from({ length: 14 }, () => poisson(mean, random));
      const f = detectPaymentFailureSpike({ key: 'acct_1', recent: poisson(mean, random), baselineDaily: baseline });
      if (f.firing) fired += 1;
    }
    expect(fired).toBe(0);
  });

  it('fires on a spike, with the figures that made it fire', () => {
    const random = rng(7);
    const baseline = Array.from({ length: 14 }, () => poisson(8, random));
    const f = detectPaymentFailureSpike({ key: 'acct_1', recent: 40, baselineDaily: baseline });
    expect(f.firing).toBe(true);
    expect(f.kind).toBe('payment_failure_spike');
    expect(f.key).toBe('acct_1');
    expect(f.details.pValue as number).toBeLessThan(1e-6);
    expect(f.message).toContain('40 payment failures in the last 24 h');
  });

  it('a tiny account going from nothing to a few failures is not a spike (minimum count)', () => {
    expect(detectPaymentFailureSpike({ key: 'a', recent: 6, baselineDaily: new Array(14).fill(0) }).firing).toBe(false);
    expect(detectPaymentFailureSpike({ key: 'a', recent: 12, baselineDaily: new Array(14).fill(0) }).firing).toBe(true);
  });
});

describe('webhook-rejection spikes (the last hour against the trailing 14 × 24 hours)', () => {
  it('stays quiet on hourly Poisson noise, fires on a burst, and ignores a handful after weeks of none', () => {
    const random = rng(11);
    let fired = 0;
    for (let trial = 0; trial < 500; trial++) {
      const mean = random() * 6;
      const baseline = Array.from({ length: 336 }, () => poisson(mean, random));
      if (detectWebhookRejectionSpike({ key: 'INVALID_SIGNATURE', recent: poisson(mean, random), baselineDaily: baseline }).firing) fired += 1;
    }
    expect(fired).toBe(0);
    const quiet = new Array(336).fill(0);
    expect(detectWebhookRejectionSpike({ key: 'INVALID_SIGNATURE', recent: 4, baselineDaily: quiet }).firing).toBe(false);
    const burst = detectWebhookRejectionSpike({ key: 'INVALID_SIGNATURE', recent: 60, baselineDaily: quiet.map((_, i) => (i % 3 === 0 ? 1 : 0)) });
    expect(burst).toMatchObject({ kind: 'webhook_rejection_spike', key: 'INVALID_SIGNATURE', firing: true, severity: 'critical', value: 60 });
    expect(burst.message).toContain('60 webhook deliveries refused with INVALID_SIGNATURE in the last hour');
  });
});

describe('processing lag', () => {
  it('fires on a stuck projector and on a recent lag far above the usual, not on ordinary lag', () => {
    const usual = [2, 3, 2.5, 3, 2, 4, 3];
    expect(detectProcessingLagSpike({ oldestPendingSeconds: 5, recentP95Seconds: 4, baselineDailyP95Seconds: usual }).firing).toBe(false);
    expect(detectProcessingLagSpike({ oldestPendingSeconds: null, recentP95Seconds: 45, baselineDailyP95Seconds: usual }).firing).toBe(false); // under the 60 s floor
    const slow = detectProcessingLagSpike({ oldestPendingSeconds: 10, recentP95Seconds: 240, baselineDailyP95Seconds: usual });
    expect(slow.firing).toBe(true);
    expect(slow.severity).toBe('warning');
    const stuck = detectProcessingLagSpike({ oldestPendingSeconds: 3600, recentP95Seconds: null, baselineDailyP95Seconds: [] });
    expect(stuck.firing).toBe(true);
    expect(stuck.severity).toBe('critical');
  });
});

describe('score drift (PSI)', () => {
  it('is 0 for the same distribution, small for sampling noise, large for a shift', () => {
    const random = rng(3);
    const draw = (shift: number, n: number) => Array.from({ length: n }, () => Math.min(0.999, Math.max(0, random() ** 3 + shift)));
    const reference = histogram(draw(0, 5000));
    expect(populationStabilityIndex(reference, reference)).toBe(0);
    const same = histogram(draw(0, 2000));
    expect(populationStabilityIndex(reference, same)).toBeLessThan(0.05);
    expect(detectScoreDrift({ key: 'v1', reference, referenceSource: 'held_out', current: same }).firing).toBe(false);
    const shifted = histogram(draw(0.3, 2000));
    const f = detectScoreDrift({ key: 'v1', reference, referenceSource: 'held_out', current: shifted });
    expect(f.firing).toBe(true);
    expect(f.value).toBeGreaterThan(0.2);
    expect(f.message).toContain("held-out data");
  });

  it('never fires on too few scores', () => {
    expect(detectScoreDrift({ key: 'v1', reference: [90, 0, 0, 0, 0, 0, 0, 0, 0, 0], referenceSource: 'first_scoring_run', current: [0, 0, 0, 0, 0, 0, 0, 0, 0, 50] }).firing).toBe(false);
  });
});

describe('budget pace', () => {
  const mid = Date.UTC(2026, 10, 15, 12) / 1000; // 15 November: half of a 30-day month, today counted
  it('fires when spend runs well ahead of the pro-rata share of the month', () => {
    const ahead = detectBudgetPace({ policyId: 'pol_a', spent: 80_000, limit: 100_000, currency: 'usd', now: mid });
    expect(ahead.firing).toBe(true);
    expect(ahead.value).toBeCloseTo(80_000 / 50_000, 6);
    expect(ahead.details.proRata).toBe(50_000);
  });
  it('stays quiet on pace, and on the first small spend of the month', () => {
    expect(detectBudgetPace({ policyId: 'pol_a', spent: 55_000, limit: 100_000, currency: 'usd', now: mid }).firing).toBe(false);
    const first = Date.UTC(2026, 10, 1, 6) / 1000;
    expect(detectBudgetPace({ policyId: 'pol_a', spent: 5_000, limit: 100_000, currency: 'usd', now: first }).firing).toBe(false);
  });
  it('an exhausted budget is critical', () => {
    expect(detectBudgetPace({ policyId: 'pol_a', spent: 100_000, limit: 100_000, currency: 'usd', now: mid }).severity).toBe('critical');
  });
});
