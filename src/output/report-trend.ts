import { formatCount, formatDay, formatTime, plural } from './format.js';
import type { BatchReport } from './report.js';

/**
 * One run of a label, as report.json's `trend` lists it and the run log keeps it: enough to see where a fleet is
 * going (reachable, not reachable, stale, changes) without opening each run's report.
 */
export interface TrendEntry {
  readonly batch_id: string | null;
  readonly started_at: string;
  readonly finished_at: string;
  readonly rows: number;
  readonly reachable: number;
  readonly not_reachable: number;
  readonly unknown: number;
  /** Rows without connectivity for `stale_days` or more (the stale list). */
  readonly stale: number;
  readonly stale_days: number;
  /** Rows that changed since their number's previous check. */
  readonly changes: number;
}

/** Runs the reports show (newest first); report.json has every run the log keeps. */
export const TREND_SHOWN = 10;

/** This run's entry. */
export function trendEntry(report: BatchReport): TrendEntry {
  return {
    batch_id: report.batch_id,
    started_at: report.started_at,
    finished_at: report.finished_at,
    rows: report.rows.total,
    reachable: report.reachability.reachable,
    not_reachable: report.reachability.not_reachable,
    unknown: report.reachability.unknown,
    stale: report.stale.rows,
    stale_days: report.stale.days,
    changes: report.changes.rows,
  };
}

/** What identifies a run in the log: its batch and when it started (a batch id comes back when a file is scanned again). */
export function trendRunId(report: BatchReport): string {
  return `${report.batch_id ?? ''}@${report.started_at}`;
}

const COUNTS = ['rows', 'reachable', 'not_reachable', 'unknown', 'stale', 'stale_days', 'changes'] as const;

/**
 * The log's entries as a trend, oldest run first. Entries come back from Redis as text: one that is not an
 * entry (written by a later version, say) is left out rather than trusted.
 */
export function parseTrend(entries: readonly string[]): TrendEntry[] {
  const trend: TrendEntry[] = [];
  for (const text of entries) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      continue;
    }
    const e = value as Partial<Record<keyof TrendEntry, unknown>> | null;
    if (
      typeof e === 'object' &&
      e !== null &&
      (e.batch_id === null || typeof e.batch_id === 'string') &&
      typeof e.started_at === 'string' &&
      typeof e.finished_at === 'string' &&
      COUNTS.every((k) => typeof e[k] === 'number')
    ) {
      trend.push(value as TrendEntry);
    }
  }
  return trend.sort((a, b) => a.started_at.localeCompare(b.started_at));
}

/** "reachable −2, not reachable +2, stale +1": what moved since the run before; null when nothing did. */
export function trendDelta(trend: readonly TrendEntry[]): string | null {
  const [before, last] = trend.slice(-2);
  if (before === undefined || last === undefined) return null;
  const moved = (
    [
      ['rows', 'rows'],
      ['reachable', 'reachable'],
      ['not reachable', 'not_reachable'],
      ['stale', 'stale'],
    ] as const
  )
    .map(([name, key]) => [name, last[key] - before[key]] as const)
    .filter(([, d]) => d !== 0)
    .map(([name, d]) => `${name} ${d > 0 ? '+' : '−'}${formatCount(Math.abs(d))}`);
  return moved.length > 0 ? moved.join(', ') : null;
}

/** The trend as a table, newest run first (the reports' section). */
export function trendTable(report: BatchReport): { head: string[]; rows: string[][]; caption: string } {
  const shown = report.trend.slice(-TREND_SHOWN).reverse();
  const staleDays = new Set(report.trend.map((e) => e.stale_days));
  const staleHead = staleDays.size === 1 ? `stale (${report.stale.days}+ days)` : 'stale (N+ days)';
  return {
    head: ['run', 'rows', 'reachable', 'not reachable', staleHead, 'changes'],
    rows: shown.map((e) => [
      `${formatTime(e.started_at)}${e.batch_id === report.batch_id && e.started_at === report.started_at ? ' (this run)' : ''}`,
      formatCount(e.rows),
      formatCount(e.reachable),
      formatCount(e.not_reachable),
      staleDays.size === 1 ? formatCount(e.stale) : `${formatCount(e.stale)} (${e.stale_days}+)`,
      formatCount(e.changes),
    ]),
    caption:
      report.trend.length > shown.length
        ? `The last ${formatCount(shown.length)} of ${plural(report.trend.length, 'run')} kept; all are in report.json.`
        : '',
  };
}

/** One sentence over the trend: how many runs, since when, and what moved since the run before. */
export function trendSentence(report: BatchReport): string {
  const label = `“${report.label ?? ''}”`;
  const first = report.trend[0];
  if (report.trend.length < 2 || first === undefined) {
    return `This is the first run labelled ${label} in the history: the trend starts with the next one.`;
  }
  const delta = trendDelta(report.trend);
  return (
    `${plural(report.trend.length, 'run')} labelled ${label} since ${formatDay(first.started_at)}` +
    `${delta === null ? '; nothing moved since the run before.' : `; since the run before: ${delta}.`}`
  );
}

/** The scan summary's line: the last few runs' figures side by side, oldest first. */
export function trendSummaryLine(report: BatchReport, runs = 5): string | null {
  if (report.label === null || report.trend.length < 2) return null;
  const last = report.trend.slice(-runs);
  const series = (key: 'reachable' | 'not_reachable' | 'stale') =>
    last.map((e) => formatCount(e[key])).join(' → ');
  return (
    `trend "${report.label}" (last ${plural(last.length, 'run')}): reachable ${series('reachable')}, ` +
    `not reachable ${series('not_reachable')}, stale ${series('stale')}`
  );
}
