import type { HeldView } from '../../history/held-view.js';
import { escape, layout, notice, time, type Html } from './html.js';

/** One change of a number, as a batch's changes.csv recorded it. */
export interface NumberChange {
  readonly change: string;
  readonly before: string;
  readonly after: string;
  readonly checkedAt: string;
  readonly batchId: string;
  readonly file: string;
}

/** A number looked up: what the history holds (as `reachscan history` shows it) and its recent changes. */
export interface NumberFound {
  readonly held: HeldView;
  readonly changes: readonly NumberChange[];
}

/** What to say above the facts: a mistake, or what the last action did. */
export interface NumberNotes {
  readonly error?: string | null;
  readonly info?: string | null;
}

/** The field of the forget form that confirms it: a server-checked box, not a script's dialog. */
export const FORGET_CONFIRM = 'confirm';

/** "Forgotten: 1 record erased", as `reachscan forget` counts: numbers the history held. */
export function forgottenNote(erased: number): string {
  return erased === 0
    ? 'Forgotten: nothing was held (the number was not in the history).'
    : `Forgotten: ${erased} record${erased === 1 ? '' : 's'} erased from the history.`;
}

export function numberPage(
  csrf: string,
  typed: string,
  found: NumberFound | null,
  notes: NumberNotes = {},
): Html {
  const { error = null, info = null } = notes;
  return layout(
    { title: 'Number', csrf, current: 'number' },
    `<h1>Number</h1>
<form class="card stack" method="get" action="/number" role="search">
<div><label for="phone">Phone number <span class="hint">in international form, e.g. +44 7400 123456</span></label>
<input id="phone" name="phone" type="tel" value="${escape(typed)}" required></div>
<div class="actions"><button type="submit">Look up</button></div>
</form>
${error === null ? '' : notice('error', error)}
${info === null ? '' : notice('info', info)}
${found === null ? '' : numberFacts(csrf, found)}`,
  );
}

function numberFacts(csrf: string, { held, changes }: NumberFound): Html {
  if (!held.held)
    return `<h2>${escape(held.number)}</h2>${notice('info', 'The history holds nothing for this number.')}`;
  const yesNo = (v: boolean | string | null | undefined) =>
    v === null || v === undefined || v === '' ? 'unknown' : v === true || v === 'true' ? 'yes' : 'no';
  const answer = held.last_answer ?? {};
  const known = held.last_known;
  const connectivity = answer.connectivity ?? '';
  const countries = known?.roaming_countries ?? '';
  const rows = changes
    .map(
      (c) =>
        `<tr><td>${time(c.checkedAt)}</td><td>${escape(c.change)}</td><td>${escape(c.before)}</td><td>${escape(c.after)}</td><td><a href="/batch/${c.batchId}">${escape(c.file)}</a></td></tr>`,
    )
    .join('');
  return `<h2>${escape(held.number)}</h2>
<dl class="figures">
<div><dt>Last answer</dt><dd>reachable: ${yesNo(answer.reachable)}${connectivity === '' ? '' : ` (${escape(connectivity)})`}</dd></div>
<div><dt>Checked</dt><dd>${time(held.checked_at)}</dd></div>
<div><dt>Provider</dt><dd>${escape(held.provider)}${held.simulated === true ? ' (simulated)' : ''}</dd></div>
<div><dt>Last seen connected</dt><dd>${time(held.last_seen_connected_at)}</dd></div>
<div><dt>No connectivity since</dt><dd>${time(held.no_connectivity_since)}</dd></div>
<div><dt>Roaming</dt><dd>${yesNo(known?.roaming)}${countries === '' ? '' : ` (${escape(countries)})`}</dd></div>
<div><dt>Purpose</dt><dd data-field="purpose">${escape(held.purpose ?? 'not recorded')}</dd></div>
<div><dt>Written</dt><dd>${time(held.written_at)}</dd></div>
<div><dt>Kept until</dt><dd>${time(held.expires_at)}</dd></div>
</dl>
<h2>Last changes</h2>
${
  rows === ''
    ? '<p>No change recorded in the recent batches.</p>'
    : `<div class="table-wrap" tabindex="0" role="region" aria-label="Last changes"><table><thead><tr><th scope="col">Checked</th><th scope="col">Change</th><th scope="col">Before</th><th scope="col">After</th><th scope="col">Batch</th></tr></thead><tbody>${rows}</tbody></table></div>`
}
${forgetForm(csrf, held.number)}`;
}

/** Erasing the number (`reachscan forget`): a form post with its CSRF token and a box to tick first. */
function forgetForm(csrf: string, number: string): Html {
  return `<section class="card danger-zone" aria-labelledby="forget-h">
<h2 id="forget-h">Forget this number</h2>
<p>Erases what the history holds about ${escape(number)}, as <code>reachscan forget</code> does. The files of past batches keep their rows: delete those batches to remove them.</p>
<form class="stack" method="post" action="/number/forget">
<input type="hidden" name="_csrf" value="${escape(csrf)}">
<input type="hidden" name="phone" value="${escape(number)}">
<div class="check"><input id="${FORGET_CONFIRM}" name="${FORGET_CONFIRM}" type="checkbox" value="yes" required>
<label for="${FORGET_CONFIRM}">Yes, erase the history of this number</label></div>
<div class="actions"><button type="submit" class="danger">Forget this number</button></div>
</form>
</section>`;
}
