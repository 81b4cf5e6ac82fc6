import { randomBytes, randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { sendJson } from './http-io.js';
import { checkApplicationJwt } from './jwt-check.js';
import type { Admitted, Route, RouteContext } from './route.js';

export const NETWORK_AUTH_PATHS = { authorize: '/oauth2/bc-authorize', token: '/oauth2/token' } as const;

/** The two Device Status scopes; each access token is good for one of them and one number. */
export const DEVICE_STATUS_SCOPES = {
  connectivity: 'dpv:NotApplicable#device-status:connectivity:read',
  roaming: 'dpv:NotApplicable#device-status:roaming:read',
} as const;
export type DeviceStatusScope = keyof typeof DEVICE_STATUS_SCOPES;

interface AuthRequest {
  readonly number: string;
  readonly scope: DeviceStatusScope;
  readonly expiresAtMs: number;
  pendingLeft: number;
  intervalS: number;
  lastPollMs: number | null;
}

export interface AccessGrant {
  readonly number: string;
  readonly scope: DeviceStatusScope;
  readonly expiresAtMs: number;
}

/** Back-channel requests in flight and tokens handed out; one per simulator. */
export class NetworkAuthState {
  readonly requests = new Map<string, AuthRequest>();
  readonly tokens = new Map<string, AccessGrant>();

  clear(): void {
    this.requests.clear();
    this.tokens.clear();
  }
}

function oauthError(res: ServerResponse, status: number, error: string, description: string): void {
  sendJson(res, status, { error, error_description: description });
}

const FORM_TYPE = /^application\/x-www-form-urlencoded\b/i;

/** Both OAuth endpoints: the application JWT (401 `invalid_client`), then a form body (415 otherwise). */
async function authenticatedForm(request: Admitted, context: RouteContext): Promise<URLSearchParams | null> {
  const { req, res, reply } = request;
  const auth = await checkApplicationJwt(req.headers.authorization, context.applications, context.clock());
  if (!auth.ok) {
    reply(401, () => oauthError(res, 401, 'invalid_client', `Invalid token: ${auth.reason}.`));
    return null;
  }
  context.stats.jwtId(auth.jti);
  if (!FORM_TYPE.test(req.headers['content-type'] ?? '')) {
    reply(415, () =>
      oauthError(res, 415, 'invalid_request', 'Content-Type must be application/x-www-form-urlencoded.'),
    );
    return null;
  }
  return new URLSearchParams(request.body);
}

/**
 * POST /oauth2/bc-authorize: application JWT; `login_hint=tel:+<E.164>` and a Device Status scope. Numbers
 * on no supported network (invalid, unknown, fixed line, no coverage) answer 404.
 */
export const bcAuthorizeRoute: Route = async (request, context) => {
  const { res, reply } = request;
  const params = await authenticatedForm(request, context);
  if (params === null) return;
  const hint = /^tel:(\+?\d{5,15})$/.exec(params.get('login_hint') ?? '');
  if (!hint?.[1])
    return reply(400, () => oauthError(res, 400, 'invalid_request', 'login_hint must be tel:+<E.164>.'));
  const scopes = (params.get('scope') ?? '').split(/\s+/);
  const scope = (Object.keys(DEVICE_STATUS_SCOPES) as DeviceStatusScope[]).find((s) =>
    scopes.includes(DEVICE_STATUS_SCOPES[s]),
  );
  if (!scopes.includes('openid') || scope === undefined) {
    return reply(400, () =>
      oauthError(res, 400, 'invalid_scope', 'scope must be openid plus one Device Status scope.'),
    );
  }
  const perturbed = await request.perturb();
  if (perturbed === null) return;
  const number = hint[1].startsWith('+') ? hint[1] : `+${hint[1]}`;
  const state = context.deviceState(number);
  if (state.kind !== 'device' && state.kind !== 'unauthorized') {
    return reply(404, () => oauthError(res, 404, 'not_found', 'The number is not on a supported network.'));
  }
  const dials = context.dials();
  const id = randomUUID();
  context.oauth.requests.set(id, {
    number,
    scope,
    expiresAtMs: context.clock() + dials.authRequestTtlS * 1000,
    pendingLeft: context.random() < dials.authPendingShare ? 1 : 0,
    intervalS: dials.authIntervalS,
    lastPollMs: null,
  });
  reply(200, () =>
    sendJson(res, 200, { auth_req_id: id, expires_in: dials.authRequestTtlS, interval: dials.authIntervalS }),
  );
};

/**
 * POST /oauth2/token, CIBA grant: `authorization_pending` (a configurable share of first polls), `slow_down`
 * (polled before `interval`; the interval grows by 5 s), `expired_token`, `access_denied` (the operator does
 * not allow it for this number), `invalid_grant` (unknown or used auth_req_id); else a Bearer token bound to
 * the number and scope.
 */
export const tokenRoute: Route = async (request, context) => {
  const { res, reply } = request;
  const params = await authenticatedForm(request, context);
  if (params === null) return;
  if (params.get('grant_type') !== 'urn:openid:params:grant-type:ciba') {
    return reply(400, () =>
      oauthError(res, 400, 'unsupported_grant_type', 'Use urn:openid:params:grant-type:ciba.'),
    );
  }
  const id = params.get('auth_req_id') ?? '';
  const pending = context.oauth.requests.get(id);
  if (!pending)
    return reply(400, () => oauthError(res, 400, 'invalid_grant', 'Unknown or used auth_req_id.'));
  context.stats.number(pending.number);
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
  const ttl = context.dials().accessTokenTtlS;
  const token = randomBytes(24).toString('base64url');
  context.oauth.tokens.set(token, {
    number: pending.number,
    scope: pending.scope,
    expiresAtMs: now + ttl * 1000,
  });
  reply(200, () => sendJson(res, 200, { access_token: token, token_type: 'Bearer', expires_in: ttl }));
};
