import type { Plan } from '../../batch/plan.js';
import type { NumberState } from '../../history/number-state.js';
import type { BatchSummary, BatchView } from '../batches.js';
import { count, duration, escape, layout, notice, stateBadge, time, type Html } from './html.js';

export const PROVIDERS = ['identity-insights', 'device-status', 'camara'] as const;

export function signInPage(csrf: string, error: string | null): Html {
  return layout(
    { title: 'Sign in', csrf: null },
    `<div class="card narrow">
<h1>Sign in</h1>
${error === null ? '' : notice('error', error)}
<form class="stack" method="post" action="/sign-in">
<input type="hidden" name="_csrf" value="${escape(csrf)}">
<div><label for="token">API token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus></div>
<div class="actions"><button type="submit">Sign in</button></div>
</form>
</div>`,
  );
}

/** What the new-scan form sends back when it is shown again (after an error, or with the plan). */
export interface ScanChoices {
  readonly provider: string;
  readonly defaultCountry: string;
  readonly staleDays: string;
  readonly maxAge: string;
  readonly column: string;
}

export const NO_CHOICES: ScanChoices = {
  provider: 'identity-insights',
  defaultCountry: '',
  staleDays: '60',
  maxAge: '',
  column: '',
};

export function newScanPage(csrf: string, choices: ScanChoices, error: string | null): Html {
  const options = PROVIDERS.map(
    (p) => `<option value="${p}"${p === choices.provider ? ' selected' : ''}>${p}</option>`,
  ).join('');
  return layout(
    { title: 'New scan', csrf, current: 'scan' },
    `<h1>New scan</h1>
${error === null ? '' : notice('error', error)}
<form class="card stack" method="post" action="/scan?_csrf=${encodeURIComponent(csrf)}" enctype="multipart/form-data">
<div><label for="file">CSV or Excel file <span class="hint">.csv or .xlsx, one row per customer or device, with a phone column</span></label>
<input id="file" name="file" type="file" accept=".csv,.txt,.xlsx,text/csv" required></div>
<div class="fields">
<div><label for="provider">Provider</label><select id="provider" name="provider">${options}</select></div>
<div><label for="default-country">Default country <span class="hint">for numbers without +; e.g. GB</span></label>
<input id="default-country" name="default-country" maxlength="2" autocapitalize="characters" value="${escape(choices.defaultCountry)}"></div>
<div><label for="stale-days">Stale days <span class="hint">list devices without connectivity this long</span></label>
<input id="stale-days" name="stale-days" type="number" min="1" max="36500" value="${escape(choices.staleDays)}"></div>
<div><label for="max-age">Max age <span class="hint">reuse answers newer than this, e.g. 7d; empty: ask all</span></label>
<input id="max-age" name="max-age" value="${escape(choices.maxAge)}"></div>
<div><label for="column">Phone column <span class="hint">empty: found from the header</span></label>
<input id="column" name="column" value="${escape(choices.column)}"></div>
</div>
<div class="actions"><button type="submit">Scan</button></div>
</form>`,
  );
}

/** A large file's plan, to confirm before anything is paid for. */
export function planPage(csrf: string, plan: Plan, upload: string, choices: ScanChoices): Html {
  const hidden = (name: string, value: string) =>
    `<input type="hidden" name="${name}" value="${escape(value)}">`;
  const rate =
    plan.estimated_seconds === null
      ? 'no cap of ours: the carrier decides'
      : duration(plan.estimated_seconds);
  return layout(
    { title: 'Confirm the scan', csrf, current: 'scan' },
    `<h1>Confirm the scan of ${escape(plan.file)}</h1>
<p>This file is large: here is what the scan will do before anything is asked of the carrier.</p>
<dl class="figures">
<div><dt>Rows</dt><dd>${count(plan.rows)}</dd></div>
<div><dt>Unique numbers</dt><dd>${count(plan.unique)}</dd></div>
<div><dt>Answered from the history</dt><dd>${count(plan.cached)}</dd></div>
<div><dt>Upstream requests</dt><dd>${count(plan.upstream_requests)}</dd></div>
<div><dt>Time at the rate${plan.rate_per_second === null ? '' : ` (${count(plan.rate_per_second)}/s)`}</dt><dd>${escape(rate)}</dd></div>
</dl>
<form class="actions" method="post" action="/scan/confirm">
${hidden('_csrf', csrf)}${hidden('upload', upload)}${hidden('name', plan.file)}${hidden('provider', choices.provider)}
${hidden('default-country', choices.defaultCountry)}${hidden('stale-days', choices.staleDays)}${hidden('max-age', choices.maxAge)}${hidden('column', choices.column)}
<button type="submit">Scan</button> <a href="/scan">Cancel</a>
</form>`,
  );
}

