/**
 * The console's stylesheet and script, served as files (/assets/…) so the CSP can forbid inline code. Kept as
 * strings in the build: the server needs no asset step and reads nothing from elsewhere.
 */

export const CONSOLE_CSS = `:root {
  --ink: #17202a; --muted: #4a5663; --line: #d5dbe1; --paper: #ffffff; --wash: #f3f5f7;
  --brand: #0b5cad; --brand-ink: #ffffff; --ok: #1d6b37; --warn: #8a4b00; --bad: #a1261d; --focus: #ffbf47;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--ink); background: var(--wash); line-height: 1.5;
}
* { box-sizing: border-box; }
body { margin: 0; }
a { color: var(--brand); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, summary:focus-visible,
[tabindex]:focus-visible, iframe:focus-visible {
  outline: 3px solid var(--focus); outline-offset: 2px; box-shadow: 0 0 0 5px var(--ink);
}
.skip { position: absolute; left: -999px; top: 0; background: var(--paper); padding: .5rem 1rem; }
.skip:focus { left: .5rem; z-index: 10; }
.top { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1.5rem; padding: .75rem 1.5rem;
  background: var(--ink); color: #fff; }
.brand { font-weight: 700; font-size: 1.15rem; letter-spacing: .02em; }
.top nav { display: flex; flex-wrap: wrap; gap: .25rem 1rem; }
.top nav a, .top .link { color: #fff; text-decoration: none; padding: .25rem 0; border-bottom: 2px solid transparent; }
.top nav a[aria-current="page"] { border-bottom-color: var(--focus); }
.top nav a:hover, .top .link:hover { text-decoration: underline; }
.signout { margin-left: auto; }
.link { background: none; border: 0; font: inherit; cursor: pointer; }
main { max-width: 76rem; margin: 0 auto; padding: 1.5rem; }
main:focus { outline: none; }
h1 { font-size: 1.6rem; margin: 0 0 1rem; overflow-wrap: anywhere; }
h2 { font-size: 1.2rem; margin: 1.75rem 0 .75rem; }
.card { background: var(--paper); border: 1px solid var(--line); border-radius: 8px; padding: 1.25rem; }
.narrow { max-width: 28rem; margin: 3rem auto; }
form.stack { display: grid; gap: 1rem; }
.fields { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fill, minmax(14rem, 1fr)); }
label { display: block; font-weight: 600; margin-bottom: .25rem; }
.hint { display: block; color: var(--muted); font-size: .875rem; font-weight: 400; }
input, select { font: inherit; width: 100%; padding: .5rem .6rem; border: 1px solid #6b7782; border-radius: 4px;
  background: #fff; color: var(--ink); }
input[type="file"] { padding: .4rem; }
button, .button { font: inherit; font-weight: 600; border-radius: 4px; padding: .55rem 1.1rem; cursor: pointer;
  border: 2px solid var(--brand); background: var(--brand); color: var(--brand-ink); text-decoration: none;
  display: inline-block; }
button.secondary { background: var(--paper); color: var(--brand); }
button.danger { background: var(--bad); border-color: var(--bad); }
.check { display: flex; gap: .6rem; align-items: flex-start; }
.check input { width: 1.25rem; height: 1.25rem; margin: .15rem 0 0; flex: none; accent-color: var(--bad); }
.check label { margin: 0; }
.danger-zone { margin-top: 1.75rem; border-left: 4px solid var(--bad); }
.danger-zone h2 { margin-top: 0; }
.danger-zone p { margin-top: 0; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9em; }
form.resume { display: flex; flex-wrap: wrap; gap: .5rem .75rem; align-items: flex-end; }
form.resume > div { flex: 1 1 16rem; max-width: 32rem; }
input[aria-invalid="true"], select[aria-invalid="true"] { border: 2px solid var(--bad); }
.actions { display: flex; flex-wrap: wrap; gap: .75rem; align-items: center; }
.actions form { margin: 0; }
.notice { padding: .75rem 1rem; border-radius: 4px; border-left: 4px solid; background: var(--paper); }
.notice-error { border-color: var(--bad); color: var(--bad); }
.notice-info { border-color: var(--brand); }
.table-wrap { overflow-x: auto; background: var(--paper); border: 1px solid var(--line); border-radius: 8px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: .6rem .75rem; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { background: var(--wash); font-size: .875rem; color: var(--muted); white-space: normal; vertical-align: bottom; }
td:first-child { white-space: normal; min-width: 10rem; overflow-wrap: anywhere; }
td.num, th.num { text-align: right; }
tbody tr:last-child td { border-bottom: 0; }
.badge { display: inline-block; padding: .1rem .55rem; border-radius: 999px; font-size: .85rem; font-weight: 600;
  background: #e4e8ec; color: var(--ink); }
.state-done { background: #dcefe2; color: var(--ok); }
.state-failed, .state-lost { background: #f7dedc; color: var(--bad); }
.state-paused { background: #fbe9d0; color: var(--warn); }
.state-running, .state-ingesting, .state-finalizing, .state-retrying, .state-queued { background: #dde9f6; color: var(--brand); }
dl.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(11rem, 1fr)); gap: .75rem; margin: 0; }
dl.figures div { background: var(--paper); border: 1px solid var(--line); border-radius: 8px; padding: .75rem 1rem; }
dl.figures dt { color: var(--muted); font-size: .875rem; }
dl.figures dd { margin: 0; font-size: 1.1rem; font-weight: 600; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
progress { width: 100%; height: 1rem; accent-color: var(--brand); margin-bottom: .75rem; }
section > .actions, section > .notice { margin-top: 1rem; }
.meta { color: var(--muted); margin: -.5rem 0 1rem; }
ul.files { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .5rem; }
ul.files a { display: inline-block; padding: .35rem .75rem; border: 1px solid var(--line); border-radius: 4px;
  background: var(--paper); font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9rem; }
iframe.report { width: 100%; height: 70rem; border: 1px solid var(--line); border-radius: 8px; background: #fff; }
dl.figures + form, dl.figures + .actions { margin-top: 1.25rem; }
.pager { display: flex; justify-content: space-between; margin-top: 1rem; }
@media (max-width: 40rem) {
  main { padding: 1rem; }
  .top { padding: .75rem 1rem; }
  .signout { margin-left: 0; }
  h1 { font-size: 1.35rem; }
  iframe.report { height: 60rem; }
  .batches thead { position: absolute; left: -9999px; }
  .batches table, .batches tbody, .batches tr, .batches td { display: block; width: 100%; }
  .batches tr { border-bottom: 1px solid var(--line); padding: .5rem 0; }
  .batches tbody tr:last-child { border-bottom: 0; }
  .batches td { display: flex; justify-content: space-between; gap: 1rem; border: 0; padding: .2rem .75rem;
    text-align: right; min-width: 0; }
  .batches td::before { content: attr(data-label); color: var(--muted); font-size: .875rem; text-align: left; }
  .batches td:first-child { font-weight: 600; }
}
`;

