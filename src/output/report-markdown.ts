import { CHANGE_KINDS } from '../history/changes.js';
import {
  bucketLabel,
  CHANGE_LABELS,
  changesLine,
  SIMULATED_BANNER,
  simulatedNote,
  sourcesLine,
  type BatchReport,
} from './report.js';

/** report.md: the same figures, for people. Changes lead when there are any: they are what a nightly run is for. */
export function renderMarkdown(report: BatchReport): string {
  return [
    ...simulatedBanner(report),
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

/** On a simulated run, a warning before anything else; nothing otherwise. */
function simulatedBanner(report: BatchReport): string[] {
  return report.simulated ? [`> **${SIMULATED_BANNER}**: ${simulatedNote(report)}`, ''] : [];
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
    `${report.rows.total} rows (${report.rows.valid} valid numbers, ${report.invalid_numbers} invalid, ` +
      `${report.rows.duplicate} duplicates, ${report.unique_numbers} unique numbers); ` +
      `${sourcesLine(report)}; ` +
      `${report.malformed_records} records rejected as malformed CSV (rejects.csv); ${lookupsText(report)}`,
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
          '| number | days | since | evidence |',
          '|---|---:|---|---|',
          ...stale.top.map((e) => `| ${e.phone_e164} | ${e.days} | ${e.since} | ${e.evidence} |`),
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
      ? shareTable(report, 'roaming in', Object.entries(m.by_country), m.roaming)
      : 'No roaming devices.',
  ];
}

function statusCodesSection(report: BatchReport): string[] {
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
  const pct = (n: number) => (of === 0 ? '0%' : `${((100 * n) / of).toFixed(1)}%`);
  return [
    `| ${title} | rows | share |`,
    '|---|---:|---:|',
    ...rows.map(([k, v]) => `| ${k} | ${v} | ${pct(v)} |`),
  ].join('\n');
}

/** Failed lookups, apart from the findings about the input; and what the shares below are of. */
function lookupsText(report: BatchReport): string {
  return (
    `${report.lookups_failed} lookups failed after their retries. Shares are of the ${report.rows.valid} ` +
    'rows with a valid number (the numbers asked); countries of the roaming rows; status codes of all rows.'
  );
}
