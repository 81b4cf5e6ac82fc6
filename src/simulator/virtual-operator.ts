import type { DeviceState } from './device-state.js';

const DAY_MS = 86_400_000;
const GB = { mcc: 234, countries: ['GB'] } as const;

/**
 * Vonage's Playground Virtual Operator (+990). Only +990123400 … +990123499 in steps of 11 exist. The roaming
 * column follows Vonage's published Device Status rule (even last digits → roaming in GB, odd → at home,
 * …11 → MCC 901 with no country, …22 → Germany); the rest is ours, documented in docs/simulator.md ("Outcome
 * rules").
 *
 * | number     | reachability                        | roaming             |
 * |------------|-------------------------------------|---------------------|
 * | +990123400 | DATA+SMS, status time 2 days ago    | GB (234)            |
 * | +990123411 | DATA only, 5 days                   | MCC 901, no country |
 * | +990123422 | DATA+SMS, 1 day                     | DE (262)            |
 * | +990123433 | SMS only, 12 days                   | not roaming         |
 * | +990123444 | not reachable since 75 days         | GB (234)            |
 * | +990123455 | not reachable since 10 days         | not roaming         |
 * | +990123466 | PARTIAL_SUCCESS: DATA+SMS, no time  | GB (234)            |
 * | +990123477 | NO_COVERAGE                         | not roaming         |
 * | +990123488 | UNAUTHORIZED                        | GB (234)            |
 * | +990123499 | NOT_FOUND ("Unknown phone number.") | NOT_FOUND           |
 * | other +990 | INVALID_NUMBER_FORMAT               | INVALID_NUMBER_FORMAT |
 */
export function virtualOperatorState(phoneNumber: string, anchorMs: number): DeviceState {
  const daysAgo = (days: number) => anchorMs - days * DAY_MS;
  const device = (
    connectivity: ('DATA' | 'SMS')[],
    changedDays: number,
    roaming: { mcc: number; countries: readonly string[] } | null,
  ) => ({
    kind: 'device' as const,
    reachable: connectivity.length > 0,
    connectivity,
    connectivityChangedAt: daysAgo(changedDays),
    roaming,
    roamingChangedAt: daysAgo(roaming ? 1 : 30),
  });
  switch (phoneNumber) {
    case '+990123400':
      return device(['DATA', 'SMS'], 2, GB);
    case '+990123411':
      return device(['DATA'], 5, { mcc: 901, countries: [] });
    case '+990123422':
      return device(['DATA', 'SMS'], 1, { mcc: 262, countries: ['DE'] });
    case '+990123433':
      return device(['SMS'], 12, null);
    case '+990123444':
      return device([], 75, GB);
    case '+990123455':
      return device([], 10, null);
    case '+990123466':
      return {
        ...device(['DATA', 'SMS'], 3, GB),
        connectivityChangedAt: null,
        reachabilityStatus: 'PARTIAL_SUCCESS',
      };
    case '+990123477':
      return { ...device([], 20, null), reachabilityStatus: 'NO_COVERAGE' };
    case '+990123488':
      return { ...device(['DATA', 'SMS'], 4, GB), reachabilityStatus: 'UNAUTHORIZED' };
    case '+990123499':
      return { kind: 'unknown-subscriber' };
    default:
      return { kind: 'invalid-number' };
  }
}
