import { describe, expect, it } from 'vitest';
import { etaSeconds, RateTracker } from '../../../src/batch/eta.js';

describe('RateTracker', () => {
  it('uses the average since the start until reads span two seconds, then the recent window', () => {
    const rates = new RateTracker();
    const start = 1_000_000;
    expect(rates.rate('b', start + 500, 0, start)).toBeNull();
    // One second between reads is too short to say: 10 answers in 1.5 s since the start.
    expect(rates.rate('b', start + 1_500, 10, start)).toBeCloseTo(10 / 1.5, 5);
    // 40 answers in the 4 s since the first read.
    expect(rates.rate('b', start + 4_500, 40, start)).toBe(10);
    // Reads more than 30 s old drop out (the newest older one stays as the window's start).
    expect(rates.rate('b', start + 40_000, 400, start)).toBeCloseTo(360 / 35.5, 5);
    // Nothing answered in the last five seconds: the rate falls to 0, not to the long-run average.
    expect(rates.rate('b', start + 45_000, 400, start)).toBe(0);
  });

  it('starts over when a batch has fewer answers than before (run again), and keeps batches apart', () => {
    const rates = new RateTracker();
    rates.rate('a', 0, 50, null);
    expect(rates.rate('a', 5_000, 100, null)).toBe(10);
    expect(rates.rate('a', 6_000, 2, null)).toBeNull();
    expect(rates.rate('c', 6_000, 2, null)).toBeNull();
  });
});

describe('etaSeconds', () => {
  it('says how long is left only once the whole file is read and a rate is known', () => {
    expect(etaSeconds(40, 100, true, 10)).toBe(6);
    expect(etaSeconds(40, 100, false, 10)).toBeNull();
    expect(etaSeconds(40, 100, true, null)).toBeNull();
    expect(etaSeconds(40, 100, true, 0)).toBeNull();
    expect(etaSeconds(100, 100, true, 3)).toBe(0);
  });
});
