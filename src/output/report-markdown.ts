import { CHANGE_KINDS } from '../history/changes.js';
import { bucketLabel, CHANGE_LABELS, changesLine, type BatchReport } from './report.js';
import { longestGapsTable, type ReportTable } from './report-longest.js';

/** report.md: the same figures, for people. Changes lead when there are any: they are what a nightly run is for. */
export function renderMarkdown(report: BatchReport): string {
  return [
    ...heading(report),
    '',
    ...changesSection(report),
    '',
    ...summarySection(report),
    '',
    ...reachabilitySection(report),
    '',
    ...noConnectivitySection(report),
    '',
    ...roamingSection(report),
    '',
    ...statusCodesSection(report),
    '',
  ].join('\n');
}

/** The title, then which batch and when. */
function heading(report: BatchReport): string[] {
  return [
    `# reachscan report: ${report.input_file}`,
    '',
    `${report.batch_id !== null ? `Batch \`${report.batch_id}\`, provider ${report.provider ?? 'unknown'}, ` : 'Rebuilt from a results file, '}${report.started_at} → ${report.finished_at}.`,
  ];
}

function changesSection(report: BatchReport): string[] {
  const c = report.changes;
  return c.compared_rows === 0
    ? ['## Changes since the previous check', '', `${changesLine(report)}.`]
    : [
        '## Changes since the previous check',
        '',
        `${c.rows} of ${c.compared_rows} rows checked before have changed (${c.file}).`,
        '',
        '| change | rows |',
        '|---|---:|',
        ...CHANGE_KINDS.map((k) => `| ${CHANGE_LABELS[k]} | ${c.by_kind[k]} |`),
      ];
}

/** Row counts, where the answers came from, and the stale list in bold. */
function summarySection(report: BatchReport): string[] {
  const stale = report.stale;
  return [
    '## Summary',
    '',
    `${report.rows.total} rows (${report.rows.valid} valid numbers, ${report.rows.invalid} invalid, ` +
      `${report.rows.duplicate} duplicates, ${report.unique_numbers} unique numbers); ` +
      `${report.source.live} rows asked live, ${report.source.cache} answered from the history; ` +
      `${report.rows.rejected} records rejected as malformed CSV (rejects.csv); ${report.rows_in_error} rows in error.`,
    '',
    `**${stale.rows} rows have had no connectivity for ${stale.days} days or more** (${stale.file}; evidence: ` +
      `${stale.evidence.status_time} by the carrier's status time, ${stale.evidence.history} by the history).`,
  ];
}

function reachabilitySection(report: BatchReport): string[] {
  const r = report.reachability;
  return [
    '## Reachability',
    '',
    shareTable(report, 'status', [
      ['reachable', r.reachable],
      ['… with data', r.data],
      ['… SMS only', r.sms_only],
      ['not reachable', r.not_reachable],
      ['unknown', r.unknown],
    ]),
  ];
}

/** The days-without-connectivity histogram, then the longest gaps when there are any. */
function noConnectivitySection(report: BatchReport): string[] {
  const stale = report.stale;
  return [
    '## Days without connectivity',
    '',
    shareTable(
      report,
      'days',
      report.no_connectivity_days.map((b) => [bucketLabel(b), b.rows]),
    ),
    ...(stale.top.length > 0
      ? [
          '',
          `Longest without connectivity (first ${stale.top.length}):`,
          '',
          ...markdownTable(longestGapsTable(stale, { count: String, time: String })),
        ]
      : []),
  ];
}

function roamingSection(report: BatchReport): string[] {
  const m = report.roaming;
  return [
    '## Roaming',
    '',
    shareTable(report, 'status', [
      ['roaming', m.roaming],
      ['not roaming', m.not_roaming],
      ['unknown', m.unknown],
    ]),
    '',
    Object.keys(m.by_country).length > 0
      ? shareTable(report, 'roaming in', Object.entries(m.by_country))
      : 'No roaming devices.',
  ];
}

function statusCodesSection(report: BatchReport): string[] {
  return [
    '## Status codes',
    '',
    shareTable(report, 'reachability status', Object.entries(report.status_counts.reachability)),
    '',
    shareTable(report, 'roaming status', Object.entries(report.status_counts.roaming)),
  ];
}

/** Rows per value, each with its share of all rows. */
function shareTable(report: BatchReport, title: string, rows: [string, number][]): string {
  const pct = (n: number) =>
    report.rows.total === 0 ? '0%' : `${((100 * n) / report.rows.total).toFixed(1)}%`;
  return [
    `| ${title} | rows | share |`,
    '|---|---:|---:|',
    ...rows.map(([k, v]) => `| ${k} | ${v} | ${pct(v)} |`),
  ].join('\n');
}

/** A table whose count columns are right-aligned; `|` in a cell is escaped so it cannot split the row. */
function markdownTable({ head, numeric, rows }: ReportTable): string[] {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
  return [
    `| ${head.map(cell).join(' | ')} |`,
    `|${numeric.map((n) => (n ? '---:' : '---')).join('|')}|`,
    ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
  ];
}
