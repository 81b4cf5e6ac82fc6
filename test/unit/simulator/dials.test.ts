import { describe, expect, it } from 'vitest';
import { applyDials, DEFAULT_DIALS, NO_FAULTS, pickFault } from '../../../src/simulator/dials.js';

describe('simulator dials', () => {
  it('patches and validates', () => {
    const dials = applyDials(DEFAULT_DIALS, { latencyMs: 40, faults: { http503: 0.1 } });
    expect(dials).toMatchObject({ latencyMs: 40, jitterMs: 0, faults: { http503: 0.1, http500: 0 } });
    expect(() => applyDials(dials, { latencyMs: -1 })).toThrow(/latencyMs/);
    expect(() => applyDials(dials, { rateCapPerSecond: 2.5 })).toThrow(/whole number/);
    expect(() => applyDials(dials, { faults: { drop: 1.5 } })).toThrow(/faults.drop/);
    expect(() => applyDials(dials, { faults: { drop: 0.6, http500: 0.6 } })).toThrow(/more than 1/);
    expect(() => applyDials(dials, { faults: { nope: 0.1 } as never })).toThrow(/unknown fault/);
  });

  it('refuses the insights named, a non-empty list of known ones', () => {
    expect(DEFAULT_DIALS.refusedInsights).toEqual(['reachability', 'roaming']);
    const dials = applyDials(DEFAULT_DIALS, { refusedInsights: ['roaming'], faults: { unauthorized: 1 } });
    expect(dials).toMatchObject({ refusedInsights: ['roaming'], faults: { unauthorized: 1 } });
    for (const bad of [[], ['roaming', 'roaming'], ['sim-swap'], 'roaming'])
      expect(() => applyDials(dials, { refusedInsights: bad as never })).toThrow(/refusedInsights/);
  });

  it('picks faults by their shares', () => {
    const faults = { ...NO_FAULTS, http500: 0.1, drop: 0.2 };
    expect(pickFault(faults, 0.05)).toBe('http500');
    expect(pickFault(faults, 0.15)).toBe('drop');
    expect(pickFault(faults, 0.35)).toBeNull();
    expect(pickFault(NO_FAULTS, 0)).toBeNull();
  });
});
