import { createHmac } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { HistoryOptions, StateSecret } from '../core/settings.js';

export type { StateSecret };

/** Bytes of the HMAC kept in a key: 128 bits, ample against collisions, and a key 21 bytes shorter. */
const DIGEST_BYTES = 16;

/** The history's options that name its keys. */
export type HistoryNaming = Pick<HistoryOptions, 'prefix' | 'buckets'>;

/** Where a number's history is: its key, and the prefix of the bucket that key is in (one slot per bucket). */
export interface NumberKey {
  readonly key: string;
  readonly bucket: string;
}

/** How many buckets the history's options ask for (absent: 1, the layout from before buckets). */
export function bucketCount(history: Pick<HistoryOptions, 'buckets'>): number {
  return history.buckets ?? 1;
}

/**
 * The one place a number becomes the name of its history hash: its id (with a secret, an HMAC-SHA256 of the
 * E.164 number keyed by it, base64url, 22 characters, never starting with `+`; without one, the number as is)
 * under the prefix of its bucket, e.g. `{reachscan-state:7}:3q2-7wAAAAAAAAAAAAAAAA`.
 */
export function numberKey(history: HistoryNaming, secret: StateSecret, number: string): string {
  return numberKeyOf(history, secret, number).key;
}

export function numberKeyOf(history: HistoryNaming, secret: StateSecret, number: string): NumberKey {
  return keyOfId(history, secret === null ? number : numberDigest(secret, number));
}

/** The key of a number's id (its HMAC or the number) in the history's layout. */
export function keyOfId(history: HistoryNaming, id: string): NumberKey {
  const count = bucketCount(history);
  const bucket = bucketPrefix(history.prefix, count, bucketOf(id, count));
  return { key: `${bucket}${id}`, bucket };
}

/** The name a number's history has when no secret is set (keys written before one was). */
export function clearNumberKey(history: HistoryNaming, number: string): NumberKey {
  return keyOfId(history, number);
}

export function numberDigest(secret: string, number: string): string {
  return createHmac('sha256', secret).update(number).digest().subarray(0, DIGEST_BYTES).toString('base64url');
}

/**
 * The bucket of an id: its CRC-32 modulo the count. Stable across versions and processes (a standard checksum),
 * and even enough over HMACs and over runs of consecutive numbers alike.
 */
export function bucketOf(id: string, count: number): number {
  return crc32(id) % count;
}

/**
 * The prefix of one bucket: the bucket's number at the end of the prefix's hash tag (`{reachscan-state}:` →
 * `{reachscan-state:7}:`), so each bucket is a slot of its own. With one bucket, the prefix itself: the
 * single-slot layout the history had before buckets.
 */
export function bucketPrefix(prefix: string, count: number, bucket: number): string {
  if (count === 1) return prefix;
  const close = tagEnd(prefix);
  return `${prefix.slice(0, close)}:${bucket}${prefix.slice(close)}`;
}

/** Every bucket prefix of a layout, in bucket order. */
export function bucketPrefixes(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, bucket) => bucketPrefix(prefix, count, bucket));
}

/** Where the prefix's hash tag closes: Redis takes the first `{` and the first `}` after it. */
function tagEnd(prefix: string): number {
  const open = prefix.indexOf('{');
  const close = open < 0 ? -1 : prefix.indexOf('}', open + 1);
  if (close <= open + 1) throw new TypeError(`the history prefix "${prefix}" holds no {hash tag}`);
  return close;
}

/**
 * The dictionary of purposes the history's entries refer to by a short id (a name would cost bytes per
 * number): one per bucket, so an entry and the dictionary it refers to share a slot.
 */
export function purposesKey(bucket: string): string {
  return `${bucket}purposes`;
}

/** What a key of the history is, in any bucket layout; null for the prefix's other keys (run logs, monitor…). */
export type HistoryKey =
  | { readonly kind: 'state'; readonly bucket: string; readonly index: number | null; readonly id: string }
  | { readonly kind: 'purposes'; readonly bucket: string; readonly index: number | null };

/** An E.164 number (`+` and up to 15 digits), or 22 base64url characters of an HMAC. */
const NUMBER_ID = /^(?:\+\d{1,15}|[A-Za-z0-9_-]{22})$/;

/**
 * Reads a key found under the history's prefix, whatever bucket count wrote it: `{tag}…` (one bucket) or
 * `{tag:<n>}…`. `index` is the bucket's number, null in the single-slot layout.
 */
export function parseHistoryKey(prefix: string, key: string): HistoryKey | null {
  const close = tagEnd(prefix);
  const head = prefix.slice(0, close);
  const tail = prefix.slice(close);
  if (!key.startsWith(head)) return null;
  const bucketed = /^:(\d{1,5})(?=\})/.exec(key.slice(head.length));
  const index = bucketed === null ? null : Number(bucketed[1]);
  const bucket = bucketed === null ? prefix : `${head}${bucketed[0]}${tail}`;
  if (!key.startsWith(bucket)) return null;
  const rest = key.slice(bucket.length);
  if (rest === 'purposes') return { kind: 'purposes', bucket, index };
  return NUMBER_ID.test(rest) ? { kind: 'state', bucket, index, id: rest } : null;
}

/** A SCAN pattern for every key {@link parseHistoryKey} may read: `{tag}…` and `{tag:…}…`. */
export function historyKeyPattern(prefix: string): string {
  const head = prefix.slice(0, tagEnd(prefix));
  return `${head.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}[}:]*`;
}
