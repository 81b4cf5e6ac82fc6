import { describe, expect, it } from 'vitest';
import { backoffMs } from '../../../src/providers/retry.js';

describe('backoffMs', () => {
  const policy = {
    attempts: 6,
    baseDelayMs: 100,
    maxDelayMs: 1_000,
    rateLimitWaits: 3,
    maxRetryAfterMs: 5_000,
  };
  it('doubles the ceiling each attempt, up to the maximum', () => {
    expect([1, 2, 3, 4, 5].map((a) => backoffMs(a, policy, () => 0.999_999))).toEqual([
      100, 200, 400, 800, 1000,
    ]);
  });
  it('spreads waits over the whole range (full jitter)', () => {
    expect(backoffMs(3, policy, () => 0)).toBe(0);
    expect(backoffMs(3, policy, () => 0.5)).toBe(200);
  });
});
