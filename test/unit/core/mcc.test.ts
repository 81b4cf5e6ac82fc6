import { describe, expect, it } from 'vitest';
import { countriesForMcc, isKnownMcc, roamingGroup } from '../../../src/core/mcc.js';

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

describe('roaming group: what one roaming device counts under', () => {
  it.each([
    [['DE'], 262, 'DE'],
    [['DE'], null, 'DE'],
    [['BL', 'GF', 'GP', 'MF', 'MQ'], 340, 'MCC 340 (BL, GF, GP, MF, MQ)'],
    // Identity Insights names the countries and no MCC: the MCC is found from them, in any order.
    [['MQ', 'GP', 'BL', 'MF', 'GF'], null, 'MCC 340 (BL, GF, GP, MF, MQ)'],
    [['CW', 'BQ', 'SX'], null, 'MCC 362 (BQ, CW, SX)'],
    [['GP'], 340, 'GP'],
    [['DE', 'FR'], null, 'DE + FR'],
    [['DE', 'DE'], null, 'DE'],
    [[], 901, 'MCC 901'],
    [[], null, 'unknown'],
  ] as const)('%j, MCC %s → %s', (countries, mcc, group) => {
    expect(roamingGroup(countries, mcc)).toBe(group);
  });
});
