/**
 * Calendar days in a time zone, for the daily quota: which day an instant falls on, and when the next one
 * starts. The zone's rules come from Intl (the ICU time-zone data Node ships); nothing here knows an offset or
 * a DST rule. A day is not always 24 hours: 23 or 25 on DST changes, and in zones that change at midnight
 * (America/Santiago, Asia/Beirut) a day starts at 01:00.
 */

/** One quota day: its date in the zone, and the first instant of the next day (its reset). */
export interface QuotaDay {
  /** `YYYY-MM-DD`, the date in the zone. */
  readonly day: string;
  /** Epoch ms of the first instant whose date in the zone is after `day`. */
  readonly resetsAt: number;
}

const FORMATS = new Map<string, Intl.DateTimeFormat>();

/** One formatter per zone and shape: building one costs far more than using it, and quota checks are per request. */
function formatIn(timeZone: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${timeZone} ${JSON.stringify(options)}`;
  let format = FORMATS.get(key);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en', { ...options, timeZone });
    FORMATS.set(key, format);
  }
  return format;
}

const DATE: Intl.DateTimeFormatOptions = { year: 'numeric', month: '2-digit', day: '2-digit' };
const DATE_TIME: Intl.DateTimeFormatOptions = {
  ...DATE,
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
};

/**
 * A time-zone name as Intl spells it (`europe/paris` → `Europe/Paris`), or null when Intl does not know it.
 * IANA names (`Pacific/Auckland`) and `UTC`.
 */
export function canonicalTimeZone(name: string): string | null {
  try {
    return new Intl.DateTimeFormat('en', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

/** The date (`YYYY-MM-DD`, which sorts as strings do) in `timeZone` at `at` (epoch ms). */
export function dateIn(at: number, timeZone: string): string {
  // From the parts, not the formatted text: a locale's date pattern may change between ICU versions.
  const part = parts(formatIn(timeZone, DATE), at);
  return `${part.year}-${part.month}-${part.day}`;
}

function parts(format: Intl.DateTimeFormat, at: number): Record<string, string> {
  return Object.fromEntries(format.formatToParts(at).map((p) => [p.type, p.value]));
}

/** No calendar day lasts this long, in any zone, whatever its DST: the next date has begun by then. */
const LONGEST_DAY_MS = 48 * 3_600_000;

/**
 * The quota day of `now` in `timeZone`, and when it ends. The end is found by bisection on the date Intl gives:
 * the first millisecond whose date is past today's. So a skipped midnight (the day starts at 01:00) or a
 * skipped day (Pacific/Apia, 30 Dec 2011) needs no case of its own.
 */
export function quotaDay(now: number, timeZone: string): QuotaDay {
  const day = dateIn(now, timeZone);
  let before = now;
  let after = now + LONGEST_DAY_MS;
  while (after - before > 1) {
    const mid = Math.floor((before + after) / 2);
    if (dateIn(mid, timeZone) > day) after = mid;
    else before = mid;
  }
  return { day, resetsAt: after };
}

/** "2026-03-30 00:00" in the zone: the local date and time of an instant, to the minute. */
export function localDateTime(at: number, timeZone: string): string {
  const format = formatIn(timeZone, DATE_TIME);
  const part = parts(format, at);
  return `${part.year}-${part.month}-${part.day} ${part.hour}:${part.minute}`;
}

/**
 * A time left, to the minute as people say it: "3 h 12 min", "45 min", "40 s" under a minute. Rounded up, so
 * a reset "in 0 min" never shows while there is time left.
 */
export function timeLeft(ms: number): string {
  const seconds = Math.max(0, Math.ceil(ms / 1_000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.ceil(seconds / 60);
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (hours === 0) return `${rest} min`;
  return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
}
