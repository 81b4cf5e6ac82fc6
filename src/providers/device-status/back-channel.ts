import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../../core/clock.js';
import type { E164 } from '../../core/e164.js';
import { FAILURE_CODE, RETRY_CLASS, type LookupFailure } from '../../core/errors.js';
import type { ApplicationJwtSource } from '../auth/application-jwt.js';
import { httpFailure } from '../http/failure.js';
import { parseJsonObject, scrubUpstreamText, unexpectedBody } from '../http/json.js';
import type { HttpResponse, HttpTransport, TransportResult } from '../http/transport.js';

export const SCOPES = {
  connectivity: 'openid dpv:NotApplicable#device-status:connectivity:read',
  roaming: 'openid dpv:NotApplicable#device-status:roaming:read',
} as const;
export type Scope = keyof typeof SCOPES;

/**
 * A token, a final answer for the row (the network says no: not on a supported network, access denied), or
 * a classified failure of the exchange.
 */
export type TokenOutcome =
  | { readonly ok: true; readonly token: string; readonly expiresInS: number }
  | { readonly ok: false; readonly answer: { readonly code: string; readonly message: string } }
  | { readonly ok: false; readonly failure: LookupFailure };

export interface BackChannelDeps {
  readonly apiBaseUrl: string;
  readonly jwt: ApplicationJwtSource;
  readonly transport: HttpTransport;
  readonly clock: Clock;
  /** Waits between polls; injectable so tests can move a fake clock instead. */
  readonly wait?: (ms: number) => Promise<void>;
}

/** Restarts after `expired_token`, and polls per request, before the exchange gives up. */
const MAX_RESTARTS = 3;
const MAX_POLLS = 30;
const DEFAULT_INTERVAL_S = 5;

/** A back-channel request the network accepted: what to poll the token endpoint with, how often, how long. */
interface AuthRequest {
  readonly id: string;
  readonly intervalS: number;
  /** Clock time after which the request is started again rather than polled. */
  readonly deadline: number;
}

/** A token outcome that is not a token: an answer for the row or a failure. */
type Refusal = Exclude<TokenOutcome, { readonly ok: true }>;

/** POSTs a form to the auth API, signed with the application JWT, after `beforeRequest` (the rate cap). */
type FormPost = (path: string, fields: Record<string, string>) => Promise<TransportResult>;

/**
 * Vonage network auth for one number and scope: bc-authorize, then the CIBA token endpoint, handling every
 * branch: authorization_pending (poll after `interval`), slow_down (+5 s), expired_token (start again),
 * access_denied and invalid_grant (final for the row). 401 is fatal (our credentials), 404 an answer.
 */
export async function exchangeToken(
  deps: BackChannelDeps,
  phoneNumber: E164,
  scope: Scope,
  beforeRequest: () => Promise<void>,
): Promise<TokenOutcome> {
  const wait = deps.wait ?? ((ms: number) => sleep(ms));
  const post = formPoster(deps, beforeRequest);
  for (let restart = 0; restart <= MAX_RESTARTS; restart++) {
    const request = await authorize(deps, post, phoneNumber, scope);
    // Refused outright (the number's answer, or a failure): nothing to poll for.
    if ('ok' in request) return request;
    const polled = await pollForToken(deps, post, wait, phoneNumber, request);
    if (polled !== 'restart') return polled;
  }
  return neverCompleted();
}

function formPoster(deps: BackChannelDeps, beforeRequest: () => Promise<void>): FormPost {
  return async (path, fields) => {
    await beforeRequest();
    return deps.transport.post(deps.apiBaseUrl + path, {
      headers: {
        authorization: `Bearer ${await deps.jwt.get()}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: new URLSearchParams(fields).toString(),
    });
  };
}

/** bc-authorize: the request to poll for, or why there is none (404: the number's answer). */
async function authorize(
  deps: BackChannelDeps,
  post: FormPost,
  phoneNumber: E164,
  scope: Scope,
): Promise<AuthRequest | Refusal> {
  const authorized = await post('/oauth2/bc-authorize', {
    login_hint: `tel:${phoneNumber}`,
    scope: SCOPES[scope],
  });
  if (!authorized.ok) return { ok: false, failure: authorized.failure };
  const auth = authorized.response;
  if (auth.status === 404)
    return {
      ok: false,
      answer: { code: 'NOT_FOUND', message: oauthText(auth, phoneNumber) || 'not on a supported network' },
    };
  if (auth.status !== 200)
    return { ok: false, failure: httpFailure(auth, deps.clock(), oauthText(auth, phoneNumber)) };
  const body = parseJsonObject(auth.body);
  const id = typeof body?.auth_req_id === 'string' ? body.auth_req_id : null;
  if (id === null) return { ok: false, failure: unexpectedBody(auth.status) };
  // CIBA's default when the server names no interval is 5 s: never poll back to back.
  const intervalS =
    typeof body?.interval === 'number' && body.interval > 0 ? body.interval : DEFAULT_INTERVAL_S;
  const lifetimeS = typeof body?.expires_in === 'number' ? body.expires_in : 120;
  return { id, intervalS, deadline: deps.clock() + lifetimeS * 1000 };
}

/**
 * Polls the token endpoint for one back-channel request until it answers; `restart` when the request expired
 * (`expired_token`, or its lifetime ran out while pending), a timeout failure after {@link MAX_POLLS} polls.
 */
async function pollForToken(
  deps: BackChannelDeps,
  post: FormPost,
  wait: (ms: number) => Promise<void>,
  phoneNumber: E164,
  request: AuthRequest,
): Promise<TokenOutcome | 'restart'> {
  let intervalS = request.intervalS;
  for (let polls = 0; polls < MAX_POLLS; polls++) {
    const answered = await post('/oauth2/token', {
      grant_type: 'urn:openid:params:grant-type:ciba',
      auth_req_id: request.id,
    });
    if (!answered.ok) return { ok: false, failure: answered.failure };
    const res = answered.response;
    const json = parseJsonObject(res.body);
    if (res.status === 200) {
      const token = typeof json?.access_token === 'string' ? json.access_token : null;
      if (token === null) return { ok: false, failure: unexpectedBody(200) };
      return { ok: true, token, expiresInS: typeof json?.expires_in === 'number' ? json.expires_in : 300 };
    }
    const error = typeof json?.error === 'string' ? json.error : '';
    if (res.status === 400 && error === 'authorization_pending') {
      await wait(intervalS * 1000);
    } else if (res.status === 400 && error === 'slow_down') {
      intervalS += 5;
      await wait(intervalS * 1000);
    } else if (res.status === 400 && error === 'expired_token') {
      return 'restart';
    } else if (res.status === 400 && (error === 'access_denied' || error === 'invalid_grant')) {
      return {
        ok: false,
        answer: { code: error.toUpperCase(), message: oauthText(res, phoneNumber) || error },
      };
    } else {
      return { ok: false, failure: httpFailure(res, deps.clock(), oauthText(res, phoneNumber)) };
    }
    if (deps.clock() >= request.deadline) return 'restart';
  }
  return neverCompleted();
}

function neverCompleted(): Refusal {
  return {
    ok: false,
    failure: {
      code: FAILURE_CODE.timeout,
      retry: RETRY_CLASS.retryable,
      detail: 'the back-channel authorization never completed',
    },
  };
}

function oauthText(res: HttpResponse, phoneNumber: E164): string {
  const json = parseJsonObject(res.body);
  const parts = [json?.error, json?.error_description].filter((p): p is string => typeof p === 'string');
  return scrubUpstreamText(parts.join(': '), phoneNumber).slice(0, 300);
}