export function batchesPage(
  csrf: string,
  batches: readonly BatchSummary[],
  next: string | null,
  first: boolean,
): Html {
  const rows = batches.map(batchRow).join('\n');
  const table =
    batches.length === 0
      ? `<p class="card">No batches yet. <a href="/scan">Start a scan</a>.</p>`
      : `<div class="table-wrap batches" tabindex="0" role="region" aria-label="Batches, newest first">
<table>
<thead><tr><th scope="col">File name</th><th scope="col">Provider</th><th scope="col">Started</th><th scope="col">State</th><th scope="col" class="num">Progress</th><th scope="col" class="num">Rows</th><th scope="col" class="num">Reachable</th><th scope="col" class="num">Not reachable</th><th scope="col" class="num">No connectivity N+ days</th><th scope="col" class="num">In error</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
</div>`;
  const pager = `<nav class="pager" aria-label="Pages">${first ? '<span></span>' : '<a href="/">Newest</a>'}${
    next === null ? '' : `<a href="/?cursor=${encodeURIComponent(next)}">Older batches</a>`
  }</nav>`;
  return layout(
    { title: 'Batches', csrf, current: 'batches' },
    `<div class="actions"><h1>Batches</h1></div>
${table}
${pager}`,
  );
}

function batchRow(b: BatchSummary): Html {
  const progress = b.total === 0 ? '—' : `${Math.floor((b.done / b.total) * 100)}%`;
  const stale =
    b.no_connectivity.rows === null
      ? '—'
      : `${count(b.no_connectivity.rows)} <span class="hint">(${b.no_connectivity.days}+)</span>`;
  const cell = (label: string, content: Html, num = true) =>
    `<td${num ? ' class="num"' : ''} data-label="${label}">${content}</td>`;
  return `<tr>${[
    cell('File name', `<a href="/batch/${b.id}">${escape(b.input_file)}</a>`, false),
    cell('Provider', escape(b.provider), false),
    cell('Started', time(b.started_at ?? b.submitted_at), false),
    cell('State', stateBadge(b.state), false),
    cell('Progress', progress),
    cell('Rows', count(b.records)),
    cell('Reachable', count(b.reachable)),
    cell('Not reachable', count(b.not_reachable)),
    cell('No connectivity N+ days', stale),
    cell('In error', count(b.rows_in_error)),
  ].join('')}</tr>`;
}

export function batchPage(csrf: string, view: BatchView, message: string | null): Html {
  const form = (action: string, label: string) =>
    `<form method="post" action="/batch/${view.id}/${action}"><input type="hidden" name="_csrf" value="${escape(csrf)}"><button type="submit">${label}</button></form>`;
  const buttons = [
    view.state === 'paused' ? form('resume', 'Resume') : '',
    view.state === 'done' && (view.lookups_failed ?? 0) > 0 ? form('retry', 'Retry rows in error') : '',
  ].join('');
  const files = view.files
    .map((f) => `<li><a href="${escape(f.url)}" download>${escape(f.name)}</a></li>`)
    .join('');
  return layout(
    { title: view.input_file, csrf, current: 'batches' },
    `<div data-batch="${view.id}" data-state="${escape(view.state)}">
<h1>${escape(view.input_file)}</h1>
<p class="meta">${stateBadge(view.state)} · ${escape(view.provider)} · submitted ${time(view.submitted_at)}${view.finished_at === null ? '' : ` · finished ${time(view.finished_at)}`}</p>
${message === null ? '' : notice('info', message)}
${view.failure === null ? '' : notice('error', view.failure)}
<section aria-labelledby="progress-h"><h2 id="progress-h">Progress</h2>
<progress max="${Math.max(view.total, 1)}" value="${view.done}" aria-label="Numbers done"></progress>
<dl class="figures" aria-live="polite">
<div><dt>Numbers done</dt><dd><span data-field="done">${count(view.done)}</span> of <span data-field="total">${count(view.total)}</span></dd></div>
<div><dt>Rows read</dt><dd data-field="records">${count(view.records)}</dd></div>
<div><dt>Rate</dt><dd data-field="rate">${view.rate === null ? '—' : `${count(view.rate)} /s`}</dd></div>
<div><dt>ETA</dt><dd data-field="eta">${duration(view.eta_seconds)}</dd></div>
${view.state === 'done' ? `<div><dt>Rows in error</dt><dd>${count(view.rows_in_error)}</dd></div>` : ''}
</dl>
${view.paused === null ? '' : `<p class="notice notice-error" role="status"><strong>paused</strong>: <span data-field="paused">${escape(view.paused)}</span></p>`}
${view.retry === null ? '' : `<p>Retry of the rows in error: ${count(view.retry.rows)} rows, ${escape(view.retry.state)} (<a href="/batch/${view.retry.id}">its batch</a>).</p>`}
${buttons === '' ? '' : `<div class="actions">${buttons}</div>`}
</section>
${files === '' ? '' : `<section aria-labelledby="files-h"><h2 id="files-h">Downloads</h2><ul class="files">${files}</ul></section>`}
${view.state === 'done' || view.state === 'retrying' ? `<section aria-labelledby="report-h"><h2 id="report-h">Report</h2><iframe class="report" title="Report of ${escape(view.input_file)}" src="/batch/${view.id}/report"></iframe></section>` : ''}
</div>`,
  );
}

