import type { Clock } from '../../core/clock.js';
import type { E164 } from '../../core/e164.js';
import { FAILURE_CODE, RETRY_CLASS, type LookupFailure } from '../../core/errors.js';
import type { ReachabilityAnswer, RoamingAnswer } from '../../core/lookup-result.js';
import { roamingFromBody } from '../device-status/client.js';
import { httpFailure } from '../http/failure.js';
import { parseJsonObject, scrubUpstreamText, unexpectedBody } from '../http/json.js';
import type { HttpResponse } from '../http/transport.js';
import type { CamaraApi } from './access.js';

/** What one API call came to: the body of a 200, the number's answer (a CAMARA error that is), or a failure. */
export type Call =
  | { readonly kind: 'ok'; readonly body: Record<string, unknown> }
  | { readonly kind: 'answer'; readonly code: string; readonly message: string }
  | { readonly kind: 'failed'; readonly failure: LookupFailure };

/**
 * What a CAMARA error code means for a bulk client. v1 codes, and the v0.6 ones by meaning (kept verbatim in
 * the results): `answer` is final for the row, `setup` pauses the batch, `quota` too.
 */
const MEANING: Readonly<Record<string, 'answer' | 'setup' | 'quota'>> = {
  IDENTIFIER_NOT_FOUND: 'answer',
  DEVICE_NOT_FOUND: 'answer',
  NOT_FOUND: 'answer',
  SERVICE_NOT_APPLICABLE: 'answer',
  DEVICE_NOT_APPLICABLE: 'answer',
  IDENTIFIER_MISMATCH: 'answer',
  DEVICE_IDENTIFIERS_MISMATCH: 'answer',
  INVALID_ARGUMENT: 'answer',
  MISSING_IDENTIFIER: 'setup',
  UNNECESSARY_IDENTIFIER: 'setup',
  UNSUPPORTED_IDENTIFIER: 'setup',
  UNSUPPORTED_DEVICE_IDENTIFIERS: 'setup',
  PERMISSION_DENIED: 'setup',
  INVALID_TOKEN_CONTEXT: 'setup',
  QUOTA_EXCEEDED: 'quota',
};

/** Why the batch pauses for a setup code: what the operator said and what to check. */
const SETUP_HINTS: Readonly<Record<string, string>> = {
  MISSING_IDENTIFIER:
    'the operator wants the device named in the request, so its token is two-legged: check CAMARA_AUTH',
  UNNECESSARY_IDENTIFIER:
    'the operator refuses a device named in the request, so its token is three-legged: check CAMARA_AUTH (ciba)',
  UNSUPPORTED_IDENTIFIER: 'the operator does not accept a phone number as the device identifier',
  UNSUPPORTED_DEVICE_IDENTIFIERS: 'the operator does not accept a phone number as the device identifier',
  PERMISSION_DENIED:
    'the token lacks the scope or the contract does not cover this API: check the subscription and CAMARA_PURPOSE',
  INVALID_TOKEN_CONTEXT:
    'the token lacks the scope or the contract does not cover this API: check the subscription and CAMARA_PURPOSE',
};

/**
 * An API call's HTTP answer (other than a 401, which the caller handles): its body, the number's answer, or a
 * failure that says what to do: 404 and 422 SERVICE_NOT_APPLICABLE are the row's answer; identifier and
 * permission refusals pause the batch (setup); 429 QUOTA_EXCEEDED pauses it (quota), other 429s are rate
 * limits; 5xx retry. Unknown codes are kept verbatim: final on a 4xx, retried on a 5xx.
 */
