import { describe, expect, it } from 'vitest';
import { countriesForMcc, isKnownMcc } from '../../../src/core/mcc.js';

describe('MCC → countries', () => {
  it.each([
    [234, ['GB']],
    [235, ['GB']],
    [262, ['DE']],
    [310, ['US']],
    [316, ['US']],
    [340, ['BL', 'GF', 'GP', 'MF', 'MQ']],
    [901, []],
    [999, []],
  ] as const)('%i → %j', (mcc, countries) => {
    expect(countriesForMcc(mcc)).toEqual(countries);
  });
  it('knows 901 as a code in service, and not an unassigned one', () => {
    expect(isKnownMcc(901)).toBe(true);
    expect(isKnownMcc(999)).toBe(false);
  });
});
