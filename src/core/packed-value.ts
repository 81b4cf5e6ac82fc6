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
    const ms = Date.parse(value);
    // Only a time that reads back to the same text (no 2026-02-30) is packed: decoding must give the value.
    if (new Date(ms).toISOString() === value) return PACKED + ms.toString(36);
  }
  if (kind === 'id' && UUID.test(value))
    return PACKED + Buffer.from(value.replaceAll('-', ''), 'hex').toString('base64url');
  return value;
}

/** The value a packed one stands for; any other value as it is. */
export function unpackValue(kind: PackedKind, value: string): string {
  if (kind === 'text' || !value.startsWith(PACKED)) return value;
  const body = value.slice(PACKED.length);
  if (kind === 'time') return new Date(parseInt(body, 36)).toISOString();
  const hex = Buffer.from(body, 'base64url').toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
