import { describe, expect, it } from 'vitest';
import { asE164, describeNumber, maskPhone, parseE164 } from '../../../src/core/e164.js';

describe('parseE164', () => {
  it.each([
    ['+447400123456', undefined, '+447400123456'],
    ['0044 7400 123456', undefined, '+447400123456'],
    ['+44 (0) 7400-123.456'.replace('(0) ', ''), undefined, '+447400123456'],
    ['07400 123456', 'GB', '+447400123456'],
    ['(415) 555-0100', 'US', '+14155550100'],
    ['+4915123456789', undefined, '+4915123456789'],
  ] as const)('reads %s (default country %s) as %s', (raw, country, expected) => {
    expect(parseE164(raw, country)).toBe(expected);
  });

  it('needs a default country for national forms', () => {
    expect(parseE164('07400 123456')).toBeNull();
  });

  it.each(['', 'abc', '+44', '12', '+4474001234567890', '4.47911E+11'])('rejects %j', (raw) => {
    expect(parseE164(raw, 'GB')).toBeNull();
  });

  it('accepts the +990 Virtual Operator range that libphonenumber does not know', () => {
    expect(parseE164('+990123400')).toBe('+990123400');
    expect(parseE164('00990123499')).toBe('+990123499');
  });
});

describe('describeNumber', () => {
  it('tells line type and home country', () => {
    expect(describeNumber('+447400123456')).toMatchObject({ valid: true, type: 'MOBILE', country: 'GB' });
    expect(describeNumber('+442071838750')).toMatchObject({ valid: true, type: 'FIXED_LINE' });
    expect(describeNumber('+990123433')).toMatchObject({ valid: true, virtualOperator: true });
    expect(describeNumber('447400123456').valid).toBe(false);
  });
});

describe('maskPhone', () => {
  it('keeps only the last three digits', () => {
    expect(maskPhone('+447400123456')).toBe('+*********456');
    expect(maskPhone('123')).toBe('***');
  });
});

describe('asE164', () => {
  it('refuses strings that are not E.164 without echoing them whole', () => {
    expect(() => asE164('447400123456')).toThrow(/\*+456/);
    expect(asE164('+447400123456')).toBe('+447400123456');
  });
});
