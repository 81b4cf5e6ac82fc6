import { describe, expect, it } from 'vitest';
import { dayAnchor, deviceStateFor, type DeviceState } from '../../../src/simulator/device-state.js';

const ANCHOR = Date.parse('2026-03-01T00:00:00Z');
const DAY = 86_400_000;

/** Valid GB mobiles: +447400000000 + i. */
function mobiles(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `+4474${String(i).padStart(8, '0')}`);
}

describe('simulated device state', () => {
  it('is a pure function of number, seed and anchor', () => {
    for (const n of mobiles(200)) {
      expect(deviceStateFor(n, 's1', ANCHOR)).toEqual(deviceStateFor(n, 's1', ANCHOR));
    }
    const differ = mobiles(200).filter(
      (n) =>
        JSON.stringify(deviceStateFor(n, 's1', ANCHOR)) !== JSON.stringify(deviceStateFor(n, 's2', ANCHOR)),
    );
    expect(differ.length).toBeGreaterThan(100);
  });

  it('gives the documented mix over many numbers', () => {
    const states = mobiles(20_000).map((n) => deviceStateFor(n, 'reachscan', ANCHOR));
    expect(states.filter((s) => s.kind === 'invalid-number' || s.kind === 'unsupported-network')).toEqual([]);
    const share = (pred: (s: DeviceState) => boolean) => states.filter(pred).length / states.length;
    const devices = states.filter((s): s is Extract<DeviceState, { kind: 'device' }> => s.kind === 'device');
    expect(share((s) => s.kind === 'unknown-subscriber')).toBeCloseTo(0.02, 2);
    expect(share((s) => s.kind === 'no-coverage')).toBeCloseTo(0.01, 2);
    expect(share((s) => s.kind === 'unauthorized')).toBeCloseTo(0.01, 2);
    expect(share((s) => s.kind === 'device' && s.reachabilityStatus === 'PARTIAL_SUCCESS')).toBeCloseTo(
      0.02,
      2,
    );

    const ofDevices = (pred: (s: (typeof devices)[number]) => boolean) =>
      devices.filter(pred).length / devices.length;
    expect(ofDevices((s) => s.connectivity.join() === 'DATA,SMS')).toBeCloseTo(0.7, 1);
    expect(ofDevices((s) => s.connectivity.join() === 'DATA')).toBeCloseTo(0.08, 1);
    expect(ofDevices((s) => s.connectivity.join() === 'SMS')).toBeCloseTo(0.07, 1);
    expect(ofDevices((s) => !s.reachable)).toBeCloseTo(0.15, 1);

    const unreachable = devices.filter((s) => !s.reachable && s.connectivityChangedAt !== null);
    const stale = unreachable.filter((s) => ANCHOR - (s.connectivityChangedAt as number) >= 60 * DAY);
    expect(stale.length / unreachable.length).toBeGreaterThan(0.55);
    expect(stale.length / unreachable.length).toBeLessThan(0.78);
    for (const s of unreachable)
      expect(ANCHOR - (s.connectivityChangedAt as number)).toBeLessThanOrEqual(180 * DAY);

    const roamers = devices.filter((s) => s.roaming !== null);
    expect(roamers.length / states.length).toBeGreaterThan(0.08);
    expect(roamers.length / states.length).toBeLessThan(0.12);
    expect(roamers.every((s) => s.reachable)).toBe(true);
    const places = new Set(roamers.map((s) => s.roaming?.countries.join('/')));
    expect(places.size).toBeGreaterThanOrEqual(8);
    expect(places.has('BL/GF/GP/MF/MQ')).toBe(true);
    expect(places.has('GB')).toBe(false); // GB numbers never "roam" at home
  });

  it('answers fixed lines and invalid numbers without a device', () => {
    expect(deviceStateFor('+442071838750', 'x', ANCHOR)).toEqual({
      kind: 'unsupported-network',
      lineType: 'FIXED_LINE',
    });
    expect(deviceStateFor('+18005550199', 'x', ANCHOR)).toMatchObject({ kind: 'unsupported-network' });
    expect(deviceStateFor('+44123', 'x', ANCHOR)).toEqual({ kind: 'invalid-number' });
  });

  it('follows the Virtual Operator table', () => {
    const vo = (n: string) => deviceStateFor(n, 'any-seed', ANCHOR);
    expect(vo('+990123400')).toMatchObject({
      kind: 'device',
      connectivity: ['DATA', 'SMS'],
      roaming: { mcc: 234, countries: ['GB'] },
    });
    expect(vo('+990123411')).toMatchObject({ connectivity: ['DATA'], roaming: { mcc: 901, countries: [] } });
    expect(vo('+990123422')).toMatchObject({ roaming: { mcc: 262, countries: ['DE'] } });
    expect(vo('+990123433')).toMatchObject({ connectivity: ['SMS'], roaming: null });
    expect(vo('+990123444')).toMatchObject({ reachable: false, connectivityChangedAt: ANCHOR - 75 * DAY });
    expect(vo('+990123455')).toMatchObject({ reachable: false, roaming: null });
    expect(vo('+990123466')).toMatchObject({
      reachabilityStatus: 'PARTIAL_SUCCESS',
      connectivityChangedAt: null,
    });
    expect(vo('+990123477')).toMatchObject({ reachabilityStatus: 'NO_COVERAGE' });
    expect(vo('+990123488')).toMatchObject({ reachabilityStatus: 'UNAUTHORIZED' });
    expect(vo('+990123499')).toEqual({ kind: 'unknown-subscriber' });
    expect(vo('+990123401')).toEqual({ kind: 'invalid-number' });
    // Vonage's published roaming rule: even last digits roam in GB (save 00/22 variants), odd stay home.
    for (const n of ['+990123433', '+990123455', '+990123477'])
      expect(vo(n)).toMatchObject({ roaming: null });
  });

  it('anchors on 00:00 UTC of the current day', () => {
    expect(dayAnchor(Date.parse('2026-03-01T17:45:12Z'))).toBe(ANCHOR);
  });
});
