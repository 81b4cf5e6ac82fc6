import { describe, expect, it } from 'vitest';
import { DailyQuota, quotaReason } from '../../../src/batch/quota.js';

const at = (iso: string) => Date.parse(iso);

describe('the daily quota as a worker sees it', () => {
  it('says what is used, of what, for which provider, and when and in how long it resets, in the zone', () => {
    const resetsAt = at('2026-06-10T22:00:00Z'); // midnight in Paris (CEST)
    expect(
      quotaReason(
        'identity-insights',
        5000,
        5000,
        resetsAt,
        resetsAt - (3 * 3600 + 11 * 60 + 30) * 1000,
        'Europe/Paris',
      ),
    ).toBe(
      'daily quota reached: 5,000 of 5,000 requests for identity-insights today (resets at 00:00 Europe/Paris, in 3 h 12 min)',
    );
  });

  it('names the local time the next day starts: 01:00 where DST skips midnight', () => {
    const resetsAt = at('2024-09-08T04:00:00Z');
    expect(quotaReason('camara', 10, 10, resetsAt, resetsAt - 40_000, 'America/Santiago')).toBe(
      'daily quota reached: 10 of 10 requests for camara today (resets at 01:00 America/Santiago, in 40 s)',
    );
  });

  it('counts in the counter of the day in the zone, and moves to the next one at midnight there', () => {
    let now = at('2025-04-05T10:59:59.999Z'); // 23:59:59.999 in Auckland (NZDT)
    const quota = new DailyQuota({ limits: { camara: 20 }, timeZone: 'Pacific/Auckland' }, () => now);
    const before = quota.counter('{p}', 'camara');
    expect(before.counter).toEqual({ key: '{p}:quota:camara:2025-04-05', limit: 20, ttlS: 172_800 });
    expect(before.day.resetsAt).toBe(at('2025-04-05T11:00:00Z'));
    now += 1;
    const after = quota.counter('{p}', 'camara');
    expect(after.counter.key).toBe('{p}:quota:camara:2025-04-06');
    expect(quota.counter('{p}', 'identity-insights').counter.limit).toBeNull();
    // A clock moved back is followed too.
    now = at('2025-04-04T12:00:00Z');
    expect(quota.counter('{p}', 'camara').counter.key).toBe('{p}:quota:camara:2025-04-05');
  });

  it('a refusal carries the reset of the day that refused, so the pause ends then', () => {
    const now = at('2025-04-05T10:00:00Z');
    const quota = new DailyQuota({ limits: { camara: 20 }, timeZone: 'Pacific/Auckland' }, () => now);
    const { day } = quota.counter('{p}', 'camara');
    const refusal = quota.reached('camara', 20, 20, day);
    expect(refusal.resetsAt).toBe(at('2025-04-05T11:00:00Z'));
    expect(refusal.reason).toBe(
      'daily quota reached: 20 of 20 requests for camara today (resets at 00:00 Pacific/Auckland, in 1 h)',
    );
  });
});
