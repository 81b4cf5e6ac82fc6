/**
 * How the reports and the scan's summary write counts, times and plurals for people. Fixed locale and an
 * explicit time zone: a report reads the same whichever machine wrote it. report.json keeps raw numbers and
 * ISO 8601 times; only the human-readable outputs go through here.
 */

/** Reports are written in UTC: reachscan has no time-zone setting, and results.csv's times are UTC too. */
export const REPORT_TIME_ZONE = 'UTC';

const COUNT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** 1403 → "1,403". */
export function formatCount(n: number): string {
  return COUNT.format(n);
}

/** "1 number", "2 numbers", "1,403 rows"; `many` defaults to `one` + "s". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

/** The share of `total` as "12.3%" ("0%" of nothing). */
export function formatShare(n: number, total: number): string {
  return total === 0 ? '0%' : `${((100 * n) / total).toFixed(1)}%`;
}

// Month names of our own: ICU's short English names change between versions ("Sep", "Sept").
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const TIME_PARTS = new Map<string, Intl.DateTimeFormat>();

function timeParts(timeZone: string): Intl.DateTimeFormat {
  let parts = TIME_PARTS.get(timeZone);
  if (parts === undefined) {
    parts = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    });
    TIME_PARTS.set(timeZone, parts);
  }
  return parts;
}

/**
 * An ISO 8601 time as "4 Dec 2026, 22:45 UTC", in `timeZone` (an IANA name; UTC by default). Empty stays empty;
 * anything that is not a time is returned as it is rather than hidden.
 */
export function formatTime(iso: string, timeZone = REPORT_TIME_ZONE): string {
  if (iso === '') return '';
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  const part = Object.fromEntries(
    timeParts(timeZone)
      .formatToParts(ms)
      .map((p) => [p.type, p.value]),
  );
  const month = MONTHS[Number(part.month) - 1] ?? part.month;
  return `${Number(part.day)} ${month} ${part.year}, ${part.hour}:${part.minute} ${part.timeZoneName}`;
}

/** The day of an ISO time as "4 Dec 2026", in `timeZone`: for lists of runs, where the time would be noise. */
export function formatDay(iso: string, timeZone = REPORT_TIME_ZONE): string {
  if (Number.isNaN(Date.parse(iso))) return iso;
  const time = formatTime(iso, timeZone);
  return time.slice(0, time.indexOf(','));
}

/** From–to: the second time without its day when both fall on the same day ("4 Dec 2026, 22:45 → 22:51 UTC"). */
export function formatSpan(startIso: string, endIso: string, timeZone = REPORT_TIME_ZONE): string {
  const start = formatTime(startIso, timeZone);
  const end = formatTime(endIso, timeZone);
  if (start === '' || end === '') return start || end;
  const [startDay, startTime] = start.split(', ');
  const [endDay, endTime] = end.split(', ');
  if (startDay === endDay && startTime !== undefined && endTime !== undefined) {
    return `${startDay}, ${startTime.split(' ')[0]} → ${endTime}`;
  }
  return `${start} → ${end}`;
}
