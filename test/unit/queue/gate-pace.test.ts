import { describe, expect, it } from 'vitest';
import { ADMISSION_WINDOW_MS, gatePace } from '../../../src/queue/rate-gate.js';

describe('gatePace', () => {
  it('admits the whole rate in a window a little longer than a second, slots spaced to fill it evenly', () => {
    const pace = gatePace(300);
    expect(pace.perSecond).toBe(300);
    expect(pace.windowMs).toBe(ADMISSION_WINDOW_MS);
    expect(ADMISSION_WINDOW_MS).toBeGreaterThan(1000);
    expect(pace.intervalMs).toBeCloseTo(ADMISSION_WINDOW_MS / 300);
  });

  it('a fractional rate admits its whole part in a window; below one a second, slots 1000 / rate apart', () => {
    expect(gatePace(36.5).perSecond).toBe(36);
    expect(gatePace(0.5)).toEqual({ intervalMs: 2000, perSecond: 1, windowMs: ADMISSION_WINDOW_MS });
    expect(gatePace(1.5).perSecond).toBe(1);
    expect(gatePace(1.5).intervalMs).toBe(ADMISSION_WINDOW_MS);
  });

  it('no rate: no slots (only pauses apply)', () => {
    expect(gatePace(0).intervalMs).toBe(0);
  });
});
