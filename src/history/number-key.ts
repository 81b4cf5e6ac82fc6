import { createHmac } from 'node:crypto';
import type { HistoryOptions, StateSecret } from '../core/settings.js';

export type { StateSecret };

/** Bytes of the HMAC kept in a key: 128 bits, ample against collisions, and a key 21 bytes shorter. */
const DIGEST_BYTES = 16;

/**
 * The one place a number becomes the name of its history hash. With a secret, an HMAC-SHA256 of the E.164
 * number keyed by it (base64url, 22 characters, never starting with `+`); without one, the number as is
 * (E.164, `+…`). Either way under the history's prefix, so its hash tag keeps every state in one Cluster slot.
 */
export function numberKey(
  history: Pick<HistoryOptions, 'prefix'>,
  secret: StateSecret,
  number: string,
): string {
  return `${history.prefix}${secret === null ? number : numberDigest(secret, number)}`;
}

/** The name a number's history has when no secret is set (keys written before one was). */
export function clearNumberKey(history: Pick<HistoryOptions, 'prefix'>, number: string): string {
  return `${history.prefix}${number}`;
}

export function numberDigest(secret: string, number: string): string {
  return createHmac('sha256', secret).update(number).digest().subarray(0, DIGEST_BYTES).toString('base64url');
}

/** A SCAN pattern for the history's keys named in clear (E.164 numbers start with `+`). */
export function clearKeyPattern(history: Pick<HistoryOptions, 'prefix'>): string {
  return `${history.prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}+*`;
}

/** The dictionary of purposes the history's entries refer to by a short id (a name would cost bytes per number). */
export function purposesKey(history: Pick<HistoryOptions, 'prefix'>): string {
  return `${history.prefix}purposes`;
}
