import { CronExpressionParser } from 'cron-parser';

/** A time zone name Intl knows (IANA, e.g. `Europe/Paris`, or `UTC`); cron-parser and BullMQ use the same data. */
export function isTimeZone(name: string): boolean {
  if (name.trim() === '') return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/**
 * Why a cron pattern cannot be used, or null when it can. Five fields (minute hour day-of-month month
 * day-of-week) or six (a seconds field first), read by cron-parser as BullMQ will read it; a pattern that
 * never fires (30 February) is refused too.
 */
export function cronProblem(pattern: string, timezone: string): string | null {
  const fields = pattern.trim().split(/\s+/);
  if (pattern.trim() === '' || (fields.length !== 5 && fields.length !== 6)) {
    return `must have 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first), got ${pattern.trim() === '' ? 0 : fields.length} in "${pattern}"`;
  }
  try {
    CronExpressionParser.parse(pattern, { tz: timezone, currentDate: new Date() }).next();
    return null;
  } catch (error) {
    return `"${pattern}" is not a valid cron pattern (${(error as Error).message})`;
  }
}

/** The first `count` times the pattern fires after `fromMs`, in ms since the epoch. */
export function nextRuns(pattern: string, timezone: string, fromMs: number, count = 1): number[] {
  const expression = CronExpressionParser.parse(pattern, { tz: timezone, currentDate: new Date(fromMs) });
  return Array.from({ length: count }, () => expression.next().getTime());
}

/** `2026-11-25T02:00:00+01:00`: the wall-clock time in a zone with its offset (parses back to the same instant). */
export function zonedIso(ms: number, timezone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      timeZoneName: 'longOffset',
    })
      .formatToParts(new Date(ms))
      .map((p) => [p.type, p.value]),
  ) as Record<string, string>;
  // `GMT+01:00`, or plain `GMT` at offset zero.
  const offset = (parts.timeZoneName ?? 'GMT').replace('GMT', '') || '+00:00';
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${offset}`;
}

/** `20261125T010000Z`: a run's UTC time in a folder name (sortable, no characters a file system refuses). */
export function folderTimestamp(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
}
