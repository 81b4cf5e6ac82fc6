import { describe, expect, it } from 'vitest';
import { roamingFromBody } from '../../../../src/providers/device-status/client.js';

describe('Device Status roaming mapping', () => {
  it.each([
    [{ roaming: true, countryCode: 262, countryName: ['DE'] }, true, 262, ['DE']],
    [{ roaming: true, countryCode: 340 }, true, 340, ['BL', 'GF', 'GP', 'MF', 'MQ']], // derived from the MCC
    [{ roaming: true, countryCode: 234 }, true, 234, ['GB']],
    [{ roaming: true, countryCode: 901, countryName: [] }, true, 901, []], // [] stays empty
    [{ roaming: true, countryCode: 901 }, true, 901, []],
    [{ roaming: false, countryCode: 262, countryName: ['DE'] }, false, null, []], // only meaningful when roaming
    [{ roaming: 'yes' }, null, null, []],
  ] as const)('%j', (body, roaming, mcc, countries) => {
    const r = roamingFromBody(body);
    expect([r.roaming, r.mcc, r.countries]).toEqual([roaming, mcc, countries]);
    expect(r.status.code).toBe(roaming === null ? 'ERROR_BAD_RESPONSE' : 'OK');
  });
});
