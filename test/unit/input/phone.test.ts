import { describe, expect, it } from 'vitest';
import { normalisePhone } from '../../../src/input/phone.js';

describe('normalisePhone', () => {
  it.each([
    ['+44 7400 123456', undefined, '+447400123456'],
    ['0044 7400 123456', undefined, '+447400123456'],
    ['447400123456', undefined, '+447400123456'],
    ['447400123456', 'GB', '+447400123456'],
    ['07400 123456', 'GB', '+447400123456'],
    ['(07400) 123-456', 'GB', '+447400123456'],
    ['07400.123.456', 'GB', '+447400123456'],
    ['+44 7400 123456 ext. 12', undefined, '+447400123456'],
    ['+990123400', undefined, '+990123400'],
    // Excel's text formula, as exports write numbers to keep them from being mangled.
    ['="+44 7400 123456"', undefined, '+447400123456'],
    ['= "07400123456"', 'GB', '+447400123456'],
  ] as const)('%s (%s) → %s', (raw, country, e164) => {
    expect(normalisePhone(raw, country)).toEqual({ kind: 'valid', e164 });
  });

  it.each(['4.47911E+11', '4,47911E+11', '4.47911e11', '-1.2E+5'])(
    '%s is Excel-mangled, not guessed',
    (raw) => {
      expect(normalisePhone(raw, 'GB')).toEqual({ kind: 'excel-mangled' });
    },
  );

  it.each([
    ['', 'no phone number'],
    ['   ', 'no phone number'],
    ['call me', 'not a valid phone number'],
    ['07400 123456', 'not a valid phone number'], // national form without a default country
    ['+44 12', 'not a valid phone number'],
  ])('%j is invalid: %s', (raw, reason) => {
    expect(normalisePhone(raw)).toEqual({ kind: 'invalid', reason });
  });
});
