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
import { histogramSvg } from './report-histogram.js';
import { longestGapsTable } from './report-longest.js';
import { trendSentence, trendTable } from './report-trend.js';
import { formatCount, formatShare, formatSpan, formatTime, plural } from './format.js';

/**
 * report.html: one self-contained page (inline CSS and SVG, no script, nothing fetched), so it opens from a
 * mail attachment or a file share. Every bar carries `data-chart`, `data-label` and `data-value`, so what the
 * page shows can be checked against report.json.
 */
export function renderHtml(report: BatchReport): string {
  return `${pageHead(report)}
<body>
${simulatedBanner(report)}${heading(report)}
${trendSection(report)}
${costSection(report)}

${changesSection(report)}

${connectivitySection(report)}

${noConnectivitySection(report)}

${roamingSection(report)}

${statusCodesSection(report)}
</body>
</html>
`;
}

/** The document up to `<body>`: the title and the inline style sheet. */
function pageHead(report: BatchReport): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>reachscan report: ${esc(report.input_file)}</title>
<style>
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 62rem; padding: 0 1rem; color: #1d2430; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; } h2 { font-size: 1.15rem; margin-top: 2.2rem; border-bottom: 1px solid #d8dde5; }
.meta { color: #5b6576; margin-top: 0; }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(9.5rem, 1fr)); gap: .6rem; }
.figure { border: 1px solid #d8dde5; border-radius: 6px; padding: .6rem .8rem; }
.figure b { display: block; font-size: 1.6rem; } .figure span { color: #5b6576; font-size: .85rem; }
table { border-collapse: collapse; margin: .8rem 0; font-size: .9rem; } th, td { text-align: left; padding: .25rem .7rem .25rem 0; border-bottom: 1px solid #eef0f4; }
td.n { text-align: right; } caption { text-align: left; color: #5b6576; caption-side: bottom; }
svg text { font: 12px system-ui, sans-serif; fill: #1d2430; }
</style>
</head>`;
}

/**
 * On a simulated run, a banner above everything else: a demo's page must not pass for carrier data once it is
 * mailed on. Styled inline so it stands on its own. Empty otherwise.
 */
function simulatedBanner(report: BatchReport): string {
  if (!report.simulated) return '';
  return `<div id="simulated-banner" role="alert" style="background: #fff4d6; border: 2px solid #d89b00; border-radius: 6px; padding: .7rem 1rem; margin-bottom: 1.2rem;"><strong>${esc(SIMULATED_BANNER)}</strong>: ${esc(simulatedNote(report))}</div>
`;
}

/** The title, which batch and when, and the headline figures. */
function heading(report: BatchReport): string {
  const which =
    report.batch_id !== null
      ? `Batch ${esc(report.batch_id)}, provider ${esc(report.provider ?? 'unknown')}`
      : 'Rebuilt from a results file';
  return `<h1>reachscan report: ${esc(report.input_file)}</h1>
<p class="meta">${which}; ${esc(formatSpan(report.started_at, report.finished_at))}; ${sourcesLine(report)}.</p>
<section class="figures" id="headline">${headlineFigures(report)}</section>`;
}

function headlineFigures(report: BatchReport): string {
  const r = report.reachability;
  const m = report.roaming;
  const c = report.changes;
  const s = report.stale;
  // Shares of the carrier's answers are of the numbers asked: an invalid cell is no answer.
  const pct = (n: number) => formatShare(n, report.rows.valid);
  return [
    figure('rows', report.rows.total, plural(report.unique_numbers, 'unique number')),
    figure('reachable', r.reachable, pct(r.reachable)),
    figure('not reachable', r.not_reachable, pct(r.not_reachable)),
    figure(`no connectivity ${s.days}+ days`, s.rows, s.file),
    figure('roaming', m.roaming, pct(m.roaming)),
    figure(
      'changes',
      c.rows,
      c.compared_rows > 0 ? `of ${plural(c.compared_rows, 'row')} checked before` : 'first check',
    ),
    ...inputFigures(report),
  ].join('');
}

/** Failed lookups, apart from what is wrong with the input (findings, not failures). */
function inputFigures(report: BatchReport): string[] {
  return [
    figure('lookups failed', report.lookups_failed, 'no answer after the retries'),
    figure(
      'invalid numbers',
      report.invalid_numbers,
      `${plural(report.malformed_records, 'malformed record')} (rejects.csv)`,
    ),
  ];
}

/** What the run's upstream requests cost; left out of a report rebuilt from a results file. */
function costSection(report: BatchReport): string {
  if (report.cost === undefined) return '';
  return `\n<h2 id="cost">Cost</h2>\n<p data-cost>${esc(costLine(report.cost))}.</p>`;
}

/** The label's last runs, newest first; left out for a run without a label. */
function trendSection(report: BatchReport): string {
  if (report.label === null) return '';
  const sentence = `<p>${esc(trendSentence(report))}</p>`;
  if (report.trend.length < 2) return `\n<h2 id="trend">Trend</h2>\n${sentence}`;
  const { head, rows, caption } = trendTable(report);
  return `\n<h2 id="trend">Trend</h2>\n${sentence}\n${table(head, rows, caption, 'trend-runs')}`;
}

function changesSection(report: BatchReport): string {
  const c = report.changes;
  const changes =
    c.compared_rows === 0
      ? `<p>${esc(changesLine(report))}.</p>`
      : c.rows === 0
        ? `<p>None of the ${plural(c.compared_rows, 'row')} checked before has changed.</p>`
        : [
            `<p>${formatCount(c.rows)} of the ${plural(c.compared_rows, 'row')} checked before ${c.rows === 1 ? 'has' : 'have'} changed (all in <code>${esc(c.file)}</code>).</p>`,
            barChart(
              'changes',
              CHANGE_KINDS.map((k) => [CHANGE_LABELS[k], c.by_kind[k]]),
            ),
            changeSample(c),
          ].join('\n');
  return `<h2 id="changes">Changes since the previous check</h2>
${changes}`;
}

/** The first changes, one row each (empty when there are none). */
function changeSample(c: BatchReport['changes']): string {
  if (c.sample.length === 0) return '';
  return table(
    ['number', 'change', 'before', 'after', 'previous check', 'this check'],
    c.sample.map((e) => [
      e.phone_e164,
      CHANGE_LABELS[e.change],
      e.before,
      e.after,
      formatTime(e.previous_checked_at),
      formatTime(e.checked_at),
    ]),
    c.rows > c.sample.length ? `First ${formatCount(c.sample.length)} changes.` : '',
  );
}

function connectivitySection(report: BatchReport): string {
  const r = report.reachability;
  if (report.rows.total === 0) return '<h2 id="connectivity">Connectivity</h2>\n<p>The file had no rows.</p>';
  return `<h2 id="connectivity">Connectivity</h2>
${barChart('connectivity', [
  ['reachable, with data', r.data],
  ['reachable, SMS only', r.sms_only],
  ['reachable, other', r.reachable - r.data - r.sms_only],
  ['not reachable', r.not_reachable],
  ['unknown', r.unknown],
])}`;
}

/** The days-without-connectivity histogram (the stale list's bars highlighted), then the longest gaps. */
function noConnectivitySection(report: BatchReport): string {
  const s = report.stale;
  const known = report.no_connectivity_days.reduce((sum, b) => sum + b.rows, 0);
  const unknownGap = report.reachability.not_reachable - known;
  const untimed =
    unknownGap > 0
      ? ` ${plural(unknownGap, 'row')} not reachable ${unknownGap === 1 ? 'has' : 'have'} no known start of the gap yet.`
      : '';
  if (known === 0) {
    return `<h2 id="no-connectivity">Days without connectivity</h2>
<p>No row is known to be without connectivity.${untimed}</p>`;
  }
  const gaps = longestGapsTable(s, { count: formatCount, time: formatTime });
  return `<h2 id="no-connectivity">Days without connectivity</h2>
<p>Rows not reachable now, by days since they last had connectivity (as of their check).${untimed} Bars of ${plural(s.days, 'day')} or more are the stale list: ${plural(s.rows, 'row')}, ${formatCount(s.evidence.status_time)} by the carrier's status time, ${formatCount(s.evidence.history)} by the history.</p>
${histogramSvg('no-connectivity-days', report.no_connectivity_days, s.days, bucketLabel, formatCount)}
${table(
  ['days without connectivity', 'rows'],
  report.no_connectivity_days.map((b) => [
    `${bucketLabel(b)} ${b.from === 1 && b.to === 1 ? 'day' : 'days'}`,
    formatCount(b.rows),
  ]),
  '',
  'no-connectivity-table',
)}
${
  s.top.length > 0
    ? table(
        gaps.head,
        gaps.rows,
        `${s.top.length < s.rows ? `The ${plural(s.top.length, 'number')} longest without connectivity` : 'Longest first'}; all ${plural(s.rows, 'row')} are in ${s.file}.`,
        'stale-top',
      )
    : `<p>No row has gone ${plural(s.days, 'day')} without connectivity.</p>`
}`;
}

function roamingSection(report: BatchReport): string {
  const m = report.roaming;
  const countries = countryBars(m.by_country);
  if (report.rows.total === 0) return '';
  return `<h2 id="roaming">Roaming</h2>
<p>${formatCount(m.roaming)} roaming, ${formatCount(m.not_roaming)} at home, ${formatCount(m.unknown)} unknown.</p>
${countries.length > 0 ? barChart('roaming-countries', countries) : '<p>No roaming devices.</p>'}`;
}

/** A bar for each of the first 15 countries (most rows first), and one for all the others together. */
function countryBars(byCountry: BatchReport['roaming']['by_country']): [string, number][] {
  const countries = Object.entries(byCountry);
  const shown = countries.slice(0, 15);
  const others = countries.slice(15).reduce((sum, [, n]) => sum + n, 0);
  if (others > 0) shown.push([`${countries.length - 15} others`, others]);
  return shown;
}

function statusCodesSection(report: BatchReport): string {
  const codes = Object.entries(report.status_counts.reachability);
  if (codes.length === 0) return '';
  return `<h2 id="status-codes">Status codes</h2>
${table(
  ['reachability status', 'rows'],
  codes.map(([k, v]) => [k, formatCount(v)]),
)}`;
}

function figure(label: string, value: number, note: string): string {
  return `<div class="figure" data-figure="${esc(label)}"><b>${formatCount(value)}</b>${esc(label)}<br><span>${esc(note)}</span></div>`;
}

const BAR_WIDTH = 520;

/** Horizontal bars, one per label, lengths proportional to the values. */
function barChart(name: string, rows: readonly (readonly [string, number])[]): string {
  const max = Math.max(1, ...rows.map(([, v]) => v));
  const rowHeight = 26;
  const labelWidth = 200;
  const height = rows.length * rowHeight + 4;
  const bars = rows
    .map(([label, value], i) => {
      const y = i * rowHeight + 2;
      const width = (BAR_WIDTH * value) / max;
      return (
        `<text x="${labelWidth - 8}" y="${y + 16}" text-anchor="end">${esc(label)}</text>` +
        `<rect data-chart="${name}" data-label="${esc(label)}" data-value="${value}" x="${labelWidth}" y="${y + 3}" width="${width.toFixed(2)}" height="${rowHeight - 8}" fill="#3b6fd8"></rect>` +
        `<text x="${labelWidth + width + 6}" y="${y + 16}">${formatCount(value)}</text>`
      );
    })
    .join('');
  return `<svg role="img" aria-label="${name}" data-chart="${name}" width="${labelWidth + BAR_WIDTH + 60}" height="${height}" viewBox="0 0 ${labelWidth + BAR_WIDTH + 60} ${height}">${bars}</svg>`;
}

function table(head: readonly string[], rows: readonly (readonly string[])[], caption = '', id = ''): string {
  const numeric = (cell: string) => /^\d{1,3}(,\d{3})*$/.test(cell);
  return (
    `<table${id !== '' ? ` id="${id}"` : ''}>${caption !== '' ? `<caption>${esc(caption)}</caption>` : ''}` +
    `<thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>` +
    rows
      .map(
        (row) =>
          `<tr>${row.map((cell) => `<td${numeric(cell) ? ' class="n"' : ''}>${esc(cell)}</td>`).join('')}</tr>`,
      )
      .join('') +
    '</tbody></table>'
  );
}

/** Everything from the input (file names, countries, numbers) is escaped: the page must not run a cell. */
function esc(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] as string,
  );
}
