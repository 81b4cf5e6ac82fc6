/**
 * Shorter forms of the two kinds of value that fill most of a stored answer: times (ISO 8601 in UTC with
 * milliseconds, 24 characters) and request ids (UUIDs, 36). A packed value starts with {@link PACKED}; a value
 * that cannot be packed is kept as it is, and one that itself starts with the mark cannot be kept plain at all
 * (the caller then stores the answer in a form without packing).
 */
export const PACKED = '~';

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export type PackedKind = 'time' | 'id' | 'text';

/** The value packed when it has the kind's exact form, else as it is; null when it starts with the mark. */
export function packValue(kind: PackedKind, value: string): string | null {
  if (value.startsWith(PACKED)) return null;
  if (kind === 'time' && ISO_MS.test(value)) {
    const ms = exactTime(value);
    if (ms !== null) return PACKED + ms.toString(36);
  }
  if (kind === 'id' && UUID.test(value))
    return PACKED + Buffer.from(value.replaceAll('-', ''), 'hex').toString('base64url');
  return value;
}

/**
 * The time an ISO_MS text stands for, when it reads back as the same text: a real day and time of a 4-digit
 * year from 1000 on (Date.parse takes 2026-02-30 as 2 March, and Date.UTC years below 100 as 19xx). Checked by
 * arithmetic: building a Date per value to compare its text cost more than the rest of an answer's encoding.
 */
function exactTime(value: string): number | null {
  const year = Number(value.slice(0, 4));
  const month = Number(value.slice(5, 7));
  const day = Number(value.slice(8, 10));
  const hour = Number(value.slice(11, 13));
  const minute = Number(value.slice(14, 16));
  const second = Number(value.slice(17, 19));
  const valid =
    year >= 1000 &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth(year, month) &&
    hour < 24 &&
    minute < 60 &&
    second < 60;
  return valid ? Date.UTC(year, month - 1, day, hour, minute, second, Number(value.slice(20, 23))) : null;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** The value a packed one stands for; any other value as it is. */
export function unpackValue(kind: PackedKind, value: string): string {
  if (kind === 'text' || !value.startsWith(PACKED)) return value;
  const body = value.slice(PACKED.length);
  if (kind === 'time') return new Date(parseInt(body, 36)).toISOString();
  const hex = Buffer.from(body, 'base64url').toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
