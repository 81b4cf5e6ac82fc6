import { describe, expect, it } from 'vitest';
import { SlidingWindowCap } from '../../../src/simulator/rate-cap.js';

describe('SlidingWindowCap', () => {
  it('never lets any 1000 ms window hold more than the cap', () => {
    const cap = new SlidingWindowCap(10);
    const accepted: number[] = [];
    for (let t = 0; t < 5_000; t += 7) if (cap.tryAcquire(t).ok) accepted.push(t);
    for (const start of accepted) {
      expect(accepted.filter((t) => t >= start && t < start + 1000).length).toBeLessThanOrEqual(10);
    }
    expect(accepted.length).toBeGreaterThanOrEqual(49); // and it does use the cap
  });

  it('says when the next slot frees', () => {
    const cap = new SlidingWindowCap(2);
    expect(cap.tryAcquire(0).ok).toBe(true);
    expect(cap.tryAcquire(300).ok).toBe(true);
    expect(cap.tryAcquire(400)).toEqual({ ok: false, retryAfterMs: 600 });
    expect(cap.tryAcquire(1000).ok).toBe(true);
  });

  it('is off at 0 and follows a new limit', () => {
    const cap = new SlidingWindowCap(0);
    for (let i = 0; i < 1000; i++) expect(cap.tryAcquire(0).ok).toBe(true);
    cap.setLimit(1);
    expect(cap.tryAcquire(5_000).ok).toBe(true);
    expect(cap.tryAcquire(5_001).ok).toBe(false);
  });
});
