/**
 * Parses an HTTP `Retry-After` header (delay-seconds or an HTTP-date) into milliseconds from `nowMs`.
 * Returns null when absent or unparseable, so the caller falls back to its own backoff.
 */
export function parseRetryAfterMs(header: string | null | undefined, nowMs: number): number | null {
  if (header === null || header === undefined) return null;
  const text = header.trim();
  if (text === '') return null;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  // HTTP-dates always carry a weekday or month name; this keeps "-1" from parsing as year -1.
  if (!/[A-Za-z]/.test(text)) return null;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - nowMs);
}