export function callFromResponse(res: HttpResponse, api: CamaraApi, number: E164, clock: Clock): Call {
  const json = parseJsonObject(res.body);
  if (res.status === 200)
    return json ? { kind: 'ok', body: json } : { kind: 'failed', failure: unexpectedBody(200) };
  const code = typeof json?.code === 'string' ? json.code.trim() : '';
  const message = scrubUpstreamText(typeof json?.message === 'string' ? json.message : '', number).slice(
    0,
    300,
  );
  const said = `HTTP ${res.status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}`;
  const base: LookupFailure = {
    ...httpFailure(res, clock(), [code, message].filter(Boolean).join(': ')),
    ...(code !== '' ? { upstreamCode: code } : {}),
  };
  const meaning = MEANING[code];
  if (res.status === 429 && meaning === 'quota') {
    const reason = `the operator's quota is used up (${said})`;
    return pause(base, 'quota', reason, FAILURE_CODE.rateLimited);
  }
  if (res.status === 403 || (res.status === 422 && meaning === 'setup'))
    return pause(base, 'setup', `${SETUP_HINTS[code] ?? 'the operator refuses the call'} (${said})`);
  if (res.status === 404 && code === '') {
    // No CAMARA error: most likely the path is wrong (a gateway's or web server's 404), not the number.
    const variable = api === 'reachability' ? 'CAMARA_REACHABILITY_PATH' : 'CAMARA_ROAMING_PATH';
    return pause(
      base,
      'setup',
      `the ${api} API is not found there (${said}): check CAMARA_API_BASE_URL and ${variable}`,
    );
  }
  if (
    res.status >= 400 &&
    res.status < 500 &&
    res.status !== 408 &&
    res.status !== 409 &&
    res.status !== 429
  ) {
    if (code !== '') return { kind: 'answer', code, message };
  }
  return { kind: 'failed', failure: base };
}

function pause(
  base: LookupFailure,
  kind: 'setup' | 'quota',
  reason: string,
  code: LookupFailure['code'] = FAILURE_CODE.rejected,
): Call {
  // Retryable, not permanent: if nothing pauses the batch, the number must not be written down as answered.
  return {
    kind: 'failed',
    failure: { ...base, code, retry: RETRY_CLASS.retryable, detail: reason, pause: { kind, reason } },
  };
}

const V06_REACHABILITY: Readonly<Record<string, { reachable: boolean; connectivity: string[] }>> = {
  CONNECTED_DATA: { reachable: true, connectivity: ['DATA'] },
  CONNECTED_SMS: { reachable: true, connectivity: ['SMS'] },
  NOT_CONNECTED: { reachable: false, connectivity: [] },
};

/**
 * A reachability answer in any of the shapes: v1.x (`reachable`, `connectivity`, `lastStatusTime` optional in
 * v1.0, required in v1.1) or v0.6 (`reachabilityStatus`). `lastStatusTime` is the last time the network
 * confirmed the status (not when it changed). An answer in neither shape is a bad response, kept as such.
 */
export function reachabilityFromBody(body: Record<string, unknown>): ReachabilityAnswer {
  const latestStatusAt = readTimestamp(body.lastStatusTime);
  if (typeof body.reachable === 'boolean') {
    const connectivity = body.reachable
      ? [...new Set(stringList(body.connectivity).map((c) => c.toUpperCase()))]
      : [];
    return { status: { code: 'OK', message: null }, reachable: body.reachable, connectivity, latestStatusAt };
  }
  const status = typeof body.reachabilityStatus === 'string' ? body.reachabilityStatus : '';
  const known = V06_REACHABILITY[status];
  if (known === undefined)
    return {
      status: { code: status || FAILURE_CODE.badResponse, message: null },
      reachable: null,
      connectivity: [],
      latestStatusAt: null,
    };
  return {
    status: { code: 'OK', message: null },
    ...known,
    connectivity: [...known.connectivity],
    latestStatusAt,
  };
}

/** A roaming answer (v0.6 and v1 alike): `countryName`, else the countries of the MCC `countryCode`. */
export function roamingAnswerFromBody(body: Record<string, unknown>): RoamingAnswer {
  const answer = roamingFromBody(body);
  return answer.roaming === null ? answer : { ...answer, latestStatusAt: readTimestamp(body.lastStatusTime) };
}

function stringList(raw: unknown): string[] {
  return Array.isArray(raw) ? raw.filter((v): v is string => typeof v === 'string' && v.trim() !== '') : [];
}

/** RFC 3339 normalised to UTC ISO 8601 with milliseconds; anything unparseable becomes null, not garbage. */
function readTimestamp(raw: unknown): string | null {
  if (typeof raw !== 'string') return null;
  const ms = Date.parse(raw);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}
