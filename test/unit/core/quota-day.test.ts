import { describe, expect, it } from 'vitest';
import { canonicalTimeZone, dateIn, localDateTime, quotaDay, timeLeft } from '../../../src/core/quota-day.js';

const at = (iso: string) => Date.parse(iso);
const HOUR = 3_600_000;

describe('quota days in a time zone', () => {
  it('a plain day in UTC ends at the next midnight UTC', () => {
    expect(quotaDay(at('2025-06-10T13:45:00Z'), 'UTC')).toEqual({
      day: '2025-06-10',
      resetsAt: at('2025-06-11T00:00:00Z'),
    });
  });

  it('a day in Pacific/Auckland is the local date, not the UTC one, and ends at local midnight', () => {
    // 11:30 UTC on 10 June is 23:30 in Auckland (NZST, UTC+12): the quota day is the 10th, over in 30 minutes.
    const now = at('2025-06-10T11:30:00Z');
    expect(quotaDay(now, 'Pacific/Auckland')).toEqual({
      day: '2025-06-10',
      resetsAt: at('2025-06-10T12:00:00Z'),
    });
    // A minute after that midnight it is the 11th there, still the 10th in UTC.
    const after = at('2025-06-10T12:01:00Z');
    expect(quotaDay(after, 'Pacific/Auckland').day).toBe('2025-06-11');
    expect(dateIn(after, 'UTC')).toBe('2025-06-10');
  });

  it('the last millisecond of a day belongs to it; the reset is the first of the next', () => {
    const reset = at('2025-06-11T00:00:00Z');
    expect(quotaDay(reset - 1, 'UTC')).toEqual({ day: '2025-06-10', resetsAt: reset });
    expect(quotaDay(reset, 'UTC').day).toBe('2025-06-11');
  });

  it('the spring-forward day in Europe/Paris lasts 23 hours', () => {
    // 30 Mar 2025: 02:00 CET becomes 03:00 CEST. The day runs from 23:00 UTC on the 29th to 22:00 UTC on the 30th.
    const start = quotaDay(at('2025-03-29T12:00:00Z'), 'Europe/Paris').resetsAt;
    const day = quotaDay(at('2025-03-30T12:00:00Z'), 'Europe/Paris');
    expect(start).toBe(at('2025-03-29T23:00:00Z'));
    expect(day).toEqual({ day: '2025-03-30', resetsAt: at('2025-03-30T22:00:00Z') });
    expect(day.resetsAt - start).toBe(23 * HOUR);
  });

  it('the fall-back day in Europe/Paris lasts 25 hours', () => {
    const start = quotaDay(at('2025-10-25T12:00:00Z'), 'Europe/Paris').resetsAt;
    const day = quotaDay(at('2025-10-26T12:00:00Z'), 'Europe/Paris');
    expect(day.day).toBe('2025-10-26');
    expect(day.resetsAt - start).toBe(25 * HOUR);
    expect(day.resetsAt).toBe(at('2025-10-26T23:00:00Z'));
  });

  it('a DST day in America/New_York: the quota resets at local midnight, EDT after, EST before', () => {
    // 9 Mar 2025 (spring forward at 02:00): the day starts at 05:00 UTC (EST) and ends at 04:00 UTC (EDT).
    expect(quotaDay(at('2025-03-09T12:00:00Z'), 'America/New_York')).toEqual({
      day: '2025-03-09',
      resetsAt: at('2025-03-10T04:00:00Z'),
    });
  });

  it('where midnight does not exist (America/Santiago moves 00:00 to 01:00), the day starts at 01:00', () => {
    // 7 Sep 2024 in Santiago (UTC-4): at 00:00 on the 8th clocks go to 01:00 (UTC-3), which is 04:00 UTC.
    const day = quotaDay(at('2024-09-07T20:00:00Z'), 'America/Santiago');
    expect(day).toEqual({ day: '2024-09-07', resetsAt: at('2024-09-08T04:00:00Z') });
    expect(localDateTime(day.resetsAt, 'America/Santiago')).toBe('2024-09-08 01:00');
  });

  it('a skipped day (Pacific/Apia went from 29 to 31 Dec 2011) resets into the day after', () => {
    const day = quotaDay(at('2011-12-29T20:00:00Z'), 'Pacific/Apia');
    expect(day.day).toBe('2011-12-29');
    expect(dateIn(day.resetsAt, 'Pacific/Apia')).toBe('2011-12-31');
  });
});

describe('time-zone names and how times are shown', () => {
  it('knows IANA names and UTC, spelled as Intl spells them; null for others', () => {
    expect(canonicalTimeZone('UTC')).toBe('UTC');
    expect(canonicalTimeZone('europe/paris')).toBe('Europe/Paris');
    expect(canonicalTimeZone('Pacific/Auckland')).toBe('Pacific/Auckland');
    expect(canonicalTimeZone('Mars/Olympus_Mons')).toBeNull();
    expect(canonicalTimeZone('CEST+2')).toBeNull();
  });

  it('writes the local date and time to the minute, on a 24-hour clock', () => {
    expect(localDateTime(at('2025-06-10T12:00:00Z'), 'Pacific/Auckland')).toBe('2025-06-11 00:00');
    expect(localDateTime(at('2025-06-10T23:59:59Z'), 'UTC')).toBe('2025-06-10 23:59');
  });

  it('says a time left to the minute, rounded up', () => {
    expect(timeLeft(0)).toBe('0 s');
    expect(timeLeft(40_200)).toBe('41 s');
    expect(timeLeft(60_000)).toBe('1 min');
    expect(timeLeft(60_001)).toBe('2 min');
    expect(timeLeft(3 * HOUR)).toBe('3 h');
    expect(timeLeft(3 * HOUR + 11 * 60_000 + 5_000)).toBe('3 h 12 min');
    expect(timeLeft(-5)).toBe('0 s');
  });
});
