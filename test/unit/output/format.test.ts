import { describe, expect, it } from 'vitest';
import {
  formatCount,
  formatDay,
  formatShare,
  formatSpan,
  formatTime,
  plural,
} from '../../../src/output/format.js';

describe('report formatting', () => {
  it('writes counts with thousands separators', () => {
    expect(formatCount(0)).toBe('0');
    expect(formatCount(999)).toBe('999');
    expect(formatCount(1403)).toBe('1,403');
    expect(formatCount(10_000_000)).toBe('10,000,000');
  });

  it('puts the noun in the singular for exactly one', () => {
    expect(plural(1, 'number')).toBe('1 number');
    expect(plural(2, 'number')).toBe('2 numbers');
    expect(plural(0, 'number')).toBe('0 numbers');
    expect(plural(1, 'day')).toBe('1 day');
    expect(plural(1403, 'row')).toBe('1,403 rows');
    expect(plural(3, 'entry', 'entries')).toBe('3 entries');
  });

  it('writes times in UTC with the zone named, or in the zone asked for', () => {
    expect(formatTime('2026-12-04T22:45:59.999Z')).toBe('4 Dec 2026, 22:45 UTC');
    expect(formatTime('2026-09-01T02:05:00.000Z')).toBe('1 Sep 2026, 02:05 UTC');
    expect(formatTime('2026-12-04T22:45:00.000Z', 'Europe/Paris')).toBe('4 Dec 2026, 23:45 CET');
    // Past midnight in Paris: the day follows the zone.
    expect(formatTime('2026-07-31T22:30:00.000Z', 'Europe/Paris')).toBe('1 Aug 2026, 00:30 CEST');
    expect(formatTime('')).toBe('');
    expect(formatTime('not a time')).toBe('not a time');
    expect(formatDay('2026-12-04T22:45:00.000Z')).toBe('4 Dec 2026');
  });

  it('writes a span on one day once', () => {
    expect(formatSpan('2026-12-04T22:45:00.000Z', '2026-12-04T22:51:30.000Z')).toBe(
      '4 Dec 2026, 22:45 → 22:51 UTC',
    );
    expect(formatSpan('2026-12-04T23:59:00.000Z', '2026-12-05T00:01:00.000Z')).toBe(
      '4 Dec 2026, 23:59 UTC → 5 Dec 2026, 00:01 UTC',
    );
    expect(formatSpan('', '2026-12-05T00:01:00.000Z')).toBe('5 Dec 2026, 00:01 UTC');
  });

  it('writes shares with one decimal, and 0% of nothing', () => {
    expect(formatShare(1, 3)).toBe('33.3%');
    expect(formatShare(0, 0)).toBe('0%');
  });
});
