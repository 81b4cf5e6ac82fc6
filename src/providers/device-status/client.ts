import { unpaced, type BeforeRequest } from '../provider.js';
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../core/clock.js';
import { maskPhone, type E164 } from '../../core/e164.js';
import { classifyHttpStatus, FAILURE_CODE, RETRY_CLASS, type LookupFailure } from '../../core/errors.js';
import type { LookupOutcome, ReachabilityAnswer, RoamingAnswer } from '../../core/lookup-result.js';
import { countriesForMcc } from '../../core/mcc.js';
import type { Logger } from '../../logging/logger.js';
import type { ApplicationJwtSource } from '../auth/application-jwt.js';
import { parseJsonObject, scrubUpstreamText, unexpectedBody } from '../http/json.js';
import type { HttpResponse, HttpTransport } from '../http/transport.js';
import type { ReachabilityProvider } from '../provider.js';
import { CibaTokens } from '../auth/ciba.js';
import type { TokenCache } from '../auth/token-cache.js';
import { DEVICE_STATUS_SCOPES, exchangeToken, type BackChannelDeps, type Scope } from './back-channel.js';
import { httpFailure } from '../http/failure.js';

export interface DeviceStatusDeps {
  readonly apiBaseUrl: string;
  /** `/camara/device-status/v050`. */
  readonly path: string;
  readonly jwt: ApplicationJwtSource;
  readonly transport: HttpTransport;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly wait?: BackChannelDeps['wait'];
  /** One back-channel flow for both scopes (falls back to one per scope on `invalid_scope`). Default off. */
  readonly combinedScopes?: boolean;
}

type Call =
  | { readonly kind: 'ok'; readonly body: Record<string, unknown> }
  | { readonly kind: 'answer'; readonly code: string; readonly message: string }
  | { readonly kind: 'failed'; readonly failure: LookupFailure };

const PROVIDER = 'device-status';

const SEVERITY: Readonly<Record<LookupFailure['retry'], number>> = {
  fatal: 0,
  'rate-limited': 1,
  retryable: 2,
  permanent: 3,
};

/**
 * CAMARA Device Status v0.5.0: per number, an access token for each scope (cached, shared by concurrent
 * callers), then `/connectivity` and `/roaming`. No timestamps in v0.5.0: `latestStatusAt` stays null.
 */
export function createDeviceStatusProvider(
  deps: DeviceStatusDeps,
): ReachabilityProvider & { readonly tokens: TokenCache } {
  const log = deps.logger.child({ provider: PROVIDER });
  const tokens = new CibaTokens<Scope>(
    (number, scope, before) => exchangeToken(deps, number, scope, before),
    DEVICE_STATUS_SCOPES,
    { combined: deps.combinedScopes === true, clock: deps.clock, logger: log },
  );
  return {
    name: PROVIDER,
    tokens: tokens.cache,
    async lookup(phoneNumber: E164, options = {}) {
      const before = options.beforeRequest ?? unpaced;
      // One correlator for both calls of a lookup: what the carrier needs to find them again (request_id).
      const correlator = randomUUID();
      const [connectivity, roaming] = await Promise.all([
        call(deps, tokens, { number: phoneNumber, scope: 'connectivity', correlator }, before),
        call(deps, tokens, { number: phoneNumber, scope: 'roaming', correlator }, before),
      ]);
      return lookupOutcome(log, { phoneNumber, correlator }, connectivity, roaming);
    },
    servedBySimulator: () => deps.transport.servedBySimulator?.() === true,
    close: () => deps.transport.close(),
  };
}

/** One insight for a number: a token for its scope (a fresh one if the API refuses it), then the call. */
async function call(
  deps: DeviceStatusDeps,
  tokens: CibaTokens<Scope>,
  target: { readonly number: E164; readonly scope: Scope; readonly correlator: string },
  beforeRequest: BeforeRequest,
): Promise<Call> {
  const { number, scope } = target;
  for (let attempt = 0; attempt < 2; attempt++) {
    const { outcome: token, key } = await tokens.get(number, scope, beforeRequest);
    if (!token.ok) {
      return 'answer' in token
        ? { kind: 'answer', code: token.answer.code, message: token.answer.message }
        : { kind: 'failed', failure: token.failure };
    }
    const window = await beforeRequest(scope);
    const result = await deps.transport.post(`${deps.apiBaseUrl}${deps.path}/${scope}`, {
      window,
      headers: {
        authorization: `Bearer ${token.token}`,
        'content-type': 'application/json',
        accept: 'application/json',
        'x-correlator': target.correlator,
      },
      body: JSON.stringify({ device: { phoneNumber: number } }),
    });
    if (!result.ok) return { kind: 'failed', failure: result.failure };
    const res = result.response;
    // A token refused before its time (revoked, clock skew): get a fresh one once.
    if (res.status === 401 && attempt === 0) {
      tokens.drop(key, token.token);
      continue;
    }
    return callFromResponse(res, number, deps.clock);
  }
  return {
    kind: 'failed',
    failure: {
      code: FAILURE_CODE.auth,
      retry: RETRY_CLASS.retryable,
      detail: 'access token refused twice',
    },
  };
}

