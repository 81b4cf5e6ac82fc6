/** HTML building blocks of the console: every value goes through {@link escape}. */

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escape(value: string | number | boolean | null | undefined): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/** Markup already escaped, to tell it from text at a glance. */
export type Html = string;

const NUMBER = new Intl.NumberFormat('en-GB');

/** A count with thousands separators; an em dash when not known yet. */
export function count(value: number | null | undefined): Html {
  return value === null || value === undefined ? '—' : escape(NUMBER.format(value));
}

/**
 * A time: in UTC with its zone as rendered, turned into the browser's local time and zone by console.js (the
 * server cannot know the reader's zone).
 */
export function time(iso: string | null | undefined): Html {
  if (iso === null || iso === undefined || iso === '') return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return escape(iso);
  const text = `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return `<time datetime="${escape(date.toISOString())}">${escape(text)}</time>`;
}

/** Seconds as people read a wait: "2 h 5 min", "3 min 20 s", "45 s". */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
  if (s >= 60) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${s} s`;
}

/**
 * Spent of budget, as the pause reason counts it: "120 of 500 requests", "4.20 of 25.00 EUR". console.js
 * words it the same way while the batch runs.
 */
export function spentOfBudget(cost: {
  readonly requests: number;
  readonly amount: number | null;
  readonly budget: string | null;
}): string {
  if (cost.budget === null) return '—';
  const requests = /^(\d+) requests$/.exec(cost.budget);
  if (requests !== null)
    return `${NUMBER.format(cost.requests)} of ${NUMBER.format(Number(requests[1]))} requests`;
  return `${(cost.amount ?? 0).toFixed(2)} of ${cost.budget}`;
}

export interface LayoutOptions {
  readonly title: string;
  /** Null on the sign-in page: no navigation, no sign-out. */
  readonly csrf: string | null;
  readonly current?: 'batches' | 'scan' | 'number';
}

/** The page around a body: skip link, navigation, sign-out, the stylesheet and script (files, never inline). */
export function layout(options: LayoutOptions, body: Html): Html {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(options.title)} · reachscan</title>
<link rel="stylesheet" href="/assets/console.css">
<script src="/assets/console.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
<span class="brand">reachscan</span>
${options.csrf === null ? '' : navigation(options)}
</header>
<main id="main" tabindex="-1">
${body}
</main>
</body>
</html>
`;
}

function navigation(options: LayoutOptions): Html {
  const link = (href: string, text: string, key: LayoutOptions['current']) =>
    `<a href="${href}"${options.current === key ? ' aria-current="page"' : ''}>${text}</a>`;
  return `<nav aria-label="Main">
${link('/', 'Batches', 'batches')}
${link('/scan', 'New scan', 'scan')}
${link('/number', 'Number', 'number')}
<a href="/admin/queues">Queues</a>
</nav>
<form class="signout" method="post" action="/sign-out">
<input type="hidden" name="_csrf" value="${escape(options.csrf)}">
<button type="submit" class="link">Sign out</button>
</form>`;
}

/** A state as a badge people can read without colour (the word) and scan with it (the colour). */
export function stateBadge(state: string): Html {
  return `<span class="badge state-${escape(state)}" data-field="state">${escape(state)}</span>`;
}

/** A one-line message under a heading: what went wrong, or what happened. */
export function notice(kind: 'error' | 'info', text: string): Html {
  return `<p class="notice notice-${kind}" role="${kind === 'error' ? 'alert' : 'status'}">${escape(text)}</p>`;
}
