import type { Plan } from '../../batch/plan.js';
import type { BatchSummary, BatchView } from '../batches.js';
import {
  count,
  duration,
  escape,
  layout,
  notice,
  spentOfBudget,
  stateBadge,
  time,
  type Html,
} from './html.js';

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
  /** `500` (requests) or `25EUR` (money); empty: no cap. */
  readonly budget: string;
  /** Empty: the provider's configured purpose. */
  readonly purpose: string;
}

export const NO_CHOICES: ScanChoices = {
  provider: 'identity-insights',
  defaultCountry: '',
  staleDays: '60',
  maxAge: '',
  column: '',
  budget: '',
  purpose: '',
};

/** The form's fields, named as the API's options (the console passes them on as they are), and their choice. */
export const SCAN_FIELDS = {
  provider: 'provider',
  'default-country': 'defaultCountry',
  'stale-days': 'staleDays',
  'max-age': 'maxAge',
  column: 'column',
  budget: 'budget',
  purpose: 'purpose',
} as const satisfies Record<string, keyof ScanChoices>;

/** A mistake in the form: what to say, and the field at fault when one is (then marked invalid). */
export interface ScanError {
  readonly text: string;
  readonly field: string | null;
}

export function newScanPage(csrf: string, choices: ScanChoices, error: ScanError | null): Html {
  const options = PROVIDERS.map(
    (p) => `<option value="${p}"${p === choices.provider ? ' selected' : ''}>${p}</option>`,
  ).join('');
  // The field at fault is marked, and tells a screen reader what is wrong with it.
  const at = (name: string) =>
    error?.field === name ? ' aria-invalid="true" aria-describedby="scan-error"' : '';
  return layout(
    { title: 'New scan', csrf, current: 'scan' },
    `<h1>New scan</h1>
${error === null ? '' : `<p id="scan-error" class="notice notice-error" role="alert">${escape(error.text)}</p>`}
<form class="card stack" method="post" action="/scan?_csrf=${encodeURIComponent(csrf)}" enctype="multipart/form-data">
<div><label for="file">CSV or Excel file <span class="hint">.csv or .xlsx, one row per customer or device, with a phone column</span></label>
<input id="file" name="file" type="file" accept=".csv,.txt,.xlsx,text/csv" required></div>
<div class="fields">
<div><label for="provider">Provider</label><select id="provider" name="provider"${at('provider')}>${options}</select></div>
<div><label for="default-country">Default country <span class="hint">for numbers without +; e.g. GB</span></label>
<input id="default-country" name="default-country" maxlength="2" autocapitalize="characters" value="${escape(choices.defaultCountry)}"${at('default-country')}></div>
<div><label for="stale-days">Stale days <span class="hint">list devices without connectivity this long</span></label>
<input id="stale-days" name="stale-days" type="number" min="1" max="36500" value="${escape(choices.staleDays)}"${at('stale-days')}></div>
<div><label for="max-age">Max age <span class="hint">reuse answers newer than this, e.g. 7d; empty: ask all</span></label>
<input id="max-age" name="max-age" value="${escape(choices.maxAge)}"${at('max-age')}></div>
<div><label for="column">Phone column <span class="hint">empty: found from the header</span></label>
<input id="column" name="column" value="${escape(choices.column)}"${at('column')}></div>
<div><label for="budget">Budget <span class="hint">what the batch may spend: 500 (upstream requests) or 25EUR; empty: no cap</span></label>
<input id="budget" name="budget" autocomplete="off" spellcheck="false" value="${escape(choices.budget)}"${at('budget')}></div>
<div><label for="purpose">Purpose <span class="hint">why you ask, kept in report.json and the history; empty: the provider's configured purpose</span></label>
<input id="purpose" name="purpose" autocomplete="off" spellcheck="false" value="${escape(choices.purpose)}"${at('purpose')}></div>
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
${hidden('_csrf', csrf)}${hidden('upload', upload)}${hidden('name', plan.file)}
${Object.entries(SCAN_FIELDS)
  .map(([name, choice]) => hidden(name, choices[choice]))
  .join('')}
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

export function batchPage(
  csrf: string,
  view: BatchView,
  message: string | null,
  error: string | null = null,
): Html {
  const form = (action: string, label: string) =>
    `<form method="post" action="/batch/${view.id}/${action}"><input type="hidden" name="_csrf" value="${escape(csrf)}"><button type="submit">${label}</button></form>`;
  const budget = view.cost?.budget ?? null;
  const buttons = [
    view.state === 'paused'
      ? budget === null
        ? form('resume', 'Resume')
        : resumeForm(csrf, view.id, budget, error)
      : '',
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
${error === null ? '' : `<p id="resume-error" class="notice notice-error" role="alert">${escape(error)}</p>`}
<section aria-labelledby="progress-h"><h2 id="progress-h">Progress</h2>
<progress max="${Math.max(view.total, 1)}" value="${view.done}" aria-label="Numbers done"></progress>
<dl class="figures" aria-live="polite">
<div><dt>Numbers done</dt><dd><span data-field="done">${count(view.done)}</span> of <span data-field="total">${count(view.total)}</span></dd></div>
<div><dt>Rows read</dt><dd data-field="records">${count(view.records)}</dd></div>
<div><dt>Rate</dt><dd data-field="rate">${view.rate === null ? '—' : `${count(view.rate)} /s`}</dd></div>
<div><dt>ETA</dt><dd data-field="eta">${duration(view.eta_seconds)}</dd></div>
${view.state === 'done' ? `<div><dt>Rows in error</dt><dd>${count(view.rows_in_error)}</dd></div>` : ''}
${view.cost === null || budget === null ? '' : `<div><dt>Budget</dt><dd data-field="spent">${escape(spentOfBudget(view.cost))}</dd></div>`}
${view.purpose === null ? '' : `<div><dt>Purpose</dt><dd data-field="purpose">${escape(view.purpose)}</dd></div>`}
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

/** Resume with a field to raise the budget first (`POST /batches/:id/resume?budget=`): empty keeps it. */
function resumeForm(csrf: string, id: string, budget: string, error: string | null): Html {
  const invalid = error === null ? '' : ' aria-invalid="true" aria-describedby="resume-error"';
  return `<form class="resume" method="post" action="/batch/${id}/resume">
<input type="hidden" name="_csrf" value="${escape(csrf)}">
<div><label for="new-budget">New budget <span class="hint">in all, not what is left: e.g. 800 or 30EUR; empty: keep ${escape(budget)}</span></label>
<input id="new-budget" name="budget" autocomplete="off" spellcheck="false"${invalid}></div>
<button type="submit">Resume</button>
</form>`;
}
