import { describe, expect, it } from 'vitest';
import { parseE164 } from '../../../src/core/e164.js';

/**
 * libphonenumber-js built a new RegExp for every metadata pattern it tried (about 20 per validated number), which
 * made validation ~3× slower than it needs to be. patches/ (applied by npm ci) compiles each pattern once.
 */
describe('phone validation compiles metadata patterns once', () => {
  it('builds no whole-number pattern again when it validates numbers of kinds it has seen', () => {
    const samples = [
      '+447400123456',
      '07400 123457',
      '+1 415 555 0100',
      '+33 6 12 34 56 78',
      '+4915112345678',
    ];
    for (const s of samples) parseE164(s, 'GB');
    const Original = globalThis.RegExp;
    let built = 0;
    globalThis.RegExp = new Proxy(Original, {
      construct(target, args: [string | RegExp, string?]) {
        // matchesEntirely's shape; the one or two other patterns built per number are cheap by comparison.
        const source = String(args[0]);
        if (source.startsWith('^(?:') && source.endsWith(')$')) built++;
        return new target(...args);
      },
    });
    try {
      const again = [
        '+447400999888',
        '07400 555666',
        '+1 415 555 0199',
        '+33 6 98 76 54 32',
        '+4915198765432',
      ];
      const parsed = again.map((s) => parseE164(s, 'GB'));
      expect(parsed).toEqual([
        '+447400999888',
        '+447400555666',
        '+14155550199',
        '+33698765432',
        '+4915198765432',
      ]);
    } finally {
      globalThis.RegExp = Original;
    }
    expect(built).toBe(0);
  });
});