/**
 * An insight's HTTP answer (other than a first 401, which gets a fresh token instead): its body, the number's
 * answer, or a failure.
 */
function callFromResponse(res: HttpResponse, number: E164, clock: Clock): Call {
  const json = parseJsonObject(res.body);
  if (res.status === 200)
    return json ? { kind: 'ok', body: json } : { kind: 'failed', failure: unexpectedBody(200) };
  const code = typeof json?.code === 'string' ? json.code : '';
  const message = typeof json?.message === 'string' ? json.message : '';
  const { retry } = classifyHttpStatus(res.status);
  // 400, 403 and 404 are this number's answer; 401 again, 409, 429 and 5xx are failures to act on.
  if ((res.status === 400 || res.status === 403 || res.status === 404) && code !== '') {
    return { kind: 'answer', code, message };
  }
  const failure = {
    ...httpFailure(res, clock(), scrubUpstreamText([code, message].filter(Boolean).join(': '), number)),
    ...(code !== '' ? { upstreamCode: code } : {}),
  };
  return {
    kind: 'failed',
    failure: res.status === 401 ? { ...failure, retry: RETRY_CLASS.retryable } : { ...failure, retry },
  };
}

/** Both insights' calls as one lookup outcome, logged (masked number) at debug level. */
function lookupOutcome(
  log: Logger,
  lookup: { readonly phoneNumber: E164; readonly correlator: string },
  connectivity: Call,
  roaming: Call,
): LookupOutcome {
  const { phoneNumber } = lookup;
  // Either insight failing in a way worth acting on fails the lookup: the pair is retried together.
  // The most severe failure decides: a 401 must stop the batch and a 429 pause it, whatever the other call did.
  const failed = [connectivity, roaming]
    .filter((c): c is Extract<Call, { kind: 'failed' }> => c.kind === 'failed')
    .sort((a, b) => SEVERITY[a.failure.retry] - SEVERITY[b.failure.retry])[0];
  if (failed) {
    log.debug({ phone: maskPhone(phoneNumber), failure: failed.failure }, 'lookup failed');
    return { kind: 'failed', provider: PROVIDER, phoneNumber, failure: failed.failure };
  }
  const outcome: LookupOutcome = {
    kind: 'answered',
    provider: PROVIDER,
    phoneNumber,
    requestId: lookup.correlator,
    reachability: mapConnectivity(connectivity),
    roaming: mapRoaming(roaming),
    transient: false,
  };
  log.debug(
    {
      phone: maskPhone(phoneNumber),
      connectivity: outcome.reachability.status.code,
      roaming: outcome.roaming.status.code,
    },
    'lookup answered',
  );
  return outcome;
}

const CONNECTIVITY: Readonly<Record<string, { reachable: boolean; connectivity: string[] }>> = {
  CONNECTED_DATA: { reachable: true, connectivity: ['DATA'] },
  CONNECTED_SMS: { reachable: true, connectivity: ['SMS'] },
  NOT_CONNECTED: { reachable: false, connectivity: [] },
};

function mapConnectivity(call: Call): ReachabilityAnswer {
  if (call.kind !== 'ok')
    return { status: statusOf(call), reachable: null, connectivity: [], latestStatusAt: null };
  const value = typeof call.body.connectivityStatus === 'string' ? call.body.connectivityStatus : '';
  const known = CONNECTIVITY[value];
  // An unknown connectivity value is kept as the status, not guessed at.
  if (!known)
    return {
      status: { code: value || FAILURE_CODE.badResponse, message: null },
      reachable: null,
      connectivity: [],
      latestStatusAt: null,
    };
  return {
    status: { code: 'OK', message: null },
    ...known,
    connectivity: [...known.connectivity],
    latestStatusAt: null,
  };
}

function mapRoaming(call: Call): RoamingAnswer {
  if (call.kind !== 'ok')
    return { status: statusOf(call), roaming: null, countries: [], mcc: null, latestStatusAt: null };
  return roamingFromBody(call.body);
}

/** A `/roaming` answer: `countryName` when given (even `[]`), else the countries of `countryCode` (the MCC). */
export function roamingFromBody(body: Record<string, unknown>): RoamingAnswer {
  const roaming = typeof body.roaming === 'boolean' ? body.roaming : null;
  const mcc = roaming === true && typeof body.countryCode === 'number' ? body.countryCode : null;
  const named = Array.isArray(body.countryName)
    ? body.countryName.filter((c): c is string => typeof c === 'string').map((c) => c.toUpperCase())
    : null;
  const countries = roaming !== true ? [] : (named ?? (mcc !== null ? [...countriesForMcc(mcc)] : []));
  return {
    status: { code: roaming === null ? FAILURE_CODE.badResponse : 'OK', message: null },
    roaming,
    countries,
    mcc,
    latestStatusAt: null,
  };
}

function statusOf(call: Exclude<Call, { kind: 'ok' }>): { code: string; message: string | null } {
  return call.kind === 'answer'
    ? { code: call.code, message: call.message || null }
    : { code: call.failure.code, message: call.failure.detail };
}