/** One change of a number, as a batch's changes.csv recorded it. */
export interface NumberChange {
  readonly change: string;
  readonly before: string;
  readonly after: string;
  readonly checkedAt: string;
  readonly batchId: string;
  readonly file: string;
}

export function numberPage(
  csrf: string,
  typed: string,
  found: { e164: string; state: NumberState | null; changes: readonly NumberChange[] } | null,
  error: string | null,
): Html {
  return layout(
    { title: 'Number', csrf, current: 'number' },
    `<h1>Number</h1>
<form class="card stack" method="get" action="/number" role="search">
<div><label for="phone">Phone number <span class="hint">in international form, e.g. +44 7400 123456</span></label>
<input id="phone" name="phone" type="tel" value="${escape(typed)}" required></div>
<div class="actions"><button type="submit">Look up</button></div>
</form>
${error === null ? '' : notice('error', error)}
${found === null ? '' : numberFacts(found.e164, found.state, found.changes)}`,
  );
}

function numberFacts(e164: string, state: NumberState | null, changes: readonly NumberChange[]): Html {
  if (state === null)
    return `<h2>${escape(e164)}</h2>${notice('info', 'The history holds nothing for this number.')}`;
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  const yesNo = (v: boolean | null) => (v === null ? 'unknown' : v ? 'yes' : 'no');
  const rows = changes
    .map(
      (c) =>
        `<tr><td>${time(c.checkedAt)}</td><td>${escape(c.change)}</td><td>${escape(c.before)}</td><td>${escape(c.after)}</td><td><a href="/batch/${c.batchId}">${escape(c.file)}</a></td></tr>`,
    )
    .join('');
  return `<h2>${escape(e164)}</h2>
<dl class="figures">
<div><dt>Last answer</dt><dd>reachable: ${yesNo(state.reachable)}${state.connectivity === '' ? '' : ` (${escape(state.connectivity)})`}</dd></div>
<div><dt>Checked</dt><dd>${time(iso(state.checkedAt))}</dd></div>
<div><dt>Provider</dt><dd>${escape(state.provider)}${state.simulated ? ' (simulated)' : ''}</dd></div>
<div><dt>Last seen connected</dt><dd>${time(iso(state.lastSeenReachableAt))}</dd></div>
<div><dt>No connectivity since</dt><dd>${time(iso(state.unreachableSince))}</dd></div>
<div><dt>Roaming</dt><dd>${yesNo(state.knownRoaming)}${state.knownRoamingCountries === '' ? '' : ` (${escape(state.knownRoamingCountries)})`}</dd></div>
</dl>
<h2>Last changes</h2>
${
  rows === ''
    ? '<p>No change recorded in the recent batches.</p>'
    : `<div class="table-wrap" tabindex="0" role="region" aria-label="Last changes"><table><thead><tr><th scope="col">Checked</th><th scope="col">Change</th><th scope="col">Before</th><th scope="col">After</th><th scope="col">Batch</th></tr></thead><tbody>${rows}</tbody></table></div>`
}`;
}
