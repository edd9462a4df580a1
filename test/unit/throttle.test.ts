import { describe, expect, it } from 'vitest';
import { createAccountThrottle } from '../../src/services/retention/throttle.js';

/** A clock that only moves when someone sleeps, so the schedule is exact. */
function fakeTime() {
  let now = 0;
  const slept: number[] = [];
  return {
    clock: () => now,
    sleep: async (ms: number) => {
      slept.push(ms);
      now = Math.max(now, now + ms);
    },
    advance: (ms: number) => {
      now += ms;
    },
    slept,
    get now() {
      return now;
    },
  };
}

describe('createAccountThrottle', () => {
  it('spaces one account at perSecond and lets calls through at once while under the rate', async () => {
    const time = fakeTime();
    const throttle = createAccountThrottle({ perSecond: 25, clock: time.clock, sleep: time.sleep });
    const sentAt: number[] = [];
    for (let i = 0; i < 5; i++) {
      await throttle.wait('acct_a');
      sentAt.push(time.now);
    }
    expect(sentAt).toEqual([0, 40, 80, 120, 160]);

    time.advance(1000);
    const before = time.slept.length;
    await throttle.wait('acct_a');
    expect(time.slept.length).toBe(before);
  });

  it('keeps accounts apart: a busy account never delays another', async () => {
    const time = fakeTime();
    const throttle = createAccountThrottle({ perSecond: 10, clock: time.clock, sleep: time.sleep });
    await throttle.wait('acct_busy');
    await throttle.wait('acct_busy');
    expect(time.slept).toEqual([100]);
    await throttle.wait('acct_quiet');
    expect(time.slept).toEqual([100]);
  });

  it('allows a burst and then the steady rate; concurrent waiters queue in call order', async () => {
    let now = 0;
    const delays: number[] = [];
    const throttle = createAccountThrottle({ perSecond: 100, burst: 3, clock: () => now, sleep: async (ms) => void delays.push(ms) });
    await Promise.all(Array.from({ length: 6 }, () => throttle.wait('platform')));
    // Three at once, then one every 10 ms, each reserved before anyone slept.
    expect(delays).toEqual([10, 20, 30]);
    now = 1000;
    delays.length = 0;
    await Promise.all(Array.from({ length: 4 }, () => throttle.wait('platform')));
    expect(delays).toEqual([10]);
  });

  it('holds an account back after a 429', async () => {
    const time = fakeTime();
    const throttle = createAccountThrottle({ perSecond: 50, clock: time.clock, sleep: time.sleep });
    await throttle.wait('acct_a');
    throttle.penalize('acct_a', 500);
    await throttle.wait('acct_a');
    expect(time.slept).toEqual([520]);
  });

  it('refuses a rate that makes no sense', () => {
    expect(() => createAccountThrottle({ perSecond: 0 })).toThrow(/perSecond/);
    expect(() => createAccountThrottle({ perSecond: 10, burst: 0 })).toThrow(/burst/);
  });

  it('really waits with the default clock and sleep', async () => {
    const throttle = createAccountThrottle({ perSecond: 20 });
    const start = performance.now();
    for (let i = 0; i < 4; i++) await throttle.wait('acct_real');
    // 3 gaps of 50 ms (timers may fire a little early or late).
    expect(performance.now() - start).toBeGreaterThanOrEqual(140);
  });
});
