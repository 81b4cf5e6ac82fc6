import { describe, expect, it } from 'vitest';
import { readQuota } from '../../../src/config/quota.js';
import { ConfigError } from '../../../src/core/errors.js';

/** The problems readQuota names for an environment, one line each. */
function problems(env: Record<string, string>): readonly string[] {
  try {
    readQuota(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('REACHSCAN_DAILY_QUOTA and REACHSCAN_QUOTA_TZ', () => {
  it('unset: no limit for any provider, days in UTC', () => {
    expect(readQuota({})).toEqual({ limits: {}, timeZone: 'UTC' });
    expect(readQuota({ REACHSCAN_DAILY_QUOTA: '  ' })).toEqual({ limits: {}, timeZone: 'UTC' });
  });

  it('one number is the quota of every provider', () => {
    expect(readQuota({ REACHSCAN_DAILY_QUOTA: '5000' }).limits).toEqual({
      'identity-insights': 5000,
      'device-status': 5000,
      camara: 5000,
    });
  });

  it('provider=number limits only the providers named', () => {
    expect(readQuota({ REACHSCAN_DAILY_QUOTA: 'identity-insights=5000, camara = 20000' }).limits).toEqual({
      'identity-insights': 5000,
      camara: 20000,
    });
  });

  it('a number with named providers: the number for the others', () => {
    expect(readQuota({ REACHSCAN_DAILY_QUOTA: 'camara=20000,5000' }).limits).toEqual({
      'identity-insights': 5000,
      'device-status': 5000,
      camara: 20000,
    });
  });

  it('takes the zone as an IANA name, spelled as Intl spells it', () => {
    expect(readQuota({ REACHSCAN_QUOTA_TZ: 'europe/paris' }).timeZone).toBe('Europe/Paris');
    expect(readQuota({ REACHSCAN_QUOTA_TZ: 'Pacific/Auckland' }).timeZone).toBe('Pacific/Auckland');
  });

  it('refuses what it cannot read, with one line per problem naming the variable', () => {
    expect(problems({ REACHSCAN_DAILY_QUOTA: 'lots' })).toEqual([
      'REACHSCAN_DAILY_QUOTA: "lots" is not a number of requests a day (e.g. 5000, or identity-insights=5000,camara=20000)',
    ]);
    expect(problems({ REACHSCAN_DAILY_QUOTA: '5000.5' })[0]).toMatch(/"5000\.5" is not a number of requests/);
    expect(problems({ REACHSCAN_DAILY_QUOTA: '-1' })[0]).toMatch(/"-1" is not a number of requests/);
    expect(problems({ REACHSCAN_DAILY_QUOTA: '0' })).toEqual([
      'REACHSCAN_DAILY_QUOTA: "0" must be 1 request a day or more',
    ]);
    expect(problems({ REACHSCAN_DAILY_QUOTA: 'vonage=10' })).toEqual([
      'REACHSCAN_DAILY_QUOTA: unknown provider "vonage" (use identity-insights, device-status, camara)',
    ]);
    expect(problems({ REACHSCAN_DAILY_QUOTA: 'camara=10,camara=20' })).toEqual([
      'REACHSCAN_DAILY_QUOTA: camara is given twice',
    ]);
    expect(problems({ REACHSCAN_DAILY_QUOTA: '10,20' })[0]).toMatch(
      /more than one number for every provider/,
    );
    expect(problems({ REACHSCAN_DAILY_QUOTA: 'camara=' })[0]).toMatch(/"camara=" is not a number/);
    expect(problems({ REACHSCAN_DAILY_QUOTA: '5000,' })[0]).toMatch(/an empty entry in "5000,"/);
    expect(problems({ REACHSCAN_DAILY_QUOTA: '99999999999999999999' })[0]).toMatch(/is not a number/);
  });

  it('names an unknown zone, and every problem at once', () => {
    expect(problems({ REACHSCAN_DAILY_QUOTA: 'x', REACHSCAN_QUOTA_TZ: 'Europe/Pariss' })).toEqual([
      'REACHSCAN_DAILY_QUOTA: "x" is not a number of requests a day (e.g. 5000, or identity-insights=5000,camara=20000)',
      'REACHSCAN_QUOTA_TZ: unknown time zone "Europe/Pariss" (an IANA name such as Europe/Paris, or UTC)',
    ]);
  });
});
