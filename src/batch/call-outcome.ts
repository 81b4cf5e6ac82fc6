/**
 * What one carrier call came to, as the error-ratio breaker sees it. Most failures are the carrier's trouble
 * (5xx, timeouts) and clear by themselves; a setup failure is ours: the application is not enabled for an
 * insight, its purpose is not allowed, its credentials lack a scope, or the carrier rejects the request as
 * malformed. One of those on a few numbers is those numbers' answer; on most calls it means every call of the
 * batch will fail the same way, so the breaker pauses the batch with a line that says what to fix.
 */

import { maskPhone } from '../core/e164.js';
import type { LookupOutcome } from '../core/lookup-result.js';

export type InsightName = 'reachability' | 'roaming';
/** Device Status scopes: the reachability insight is the `connectivity` scope. */
export type ScopeName = 'connectivity' | 'roaming';

/** A failure that comes from how reachscan (or the application behind it) is set up, not from the carrier. */
export type SetupCause =
  /** Identity Insights, per insight in a 200: the operator does not allow the insight for this application. */
  | { readonly kind: 'unauthorized'; readonly insights: readonly InsightName[] }
  /** Identity Insights, per insight in a 200: the purpose sent is not attached to the application. */
  | { readonly kind: 'invalid-purpose'; readonly insights: readonly InsightName[] }
  /** Device Status: the API itself answered 403 `PERMISSION_DENIED` for the scope. */
  | { readonly kind: 'permission-denied'; readonly scopes: readonly ScopeName[] }
  /** HTTP 400, 415 or 422: the request is malformed as the carrier sees it. `said`: its code and message. */
  | { readonly kind: 'rejected'; readonly httpStatus: number; readonly said: string };

export type CallOutcome =
  /** The carrier answered (a "no such number" is an answer too). */
  | { readonly kind: 'answered' }
  /** A failure of the carrier's that may clear by itself (5xx, timeouts, transient insight codes). */
  | { readonly kind: 'failed'; readonly label: string }
  /** A failure of our setup; see {@link SetupCause}. */
  | { readonly kind: 'setup'; readonly label: string; readonly cause: SetupCause }
  /** Not for the breaker: 429s have their own handling and a 401 stops the batch by itself. */
  | { readonly kind: 'uncounted' };

/** The HTTP statuses that say the request itself is malformed (invalid JSON, media type, validation). */
const MALFORMED_STATUSES: ReadonlySet<number> = new Set([400, 415, 422]);

/** Classifies one lookup's outcome for the breaker. */
export function classifyCall(outcome: LookupOutcome): CallOutcome {
  if (outcome.kind === 'answered') {
    const cause = answeredSetupCause(outcome);
    if (cause !== null) return setup(cause);
    return outcome.transient ? { kind: 'failed', label: 'transient insight errors' } : { kind: 'answered' };
  }
  const { failure } = outcome;
  // A failure that names its own pause (CAMARA: a body that does not fit the token, a used-up quota) pauses
  // the batch by itself, with the provider's reason.
  if (failure.pause !== undefined) return { kind: 'uncounted' };
  if (failure.retry === 'permanent') {
    if (failure.httpStatus !== undefined && MALFORMED_STATUSES.has(failure.httpStatus)) {
      const said = failure.detail.replace(/^HTTP \d+:?\s*/, '');
      return setup({
        kind: 'rejected',
        httpStatus: failure.httpStatus,
        said: scrub(said, outcome.phoneNumber),
      });
    }
    return { kind: 'answered' };
  }
  if (failure.retry !== 'retryable') return { kind: 'uncounted' };
  return {
    kind: 'failed',
    label: failure.httpStatus !== undefined ? `HTTP ${failure.httpStatus}` : failure.code,
  };
}

/** True when the breaker counts the call as failed (a carrier failure or a setup failure). */
export function countsAsFailure(call: CallOutcome): call is Extract<CallOutcome, { label: string }> {
  return call.kind === 'failed' || call.kind === 'setup';
}

function setup(cause: SetupCause): CallOutcome {
  return { kind: 'setup', label: setupLabel(cause), cause };
}

