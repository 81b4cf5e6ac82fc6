import { describe, expect, it } from 'vitest';
import { cronProblem, folderTimestamp, isTimeZone, nextRuns, zonedIso } from '../../../src/schedule/cron.js';
import { runFolder } from '../../../src/schedule/start-run.js';
import { tickOf } from '../../../src/schedule/worker.js';

const at = (iso: string) => Date.parse(iso);

describe('schedule times', () => {
  it('a nightly 02:00 in Paris is 01:00 UTC in winter and 00:00 UTC in summer', () => {
    expect(
      nextRuns('0 2 * * *', 'Europe/Paris', at('2026-11-24T12:00:00Z'), 2).map((t) =>
        new Date(t).toISOString(),
      ),
    ).toEqual(['2026-11-25T01:00:00.000Z', '2026-11-26T01:00:00.000Z']);
    expect(
      new Date(nextRuns('0 2 * * *', 'Europe/Paris', at('2026-07-01T12:00:00Z'))[0] ?? 0).toISOString(),
    ).toBe('2026-07-02T00:00:00.000Z');
    // Six fields: seconds first.
    expect(nextRuns('*/2 * * * * *', 'UTC', at('2026-11-24T05:00:01.500Z'), 2)).toEqual([
      at('2026-11-24T05:00:02Z'),
      at('2026-11-24T05:00:04Z'),
    ]);
  });

  it('local times carry their offset and parse back to the same instant', () => {
    const tick = at('2026-11-25T01:00:00Z');
    expect(zonedIso(tick, 'Europe/Paris')).toBe('2026-11-25T02:00:00+01:00');
    expect(zonedIso(tick, 'UTC')).toBe('2026-11-25T01:00:00+00:00');
    expect(zonedIso(tick, 'America/New_York')).toBe('2026-11-24T20:00:00-05:00');
    expect(zonedIso(tick, 'Asia/Kolkata')).toBe('2026-11-25T06:30:00+05:30');
    for (const zone of ['Europe/Paris', 'UTC', 'America/New_York', 'Asia/Kolkata'])
      expect(Date.parse(zonedIso(tick, zone))).toBe(tick);
  });

  it('time zones are IANA names Intl knows', () => {
    expect(isTimeZone('Europe/Paris')).toBe(true);
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('Europe/Pari')).toBe(false);
    expect(isTimeZone('')).toBe(false);
  });

  it('patterns: 5 or 6 fields that fire', () => {
    expect(cronProblem('0 2 * * *', 'Europe/Paris')).toBeNull();
    expect(cronProblem('*/2 * * * * *', 'UTC')).toBeNull();
    expect(cronProblem('0 2 * * 1-5', 'UTC')).toBeNull();
    expect(cronProblem('0 2 * *', 'UTC')).toContain('got 4');
    expect(cronProblem('0 2 31 2 *', 'UTC')).toContain('is not a valid cron pattern');
  });

  it('each run has a folder named after its tick; the tick comes from the scheduled job id', () => {
    expect(folderTimestamp(at('2026-11-25T01:00:00.000Z'))).toBe('20261125T010000Z');
    expect(runFolder({ id: 'nightly-fleet', out: '/data/out' } as never, at('2026-11-25T01:00:00Z'))).toBe(
      '/data/out/nightly-fleet-20261125T010000Z',
    );
    const tick = at('2026-11-25T01:00:00Z');
    expect(tickOf({ id: `repeat:nightly-fleet:${tick}`, opts: {}, timestamp: tick + 5_000 })).toBe(tick);
    expect(tickOf({ id: 'other', opts: { prevMillis: tick }, timestamp: tick + 5_000 })).toBe(tick);
  });
});
