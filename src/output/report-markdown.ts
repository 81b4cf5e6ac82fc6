import { CHANGE_KINDS } from '../history/changes.js';
import {
  bucketLabel,
  CHANGE_LABELS,
  changesLine,
  costLine,
  SIMULATED_BANNER,
  simulatedNote,
  sourcesLine,
  type BatchReport,
} from './report.js';
import { longestGapsTable, type ReportTable } from './report-longest.js';
import { trendSentence, trendTable } from './report-trend.js';
import { formatCount, formatShare, formatSpan, formatTime, plural } from './format.js';

/** report.md: the same figures, for people. Changes lead when there are any: they are what a nightly run is for. */
export function renderMarkdown(report: BatchReport): string {
  return [
    ...simulatedBanner(report),
    ...heading(report),
    '',
    ...trendSection(report),
    ...changesSection(report),
    '',
    ...summarySection(report),
    '',
    ...costSection(report),
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

/** What the run's upstream requests cost; nothing for a report rebuilt from a results file. */
function costSection(report: BatchReport): string[] {
  return report.cost === undefined ? [] : ['## Cost', '', `${costLine(report.cost)}.`, ''];
}

/** On a simulated run, a warning before anything else; nothing otherwise. */
function simulatedBanner(report: BatchReport): string[] {
  return report.simulated ? [`> **${SIMULATED_BANNER}**: ${simulatedNote(report)}`, ''] : [];
}

/** The title, then which batch and when. */
function heading(report: BatchReport): string[] {
  return [
    `# reachscan report: ${report.input_file}`,
    '',
    `${report.batch_id !== null ? `Batch \`${report.batch_id}\`, provider ${report.provider ?? 'unknown'}, ` : 'Rebuilt from a results file, '}${formatSpan(report.started_at, report.finished_at)}.`,
  ];
}

/** The label's last runs, newest first; nothing for a run without a label. */
function trendSection(report: BatchReport): string[] {
  if (report.label === null) return [];
  const sentence = trendSentence(report);
  if (report.trend.length < 2) return ['## Trend', '', sentence, ''];
  const { head, rows, caption } = trendTable(report);
  const numeric = head.map((_, i) => i > 0);
  return [
    '## Trend',
    '',
    sentence,
    '',
    ...markdownTable({ head, numeric, rows }),
    ...(caption !== '' ? ['', caption] : []),
    '',
  ];
}

function changesSection(report: BatchReport): string[] {
  const c = report.changes;
  if (c.compared_rows === 0) return ['## Changes since the previous check', '', `${changesLine(report)}.`];
  if (c.rows === 0) {
    return [
      '## Changes since the previous check',
      '',
      `None of the ${plural(c.compared_rows, 'row')} checked before has changed.`,
    ];
  }
  return [
    '## Changes since the previous check',
    '',
    `${formatCount(c.rows)} of the ${plural(c.compared_rows, 'row')} checked before ${c.rows === 1 ? 'has' : 'have'} changed (${c.file}).`,
    '',
    '| change | rows |',
    '|---|---:|',
    ...CHANGE_KINDS.map((k) => `| ${CHANGE_LABELS[k]} | ${formatCount(c.by_kind[k])} |`),
  ];
}

/** Row counts, where the answers came from, and the stale list in bold. */
function summarySection(report: BatchReport): string[] {
  const stale = report.stale;
  return [
    '## Summary',
    '',
    `${plural(report.rows.total, 'row')} (${plural(report.rows.valid, 'valid number')}, ${formatCount(report.invalid_numbers)} invalid, ` +
      `${plural(report.rows.duplicate, 'duplicate')}, ${plural(report.unique_numbers, 'unique number')}); ` +
      `${sourcesLine(report)}; ` +
      `${plural(report.malformed_records, 'record')} rejected as malformed CSV (rejects.csv); ${lookupsText(report)}`,
    '',
    `**${plural(stale.rows, 'row')} ${stale.rows === 1 ? 'has' : 'have'} had no connectivity for ${plural(stale.days, 'day')} or more** (${stale.file}; evidence: ` +
      `${formatCount(stale.evidence.status_time)} by the carrier's status time, ${formatCount(stale.evidence.history)} by the history).`,
  ];
}

function reachabilitySection(report: BatchReport): string[] {
  const r = report.reachability;
  if (report.rows.total === 0) return ['## Reachability', '', 'The file had no rows.'];
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
  if (report.no_connectivity_days.every((b) => b.rows === 0))
    return ['## Days without connectivity', '', 'No row is known to be without connectivity.'];
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
          `Longest without connectivity (${stale.top.length < stale.rows ? `the ${formatCount(stale.top.length)} longest of ${formatCount(stale.rows)}` : 'all'}):`,
          '',
          ...markdownTable(longestGapsTable(stale, { count: formatCount, time: formatTime })),
        ]
      : []),
  ];
}

function roamingSection(report: BatchReport): string[] {
  const m = report.roaming;
  if (report.rows.total === 0) return ['## Roaming', '', 'The file had no rows.'];
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
      ? shareTable(report, 'roaming in', Object.entries(m.by_country), m.roaming)
      : 'No roaming devices.',
  ];
}

function statusCodesSection(report: BatchReport): string[] {
  if (report.rows.total === 0) return ['## Status codes', '', 'None: the file had no rows.'];
  return [
    '## Status codes',
    '',
    shareTable(
      report,
      'reachability status',
      Object.entries(report.status_counts.reachability),
      report.rows.total,
    ),
    '',
    shareTable(report, 'roaming status', Object.entries(report.status_counts.roaming), report.rows.total),
  ];
}

/**
 * Rows per value, each with its share of `of`: by default the rows with a valid number, the numbers asked (an
 * invalid cell is not an answer, so it does not dilute the carrier's answers).
 */
function shareTable(
  report: BatchReport,
  title: string,
  rows: [string, number][],
  of: number = report.rows.valid,
): string {
  return [
    `| ${title} | rows | share |`,
    '|---|---:|---:|',
    ...rows.map(([k, v]) => `| ${k} | ${formatCount(v)} | ${formatShare(v, of)} |`),
  ].join('\n');
}

/** Failed lookups, apart from the findings about the input; and what the shares below are of. */
function lookupsText(report: BatchReport): string {
  return (
    `${plural(report.lookups_failed, 'lookup')} failed after their retries. Shares are of the ` +
    `${plural(report.rows.valid, 'row')} with a valid number (the numbers asked); countries of the roaming rows; ` +
    'status codes of all rows.'
  );
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