/** The setup cause an answer carries in its per-insight statuses, or null. */
function answeredSetupCause(outcome: Extract<LookupOutcome, { kind: 'answered' }>): SetupCause | null {
  const statuses: readonly (readonly [InsightName, { code: string; message: string | null }])[] = [
    ['reachability', outcome.reachability.status],
    ['roaming', outcome.roaming.status],
  ];
  const withCode = (code: string) => statuses.filter(([, s]) => s.code === code).map(([name]) => name);
  if (outcome.provider === 'device-status') {
    const denied = withCode('PERMISSION_DENIED');
    if (denied.length > 0) return { kind: 'permission-denied', scopes: denied.map(scopeOf) };
    // v0.5.0's 400: reachscan sends valid E.164 numbers only, so the request shape is what it objects to.
    const invalid = statuses.find(([, s]) => s.code === 'INVALID_ARGUMENT');
    if (invalid !== undefined) {
      const [, s] = invalid;
      const said = s.message !== null ? `${s.code}: ${s.message}` : s.code;
      return { kind: 'rejected', httpStatus: 400, said: scrub(said, outcome.phoneNumber) };
    }
    return null;
  }
  // The purpose concerns the application as a whole: named first when both come back.
  const purpose = withCode('INVALID_PURPOSE');
  if (purpose.length > 0) return { kind: 'invalid-purpose', insights: purpose };
  const unauthorized = withCode('UNAUTHORIZED');
  if (unauthorized.length > 0) return { kind: 'unauthorized', insights: unauthorized };
  return null;
}

function scopeOf(insight: InsightName): ScopeName {
  return insight === 'reachability' ? 'connectivity' : 'roaming';
}

/** The breaker's name for a setup failure, e.g. `UNAUTHORIZED (roaming)` or `HTTP 422`. */
function setupLabel(cause: SetupCause): string {
  switch (cause.kind) {
    case 'unauthorized':
      return `UNAUTHORIZED (${cause.insights.join(', ')})`;
    case 'invalid-purpose':
      return `INVALID_PURPOSE (${cause.insights.join(', ')})`;
    case 'permission-denied':
      return `HTTP 403 PERMISSION_DENIED (${cause.scopes.join(', ')})`;
    case 'rejected':
      return `HTTP ${cause.httpStatus}`;
  }
}

/**
 * The line a batch paused for a setup failure carries: what the carrier said, what probably causes it, where
 * to fix it, and the command that goes on. Names no secret and no full number.
 */
export function setupReason(cause: SetupCause, batchId: string): string {
  const then = `then reachscan resume ${batchId}`;
  switch (cause.kind) {
    case 'unauthorized':
      return (
        `most answers are UNAUTHORIZED: the application is probably not enabled for the ` +
        `${insightWords(cause.insights)} in this country — check the Network Registry, ${then}`
      );
    case 'invalid-purpose':
      return (
        `most answers are INVALID_PURPOSE: the purpose reachscan sends (VONAGE_PURPOSE) is not allowed for ` +
        `this application's ${insightWords(cause.insights)} — attach it to the application in the Network ` +
        `Registry or set VONAGE_PURPOSE to a purpose the application has, ${then}`
      );
    case 'permission-denied':
      return (
        `most calls are refused with HTTP 403 PERMISSION_DENIED: the application's credentials lack ` +
        `permission for the Device Status ${words(cause.scopes)} ${cause.scopes.length > 1 ? 'scopes' : 'scope'} ` +
        `— check that the application is enabled for Device Status in the Network Registry, ${then}`
      );
    case 'rejected':
      return (
        `most calls are rejected as malformed (HTTP ${cause.httpStatus}${cause.said ? `: ${cause.said}` : ''}): ` +
        `the carrier does not accept the request reachscan sends — check --provider, the API version and ` +
        `paths (VONAGE_API_BASE_URL, VONAGE_IDENTITY_INSIGHTS_PATH, VONAGE_DEVICE_STATUS_PATH) and settings ` +
        `such as VONAGE_PURPOSE, ${then}`
      );
  }
}

function insightWords(insights: readonly InsightName[]): string {
  return `${words(insights)} ${insights.length > 1 ? 'insights' : 'insight'}`;
}

function words(names: readonly string[]): string {
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names.at(-1)}` : (names[0] ?? '');
}

/**
 * The carrier's words are scrubbed by the providers already; this also masks the number asked about and any
 * other run of digits long enough to be a phone number, and bounds the length: the line goes to logs, the
 * status page and the terminal.
 */
function scrub(text: string, phoneNumber: string): string {
  const masked = text
    .split(phoneNumber)
    .join(maskPhone(phoneNumber))
    .replace(/\+?\d[\d ]{6,}\d/g, (digits) => maskPhone(digits.replace(/ /g, '')));
  return masked.length > 200 ? `${masked.slice(0, 197)}...` : masked;
}
