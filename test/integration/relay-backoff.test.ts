import { describe, expect, it } from 'vitest';
import { retryDelaySeconds } from '../../src/services/outbox/backoff.js';

describe('outbox retry delay', () => {
  it('doubles per attempt, stays within [half, full] of its ceiling, and is capped at 10 minutes', () => {
    const policy = { baseSeconds: 2, capSeconds: 600 };
    expect([1, 2, 3, 4].map((a) => retryDelaySeconds(a, 1, policy))).toEqual([2, 4, 8, 16]);
    expect([1, 2, 3, 4].map((a) => retryDelaySeconds(a, 0, policy))).toEqual([1, 2, 4, 8]);
    expect(retryDelaySeconds(50, 1, policy)).toBe(600);
    expect(retryDelaySeconds(50, 0, policy)).toBe(300);
    for (let i = 0; i < 100; i++) {
      const d = retryDelaySeconds(5, Math.random(), policy);
      expect(d).toBeGreaterThanOrEqual(16);
      expect(d).toBeLessThanOrEqual(32);
    }
  });
});
