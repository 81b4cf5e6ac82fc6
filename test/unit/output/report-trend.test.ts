import { describe, expect, it } from 'vitest';
import { ReportAccumulator, type BatchReport } from '../../../src/output/report.js';
import {
  parseTrend,
  trendDelta,
  trendEntry,
  trendRunId,
  trendSentence,
  trendSummaryLine,
  trendTable,
  type TrendEntry,
} from '../../../src/output/report-trend.js';

const run = (day: number, over: Partial<TrendEntry> = {}): TrendEntry => ({
  batch_id: `b${day}`,
  started_at: `2026-12-${String(day).padStart(2, '0')}T02:00:00.000Z`,
  finished_at: `2026-12-${String(day).padStart(2, '0')}T02:10:00.000Z`,
  rows: 1000,
  reachable: 900,
  not_reachable: 100,
  unknown: 0,
  stale: 10,
  stale_days: 60,
  changes: 5,
  ...over,
});

const report = (trend: TrendEntry[], label: string | null = 'nightly'): BatchReport => {
  const last = trend.at(-1);
  const built = new ReportAccumulator(60).build(
    {
      batchId: last?.batch_id ?? 'b',
      inputFile: 'fleet.csv',
      provider: 'identity-insights',
      startedAt: last?.started_at ?? '2026-12-01T02:00:00.000Z',
      staleDays: 60,
      staleFile: 'no-connectivity-60d.csv',
      changesFile: 'changes.csv',
      label,
    },
    0,
    last?.finished_at ?? '',
  );
  return { ...built, trend };
};

describe('trend of a label', () => {
  it("takes this run's figures from its report, and names the run by batch and start", () => {
    const r = new ReportAccumulator(45).build(
      {
        batchId: 'abc',
        inputFile: 'f.csv',
        provider: null,
        startedAt: '2026-12-04T22:45:00.000Z',
        staleDays: 45,
        staleFile: 's',
        changesFile: 'c',
        label: 'x',
      },
      0,
      '2026-12-04T22:50:00.000Z',
    );
    expect(trendEntry(r)).toEqual({
      batch_id: 'abc',
      started_at: '2026-12-04T22:45:00.000Z',
      finished_at: '2026-12-04T22:50:00.000Z',
      rows: 0,
      reachable: 0,
      not_reachable: 0,
      unknown: 0,
      stale: 0,
      stale_days: 45,
      changes: 0,
    });
    expect(trendRunId(r)).toBe('abc@2026-12-04T22:45:00.000Z');
    expect(r.label).toBe('x');
    expect(r.trend).toEqual([]);
  });

  it('reads the log oldest first and leaves out what is not an entry', () => {
    const entries = [run(3), run(1), run(2)].map((e) => JSON.stringify(e));
    entries.push('not json', '{"batch_id":"b9","started_at":"2026-12-09"}', 'null');
    expect(parseTrend(entries).map((e) => e.batch_id)).toEqual(['b1', 'b2', 'b3']);
  });

  it('says what moved since the run before, with signs and separators', () => {
    expect(trendDelta([run(1)])).toBeNull();
    expect(trendDelta([run(1), run(2)])).toBeNull();
    expect(trendDelta([run(1), run(2, { reachable: 2300, not_reachable: 98, stale: 12, rows: 2398 })])).toBe(
      'rows +1,398, reachable +1,400, not reachable −2, stale +2',
    );
  });

  it('shows the last 10 runs newest first, this one marked, with a caption when more are kept', () => {
    const trend = Array.from({ length: 12 }, (_, i) => run(i + 1, { reachable: 1000 + i }));
    const table = trendTable(report(trend));
    expect(table.head).toEqual(['run', 'rows', 'reachable', 'not reachable', 'stale (60+ days)', 'changes']);
    expect(table.rows).toHaveLength(10);
    expect(table.rows[0]).toEqual(['12 Dec 2026, 02:00 UTC (this run)', '1,000', '1,011', '100', '10', '5']);
    expect(table.rows[9]?.[0]).toBe('3 Dec 2026, 02:00 UTC');
    expect(table.caption).toBe('The last 10 of 12 runs kept; all are in report.json.');
    expect(trendTable(report(trend.slice(0, 3))).caption).toBe('');
  });

  it('names each run’s threshold when the runs used different --stale-days', () => {
    const table = trendTable(report([run(1, { stale_days: 30, stale: 40 }), run(2)]));
    expect(table.head[4]).toBe('stale (N+ days)');
    expect(table.rows.map((r) => r[4])).toEqual(['10 (60+)', '40 (30+)']);
  });

  it('sums the trend up in a sentence and in the scan summary', () => {
    expect(trendSentence(report([run(1)]))).toBe(
      'This is the first run labelled “nightly” in the history: the trend starts with the next one.',
    );
    const three = [run(1), run(2, { not_reachable: 101 }), run(3, { not_reachable: 103, reachable: 897 })];
    expect(trendSentence(report(three))).toBe(
      '3 runs labelled “nightly” since 1 Dec 2026; since the run before: reachable −3, not reachable +2.',
    );
    expect(trendSummaryLine(report(three))).toBe(
      'trend "nightly" (last 3 runs): reachable 900 → 900 → 897, not reachable 100 → 101 → 103, stale 10 → 10 → 10',
    );
    expect(trendSummaryLine(report([run(1)]))).toBeNull();
    expect(trendSummaryLine(report(three, null))).toBeNull();
  });
});
