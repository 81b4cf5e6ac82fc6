import { randomBytes, randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { sendJson } from './http-io.js';
import { checkApplicationJwt } from './jwt-check.js';
import type { Admitted, Route, RouteContext } from './route.js';

export const NETWORK_AUTH_PATHS = { authorize: '/oauth2/bc-authorize', token: '/oauth2/token' } as const;

/** The two Device Status scopes, as Vonage writes them (the `#` form). */
export const DEVICE_STATUS_SCOPES = {
  connectivity: 'dpv:NotApplicable#device-status:connectivity:read',
  roaming: 'dpv:NotApplicable#device-status:roaming:read',
} as const;
export type DeviceStatusScope = keyof typeof DEVICE_STATUS_SCOPES;

/** Who issued a token: Vonage's network auth, or the CAMARA operator's (`/oidc`). One never serves the other. */
export type Issuer = 'vonage' | 'operator';

interface AuthRequest {
  readonly issuer: Issuer;
  readonly number: string;
  readonly scopes: ReadonlySet<string>;
  readonly expiresAtMs: number;
  pendingLeft: number;
  intervalS: number;
  lastPollMs: number | null;
}

/** What an access token is good for: a number (three-legged) or any number (two-legged, `null`), and scopes. */
export interface AccessGrant {
  readonly issuer: Issuer;
  readonly number: string | null;
  readonly scopes: ReadonlySet<string>;
  readonly expiresAtMs: number;
}

/** Back-channel requests in flight and tokens handed out; one per simulator. */
export class NetworkAuthState {
  readonly requests = new Map<string, AuthRequest>();
  readonly tokens = new Map<string, AccessGrant>();
  /** `jti`s of client assertions seen: an assertion is good once. */
  readonly assertionIds = new Set<string>();

  clear(): void {
    this.requests.clear();
    this.tokens.clear();
    this.assertionIds.clear();
  }
}

export function oauthError(res: ServerResponse, status: number, error: string, description: string): void {
  sendJson(res, status, { error, error_description: description });
}

const FORM_TYPE = /^application\/x-www-form-urlencoded\b/i;

/** A form body, or null once 415 has been answered. */
export function formBody(request: Admitted): URLSearchParams | null {
  if (!FORM_TYPE.test(request.req.headers['content-type'] ?? '')) {
    request.reply(415, () =>
      oauthError(
        request.res,
        415,
        'invalid_request',
        'Content-Type must be application/x-www-form-urlencoded.',
      ),
    );
    return null;
  }
  return new URLSearchParams(request.body);
}

/** Vonage's OAuth endpoints: the application JWT (401 `invalid_client`), then a form body (415 otherwise). */
async function authenticatedForm(request: Admitted, context: RouteContext): Promise<URLSearchParams | null> {
  const { req, res, reply } = request;
  const auth = await checkApplicationJwt(req.headers.authorization, context.applications, context.clock());
  if (!auth.ok) {
    reply(401, () => oauthError(res, 401, 'invalid_client', `Invalid token: ${auth.reason}.`));
    return null;
  }
  context.stats.jwtId(auth.jti);
  return formBody(request);
}

/** `tel:+<E.164>` from a `login_hint`, `+` restored; null when the hint is not one. */
export function loginHintNumber(params: URLSearchParams): string | null {
  const hint = /^tel:(\+?\d{5,15})$/.exec(params.get('login_hint') ?? '');
  if (!hint?.[1]) return null;
  return hint[1].startsWith('+') ? hint[1] : `+${hint[1]}`;
}

/** Starts a back-channel request for a number and scopes, and answers with its id, lifetime and interval. */
export function startAuthRequest(
  request: Admitted,
  context: RouteContext,
  grant: { readonly issuer: Issuer; readonly number: string; readonly scopes: ReadonlySet<string> },
): void {
  const dials = context.dials();
  const id = randomUUID();
  context.oauth.requests.set(id, {
    ...grant,
    expiresAtMs: context.clock() + dials.authRequestTtlS * 1000,
    pendingLeft: context.random() < dials.authPendingShare ? 1 : 0,
    intervalS: dials.authIntervalS,
    lastPollMs: null,
  });
  request.reply(200, () =>
    sendJson(request.res, 200, {
      auth_req_id: id,
      expires_in: dials.authRequestTtlS,
      interval: dials.authIntervalS,
    }),
  );
}

/**
 * POST /oauth2/bc-authorize: application JWT; `login_hint=tel:+<E.164>` and Device Status scopes (several
 * at once unless the `refuseCombinedScopes` dial says `invalid_scope`). Numbers on no supported network
 * (invalid, unknown, fixed line, no coverage) answer 404.
 */
export const bcAuthorizeRoute: Route = async (request, context) => {
  const { res, reply } = request;
  const params = await authenticatedForm(request, context);
  if (params === null) return;
  const number = loginHintNumber(params);
  if (number === null)
    return reply(400, () => oauthError(res, 400, 'invalid_request', 'login_hint must be tel:+<E.164>.'));
  const asked = (params.get('scope') ?? '').split(/\s+/);
  const scopes = new Set(
    (Object.keys(DEVICE_STATUS_SCOPES) as DeviceStatusScope[]).filter((s) =>
      asked.includes(DEVICE_STATUS_SCOPES[s]),
    ),
  );
  if (!asked.includes('openid') || scopes.size === 0) {
    return reply(400, () =>
      oauthError(res, 400, 'invalid_scope', 'scope must be openid plus Device Status scopes.'),
    );
  }
  if (scopes.size > 1 && context.dials().refuseCombinedScopes)
    return reply(400, () => oauthError(res, 400, 'invalid_scope', 'One scope per authorization request.'));
  const perturbed = await request.perturb();
  if (perturbed === null) return;
  const state = context.deviceState(number);
  if (state.kind !== 'device' && state.kind !== 'unauthorized') {
    return reply(404, () => oauthError(res, 404, 'not_found', 'The number is not on a supported network.'));
  }
  startAuthRequest(request, context, { issuer: 'vonage', number, scopes });
};

/**
 * POST /oauth2/token, CIBA grant, for the application JWT's client: see {@link pollAuthRequest}.
 */
export const tokenRoute: Route = async (request, context) => {
  const params = await authenticatedForm(request, context);
  if (params === null) return;
  if (params.get('grant_type') !== 'urn:openid:params:grant-type:ciba') {
    return request.reply(400, () =>
      oauthError(request.res, 400, 'unsupported_grant_type', 'Use urn:openid:params:grant-type:ciba.'),
    );
  }
  await pollAuthRequest(request, context, params, 'vonage');
};

/**
 * A CIBA token poll: `authorization_pending` (a configurable share of first polls), `slow_down` (polled before
 * `interval`; the interval grows by 5 s), `expired_token`, `access_denied` (the operator does not allow it for
 * this number), `invalid_grant` (unknown or used auth_req_id, or another issuer's); else a Bearer token bound
 * to the number and the scopes asked.
 */
export async function pollAuthRequest(
  request: Admitted,
  context: RouteContext,
  params: URLSearchParams,
  issuer: Issuer,
): Promise<void> {
  const { res, reply } = request;
  const id = params.get('auth_req_id') ?? '';
  const pending = context.oauth.requests.get(id);
  if (pending?.issuer !== issuer)
    return reply(400, () => oauthError(res, 400, 'invalid_grant', 'Unknown or used auth_req_id.'));
  context.stats.number(pending.number);
  // Scripts are lined up for the calls that name the number in their body, never for a poll.
  const perturbed = await request.perturb();
  if (perturbed === null) return;
  const now = context.clock();
  if (now >= pending.expiresAtMs) {
    context.oauth.requests.delete(id);
    return reply(400, () => oauthError(res, 400, 'expired_token', 'The auth_req_id has expired.'));
  }
  if (pending.lastPollMs !== null && now - pending.lastPollMs < pending.intervalS * 1000) {
    pending.intervalS += 5;
    pending.lastPollMs = now;
    return reply(400, () => oauthError(res, 400, 'slow_down', `Poll at most every ${pending.intervalS} s.`));
  }
  pending.lastPollMs = now;
  if (pending.pendingLeft > 0) {
    pending.pendingLeft--;
    return reply(400, () => oauthError(res, 400, 'authorization_pending', 'The authorization is pending.'));
  }
  context.oauth.requests.delete(id);
  if (context.deviceState(pending.number).kind === 'unauthorized') {
    return reply(400, () =>
      oauthError(res, 400, 'access_denied', 'The operator does not allow this for the number.'),
    );
  }
  issueToken(request, context, { issuer, number: pending.number, scopes: pending.scopes });
}

/** Hands out a Bearer token for a grant, living `accessTokenTtlS`. */
export function issueToken(
  request: Admitted,
  context: RouteContext,
  grant: Omit<AccessGrant, 'expiresAtMs'>,
): void {
  const ttl = context.dials().accessTokenTtlS;
  const token = randomBytes(24).toString('base64url');
  context.oauth.tokens.set(token, { ...grant, expiresAtMs: context.clock() + ttl * 1000 });
  request.reply(200, () =>
    sendJson(request.res, 200, { access_token: token, token_type: 'Bearer', expires_in: ttl }),
  );
}