export const CONSOLE_JS = `'use strict';
(function () {
  function localTimes(root) {
    var zone = new Intl.DateTimeFormat(undefined, { timeZoneName: 'short' });
    var format = new Intl.DateTimeFormat(undefined, {
      year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
      timeZoneName: 'short'
    });
    root.querySelectorAll('time[datetime]').forEach(function (el) {
      var date = new Date(el.getAttribute('datetime'));
      if (!isNaN(date.getTime())) el.textContent = format.format(date);
    });
    return zone;
  }
  var numbers = new Intl.NumberFormat('en-GB');
  function count(value) { return value === null || value === undefined ? '\\u2014' : numbers.format(value); }
  function wait(seconds) {
    if (seconds === null || seconds === undefined) return '\\u2014';
    var s = Math.max(0, Math.round(seconds));
    if (s >= 3600) return Math.floor(s / 3600) + ' h ' + Math.round((s % 3600) / 60) + ' min';
    if (s >= 60) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
    return s + ' s';
  }
  // Spent of budget, worded as the server words it (html.ts spentOfBudget).
  function spent(cost) {
    if (!cost || cost.budget === null) return '\\u2014';
    var requests = /^(\\d+) requests$/.exec(cost.budget);
    if (requests) return count(cost.requests) + ' of ' + count(Number(requests[1])) + ' requests';
    return (cost.amount || 0).toFixed(2) + ' of ' + cost.budget;
  }
  function set(root, field, text) {
    root.querySelectorAll('[data-field="' + field + '"]').forEach(function (el) { el.textContent = text; });
  }
  var FINAL = ['done', 'failed', 'lost'];
  function follow(root) {
    var id = root.getAttribute('data-batch');
    var shown = root.getAttribute('data-state');
    function tick() {
      fetch('/batches/' + id, { credentials: 'same-origin', headers: { accept: 'application/json' } })
        .then(function (res) { return res.ok ? res.json() : null; })
        .then(function (view) {
          if (view === null) return setTimeout(tick, 3000);
          if (view.state !== shown && (FINAL.indexOf(view.state) >= 0 || (view.state === 'paused') !== (shown === 'paused'))) {
            window.location.reload();
            return;
          }
          set(root, 'state', view.state);
          var badge = root.querySelector('[data-field="state"]');
          if (badge) badge.className = 'badge state-' + view.state;
          set(root, 'done', count(view.done));
          set(root, 'total', count(view.total));
          set(root, 'records', count(view.records));
          set(root, 'rate', view.rate === null ? '\\u2014' : count(view.rate) + ' /s');
          set(root, 'eta', wait(view.eta_seconds));
          set(root, 'paused', view.paused || '');
          set(root, 'spent', spent(view.cost));
          var bar = root.querySelector('progress');
          if (bar) { bar.max = Math.max(view.total, 1); bar.value = view.done; }
          if (FINAL.indexOf(view.state) < 0) setTimeout(tick, 1000);
        })
        .catch(function () { setTimeout(tick, 3000); });
    }
    if (FINAL.indexOf(shown) < 0) setTimeout(tick, 1000);
  }
  document.addEventListener('DOMContentLoaded', function () {
    localTimes(document);
    var live = document.querySelector('[data-batch]');
    if (live) follow(live);
  });
})();
`;
