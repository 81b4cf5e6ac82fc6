import { createPublicKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { decodeJwt, jwtVerify } from 'jose';
import type { Admitted, Route, RouteContext } from './route.js';
import {
  formBody,
  issueToken,
  loginHintNumber,
  oauthError,
  pollAuthRequest,
  startAuthRequest,
} from './network-auth.js';

/** The CAMARA operator's OAuth endpoints (an OpenID provider of its own, apart from Vonage's `/oauth2`). */
export const OPERATOR_AUTH_PATHS = { authorize: '/oidc/bc-authorize', token: '/oidc/token' } as const;

/** The scopes of CAMARA Device Reachability Status and Device Roaming Status. */
export const CAMARA_API_SCOPES = {
  reachability: 'device-reachability-status:read',
  roaming: 'device-roaming-status:read',
} as const;
const KNOWN_SCOPES: ReadonlySet<string> = new Set(Object.values(CAMARA_API_SCOPES));

/** A client of the operator: `client_secret_basic` with a secret, `private_key_jwt` with a public key. */
export interface SimulatedClient {
  readonly clientId: string;
  readonly clientSecret?: string;
  /** PEM text or a KeyObject: the public half of the client's assertion key. */
  readonly publicKey?: KeyObject | string;
}

export interface OperatorClientRecord {
  readonly clientId: string;
  readonly clientSecret: string | null;
  readonly publicKey: KeyObject | null;
}

export function toClientRecord(client: SimulatedClient): OperatorClientRecord {
  return {
    clientId: client.clientId,
    clientSecret: client.clientSecret ?? null,
    publicKey:
      client.publicKey === undefined
        ? null
        : typeof client.publicKey === 'string'
          ? createPublicKey(client.publicKey)
          : client.publicKey,
  };
}

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const MAX_ASSERTION_LIFETIME_S = 300;

/** Which client sent the request (HTTP Basic, or a `private_key_jwt` assertion in the form), or why none. */
async function authenticateClient(
  request: Admitted,
  params: URLSearchParams,
  context: RouteContext,
): Promise<{ readonly ok: true } | { readonly ok: false; readonly reason: string }> {
  const basic = /^Basic\s+(\S+)$/i.exec(request.req.headers.authorization ?? '')?.[1];
  if (basic !== undefined) {
    const [id, secret] = Buffer.from(basic, 'base64').toString('utf8').split(':', 2);
    const client = context.operatorClients.get(new URLSearchParams(`v=${id ?? ''}`).get('v') ?? '');
    const given = Buffer.from(new URLSearchParams(`v=${secret ?? ''}`).get('v') ?? '');
    const expected = Buffer.from(client?.clientSecret ?? '');
    if (client?.clientSecret == null || given.length !== expected.length || !timingSafeEqual(given, expected))
      return { ok: false, reason: 'unknown client or wrong secret' };
    return { ok: true };
  }
  if (params.get('client_assertion_type') === ASSERTION_TYPE) return checkAssertion(params, context);
  return { ok: false, reason: 'no client authentication' };
}

/** A `private_key_jwt` assertion: signed by the client's key, iss = sub = client, aud us, short-lived, once. */
async function checkAssertion(
  params: URLSearchParams,
  context: RouteContext,
): Promise<{ readonly ok: true } | { readonly ok: false; readonly reason: string }> {
  const assertion = params.get('client_assertion') ?? '';
  let issuer: unknown;
  try {
    issuer = decodeJwt(assertion).iss;
  } catch {
    return { ok: false, reason: 'malformed client assertion' };
  }
  const client = typeof issuer === 'string' ? context.operatorClients.get(issuer) : undefined;
  if (client?.publicKey == null) return { ok: false, reason: 'unknown client' };
  let claims;
  try {
    ({ payload: claims } = await jwtVerify(assertion, client.publicKey, {
      issuer: client.clientId,
      subject: client.clientId,
      currentDate: new Date(context.clock()),
      clockTolerance: 30,
      requiredClaims: ['exp', 'iat', 'jti', 'aud'],
    }));
  } catch {
    return { ok: false, reason: 'client assertion not valid' };
  }
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  const ours = audiences.some((a) => typeof a === 'string' && /\/oidc\/(token|bc-authorize)$/.test(a));
  if (!ours) return { ok: false, reason: 'client assertion is for another audience' };
  if ((claims.exp ?? 0) - (claims.iat ?? 0) > MAX_ASSERTION_LIFETIME_S)
    return { ok: false, reason: 'client assertion lives longer than 300 s' };
  const seen = context.oauth.assertionIds;
  if (seen.has(claims.jti as string)) return { ok: false, reason: 'client assertion used before' };
  if (seen.size > 100_000) seen.clear();
  seen.add(claims.jti as string);
  return { ok: true };
}

/** A form from an authenticated client, or null once the refusal is answered. */
async function clientForm(request: Admitted, context: RouteContext): Promise<URLSearchParams | null> {
  const params = formBody(request);
  if (params === null) return null;
  const auth = await authenticateClient(request, params, context);
  if (!auth.ok) {
    request.reply(401, () =>
      oauthError(request.res, 401, 'invalid_client', `Client authentication failed: ${auth.reason}.`),
    );
    return null;
  }
  return params;
}

/**
 * The API scopes a scope string asks for, in either style (`openid dpv:P s1 s2` or `openid dpv:P#s1 dpv:P#s2`),
 * or why it is refused: an unknown scope, no API scope, several purposes, no `openid`/purpose for a flow
 * with a user, or several API scopes while the `refuseCombinedScopes` dial is on.
 */
export function parseScopes(
  text: string,
  options: { readonly threeLegged: boolean; readonly refuseCombined: boolean },
): { readonly scopes: ReadonlySet<string> } | { readonly refused: string } {
  const scopes = new Set<string>();
  const purposes = new Set<string>();
  let openid = false;
  for (const token of text.split(/\s+/).filter(Boolean)) {
    if (token === 'openid') openid = true;
    else if (token.startsWith('dpv:')) {
      const [purpose, scope] = token.slice(4).split('#', 2);
      purposes.add(purpose ?? '');
      if (scope !== undefined) scopes.add(scope);
    } else scopes.add(token);
  }
  const unknown = [...scopes].filter((s) => !KNOWN_SCOPES.has(s));
  if (unknown.length > 0) return { refused: `unknown scope ${unknown.join(', ')}` };
  if (scopes.size === 0) return { refused: 'no Device Reachability or Roaming Status scope' };
  if (purposes.size > 1) return { refused: 'exactly one dpv: purpose' };
  if (options.threeLegged && (!openid || purposes.size === 0))
    return { refused: 'openid and a dpv: purpose are required' };
  if (scopes.size > 1 && options.refuseCombined) return { refused: 'one API scope per request' };
  return { scopes };
}

/**
 * POST /oidc/bc-authorize: an authenticated client, `login_hint=tel:+<E.164>` and CAMARA scopes. A number the
 * network does not know answers 400 `unknown_user_id` (a row's answer).
 */
export const operatorAuthorizeRoute: Route = async (request, context) => {
  const { res, reply } = request;
  const params = await clientForm(request, context);
  if (params === null) return;
  const number = loginHintNumber(params);
  if (number === null)
    return reply(400, () => oauthError(res, 400, 'invalid_request', 'login_hint must be tel:+<E.164>.'));
  const parsed = parseScopes(params.get('scope') ?? '', {
    threeLegged: true,
    refuseCombined: context.dials().refuseCombinedScopes,
  });
  if ('refused' in parsed)
    return reply(400, () => oauthError(res, 400, 'invalid_scope', `Scope refused: ${parsed.refused}.`));
  const perturbed = await request.perturb();
  if (perturbed === null) return;
  const kind = context.deviceState(number).kind;
  if (kind === 'invalid-number' || kind === 'unknown-subscriber')
    return reply(400, () => oauthError(res, 400, 'unknown_user_id', 'The login_hint names no subscriber.'));
  startAuthRequest(request, context, { issuer: 'operator', number, scopes: parsed.scopes });
};

/** POST /oidc/token: `client_credentials` (a two-legged token for any number) or the CIBA grant. */
export const operatorTokenRoute: Route = async (request, context) => {
  const { res, reply } = request;
  const params = await clientForm(request, context);
  if (params === null) return;
  const grantType = params.get('grant_type');
  if (grantType === 'urn:openid:params:grant-type:ciba')
    return pollAuthRequest(request, context, params, 'operator');
  if (grantType !== 'client_credentials')
    return reply(400, () =>
      oauthError(res, 400, 'unsupported_grant_type', 'Use client_credentials or the CIBA grant.'),
    );
  const parsed = parseScopes(params.get('scope') ?? '', { threeLegged: false, refuseCombined: false });
  if ('refused' in parsed)
    return reply(400, () => oauthError(res, 400, 'invalid_scope', `Scope refused: ${parsed.refused}.`));
  const perturbed = await request.perturb();
  if (perturbed === null) return;
  issueToken(request, context, { issuer: 'operator', number: null, scopes: parsed.scopes });
};
