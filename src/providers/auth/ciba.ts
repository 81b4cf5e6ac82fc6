import type { BeforeRequest } from '../provider.js';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../../core/clock.js';
import type { E164 } from '../../core/e164.js';
import { FAILURE_CODE, RETRY_CLASS } from '../../core/errors.js';
import type { Logger } from '../../logging/logger.js';
import { httpFailure } from '../http/failure.js';
import { parseJsonObject, scrubUpstreamText, unexpectedBody } from '../http/json.js';
import type { HttpResponse, HttpTransport, TransportResult } from '../http/transport.js';
import { TokenCache, type TokenOutcome } from './token-cache.js';

/**
 * How a client proves who it is at the OAuth endpoints: headers (a Bearer application JWT, HTTP Basic) and
 * form fields (a `private_key_jwt` client assertion). Called per request: an assertion is used once.
 */
export type ClientAuthentication = () => Promise<{
  readonly headers: Readonly<Record<string, string>>;
  readonly fields: Readonly<Record<string, string>>;
}>;

export interface CibaDeps {
  /** The back-channel authentication endpoint (`/oauth2/bc-authorize` at Vonage). */
  readonly authorizeUrl: string;
  readonly tokenUrl: string;
  readonly authenticate: ClientAuthentication;
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

/** POSTs a form to one of the OAuth endpoints, authenticated, after `beforeRequest` (the rate cap). */
type FormPost = (url: string, fields: Record<string, string>) => Promise<TransportResult>;

/** OAuth errors that are this number's answer, not a failure: the network will not give a token for it. */
const ANSWER_ERRORS = new Set(['access_denied', 'invalid_grant', 'unknown_user_id']);

/**
 * CIBA (poll mode) for one number and scope string: bc-authorize with `login_hint=tel:+…`, then the token
 * endpoint, handling every branch: authorization_pending (poll after `interval`), slow_down (+5 s, for good),
 * expired_token (start again), access_denied, invalid_grant and unknown_user_id (final for the row). 401 is
 * fatal (our credentials); 404 an answer (Vonage: not on a supported network); `invalid_scope` a failure
 * that says so in `oauthError`.
 */
export async function cibaToken(
  deps: CibaDeps,
  phoneNumber: E164,
  scope: string,
  beforeRequest: BeforeRequest,
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

function formPoster(deps: CibaDeps, beforeRequest: BeforeRequest): FormPost {
  return async (url, fields) => {
    // Signed after the place in the rate is taken, so a long wait cannot outlive the assertion (see
    // client-credentials.ts).
    const window = await beforeRequest(url === deps.authorizeUrl ? 'bc-authorize' : 'token');
    const client = await deps.authenticate();
    return deps.transport.post(url, {
      window,
      headers: {
        ...client.headers,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: new URLSearchParams({ ...fields, ...client.fields }).toString(),
    });
  };
}

/** bc-authorize: the request to poll for, or why there is none (the number's answer, or a failure). */
async function authorize(
  deps: CibaDeps,
  post: FormPost,
  phoneNumber: E164,
  scope: string,
): Promise<AuthRequest | Refusal> {
  const authorized = await post(deps.authorizeUrl, { login_hint: `tel:${phoneNumber}`, scope });
  if (!authorized.ok) return { ok: false, failure: authorized.failure };
  const auth = authorized.response;
  if (auth.status === 404)
    return {
      ok: false,
      answer: { code: 'NOT_FOUND', message: oauthText(auth, phoneNumber) || 'not on a supported network' },
    };
  if (auth.status !== 200) return refusal(deps, auth, phoneNumber);
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
  deps: CibaDeps,
  post: FormPost,
  wait: (ms: number) => Promise<void>,
  phoneNumber: E164,
  request: AuthRequest,
): Promise<TokenOutcome | 'restart'> {
  let intervalS = request.intervalS;
  for (let polls = 0; polls < MAX_POLLS; polls++) {
    const answered = await post(deps.tokenUrl, {
      grant_type: 'urn:openid:params:grant-type:ciba',
      auth_req_id: request.id,
    });
    if (!answered.ok) return { ok: false, failure: answered.failure };
    const res = answered.response;
    if (res.status === 200) return tokenFrom(res);
    const error = oauthError(res);
    if (res.status === 400 && error === 'authorization_pending') {
      await wait(intervalS * 1000);
    } else if (res.status === 400 && error === 'slow_down') {
      intervalS += 5;
      await wait(intervalS * 1000);
    } else if (res.status === 400 && error === 'expired_token') {
      return 'restart';
    } else {
      return refusal(deps, res, phoneNumber);
    }
    if (deps.clock() >= request.deadline) return 'restart';
  }
  return neverCompleted();
}

/** A 200 from a token endpoint: the access token and its lifetime (300 s when it does not say). */
export function tokenFrom(res: HttpResponse): TokenOutcome {
  const json = parseJsonObject(res.body);
  const token = typeof json?.access_token === 'string' ? json.access_token : null;
  if (token === null) return { ok: false, failure: unexpectedBody(200) };
  return { ok: true, token, expiresInS: typeof json?.expires_in === 'number' ? json.expires_in : 300 };
}

/** A refusal of either endpoint: the number's answer for the errors that are, else a classified failure. */
function refusal(deps: CibaDeps, res: HttpResponse, phoneNumber: E164): Refusal {
  const error = oauthError(res);
  if ((res.status === 400 || res.status === 403) && ANSWER_ERRORS.has(error))
    return {
      ok: false,
      answer: { code: error.toUpperCase(), message: oauthText(res, phoneNumber) || error },
    };
  return {
    ok: false,
    failure: httpFailure(res, deps.clock(), oauthText(res, phoneNumber)),
    ...(error !== '' ? { oauthError: error } : {}),
  };
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

/** The OAuth `error` of an error answer, or '' when it gave none. */
export function oauthError(res: HttpResponse): string {
  const json = parseJsonObject(res.body);
  return typeof json?.error === 'string' ? json.error : '';
}

/** `error: error_description` of an OAuth error answer, scrubbed of the number and anything like a secret. */
export function oauthText(res: HttpResponse, phoneNumber: string): string {
  const json = parseJsonObject(res.body);
  const parts = [json?.error, json?.error_description].filter((p): p is string => typeof p === 'string');
  return scrubUpstreamText(parts.join(': '), phoneNumber).slice(0, 300);
}

/** The scopes of a number's back-channel flows: all at once, and each alone (the fallback). */
export interface CibaScopes<Api extends string> {
  readonly combined: string;
  readonly each: Readonly<Record<Api, string>>;
}

/**
 * Per-number CIBA tokens for two or more APIs. With `combined` on, one flow asks every scope (space-separated)
 * and its token serves every call; when the network answers `invalid_scope`, this process falls back to one
 * flow per scope for good (said once in the log). Tokens are cached per number and scope set, single-flight.
 */
export class CibaTokens<Api extends string> {
  readonly cache: TokenCache;
  private combined: boolean;

  constructor(
    private readonly exchange: (number: E164, scope: string, before: BeforeRequest) => Promise<TokenOutcome>,
    private readonly scopes: CibaScopes<Api>,
    options: { readonly combined: boolean; readonly clock: Clock; readonly logger: Logger },
    private readonly log = options.logger,
  ) {
    this.cache = new TokenCache(options.clock);
    this.combined = options.combined;
  }

  /** Whether flows still ask every scope at once (false after an `invalid_scope`, or when off). */
  get combining(): boolean {
    return this.combined;
  }

  /** A token for this number that serves `api`, and the cache key to drop it by if the API refuses it. */
  async get(
    number: E164,
    api: Api,
    before: BeforeRequest,
  ): Promise<{ readonly outcome: TokenOutcome; readonly key: string }> {
    if (this.combined) {
      const key = `${number}|*`;
      const outcome = await this.cache.get(key, () => this.exchange(number, this.scopes.combined, before));
      if (!(!outcome.ok && 'failure' in outcome && outcome.oauthError === 'invalid_scope'))
        return { outcome, key };
      if (this.combined) {
        this.combined = false;
        this.log.warn(
          'the network refuses several scopes in one back-channel flow (invalid_scope): one flow per scope from now on',
        );
      }
    }
    const key = `${number}|${api}`;
    return {
      outcome: await this.cache.get(key, () => this.exchange(number, this.scopes.each[api], before)),
      key,
    };
  }

  drop(key: string, token: string): void {
    this.cache.drop(key, token);
  }
}
