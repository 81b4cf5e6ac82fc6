import type { BeforeRequest } from '../provider.js';
import type { CamaraAuthConfig, CamaraScopeStyle } from '../../config/camara.js';
import type { Clock } from '../../core/clock.js';
import type { E164 } from '../../core/e164.js';
import type { Logger } from '../../logging/logger.js';
import { cibaToken, CibaTokens, type CibaScopes } from '../auth/ciba.js';
import { clientAuthentication, ClientCredentialsToken } from '../auth/client-credentials.js';
import type { TokenCache, TokenOutcome } from '../auth/token-cache.js';
import type { HttpTransport } from '../http/transport.js';

/** The two CAMARA APIs a lookup calls. */
export type CamaraApi = 'reachability' | 'roaming';

export const API_SCOPES: Readonly<Record<CamaraApi, string>> = {
  reachability: 'device-reachability-status:read',
  roaming: 'device-roaming-status:read',
};

/**
 * The scopes of a three-legged (CIBA) flow, in the operator's style: `standard` puts the purpose once and the
 * scopes after it (`openid dpv:<Purpose> s1 s2`), `hash` joins each scope to the purpose
 * (`openid dpv:<Purpose>#s1 dpv:<Purpose>#s2`). `openid` leads both: CIBA is an OpenID Connect flow.
 */
export function cibaScopes(style: CamaraScopeStyle, purpose: string): CibaScopes<CamaraApi> {
  const list = (apis: readonly CamaraApi[]) =>
    style === 'standard'
      ? `openid dpv:${purpose} ${apis.map((a) => API_SCOPES[a]).join(' ')}`
      : `openid ${apis.map((a) => `dpv:${purpose}#${API_SCOPES[a]}`).join(' ')}`;
  return {
    combined: list(['reachability', 'roaming']),
    each: { reachability: list(['reachability']), roaming: list(['roaming']) },
  };
}

/** What authorises one API call: headers to send, and what to forget if the API refuses them. */
export interface Grant {
  readonly headers: Readonly<Record<string, string>>;
  /** The token and its cache key, for `refused`; absent for an API key (nothing to fetch again). */
  readonly token?: { readonly value: string; readonly key: string };
}

/** A refusal to authorise: the number's answer or a failure (from the token exchange). */
export type AccessRefusal = Exclude<TokenOutcome, { readonly ok: true }>;

/** One of the three ways in, behind one face. */
export interface CamaraAccess {
  /** Two-legged tokens and API keys name the device in the body; a three-legged token names it already. */
  readonly deviceInBody: boolean;
  authorize(number: E164, api: CamaraApi, before: BeforeRequest): Promise<Grant | AccessRefusal>;
  /** The API answered 401 to this grant: forget its token. False when there is nothing to fetch again. */
  refused(grant: Grant): boolean;
  /** Token exchanges made so far (tests and counters). */
  readonly tokens: TokenCache | null;
}

export interface AccessDeps {
  readonly auth: CamaraAuthConfig;
  readonly scopeStyle: CamaraScopeStyle;
  readonly purpose: string;
  readonly transport: HttpTransport;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly wait?: (ms: number) => Promise<void>;
}

/** The access the configuration asks for. */
export function createCamaraAccess(deps: AccessDeps): CamaraAccess {
  const { auth } = deps;
  switch (auth.mode) {
    case 'api-key':
      return {
        deviceInBody: true,
        authorize: () => Promise.resolve({ headers: { [auth.apiKeyHeader.toLowerCase()]: auth.apiKey } }),
        refused: () => false,
        tokens: null,
      };
    case 'client-credentials':
      return clientCredentialsAccess(deps, auth);
    case 'ciba':
      return cibaAccess(deps, auth);
  }
}

/** One two-legged token for every number and both APIs (a purpose applies to user consent only). */
function clientCredentialsAccess(
  deps: AccessDeps,
  auth: Extract<CamaraAuthConfig, { mode: 'client-credentials' }>,
): CamaraAccess {
  const token = new ClientCredentialsToken({
    tokenUrl: auth.tokenUrl,
    scope: `${API_SCOPES.reachability} ${API_SCOPES.roaming}`,
    authenticate: clientAuthentication(auth.client, auth.tokenUrl, deps.clock),
    transport: deps.transport,
    clock: deps.clock,
  });
  return {
    deviceInBody: true,
    async authorize(_number, _api, before) {
      const outcome = await token.get(before);
      if (!outcome.ok) return outcome;
      return { headers: bearer(outcome.token), token: { value: outcome.token, key: 'client' } };
    },
    refused(grant) {
      if (grant.token !== undefined) token.drop(grant.token.value);
      return grant.token !== undefined;
    },
    tokens: token.cache,
  };
}

/** Per-number three-legged tokens from CIBA: one flow for both scopes unless the operator refuses that. */
function cibaAccess(deps: AccessDeps, auth: Extract<CamaraAuthConfig, { mode: 'ciba' }>): CamaraAccess {
  const flow = {
    authorizeUrl: auth.authorizeUrl,
    tokenUrl: auth.tokenUrl,
    authenticate: clientAuthentication(auth.client, auth.tokenUrl, deps.clock),
    transport: deps.transport,
    clock: deps.clock,
    ...(deps.wait !== undefined ? { wait: deps.wait } : {}),
  };
  const tokens = new CibaTokens<CamaraApi>(
    (number, scope, before) => cibaToken(flow, number, scope, before),
    cibaScopes(deps.scopeStyle, deps.purpose),
    { combined: auth.combinedScopes, clock: deps.clock, logger: deps.logger },
  );
  return {
    deviceInBody: false,
    async authorize(number, api, before) {
      const { outcome, key } = await tokens.get(number, api, before);
      if (!outcome.ok) return setupRefusal(outcome);
      return { headers: bearer(outcome.token), token: { value: outcome.token, key } };
    },
    refused(grant) {
      if (grant.token !== undefined) tokens.drop(grant.token.key, grant.token.value);
      return grant.token !== undefined;
    },
    tokens: tokens.cache,
  };
}

/** OAuth errors that refuse the client or its scopes, not the number: every number would get them. */
const SETUP_ERRORS = new Set(['invalid_scope', 'unauthorized_client', 'invalid_client']);

/**
 * A back-channel refusal of the client or its scopes (after the combined-scope fallback, so even one scope is
 * refused) pauses the batch like any setup failure; 401 `invalid_client` stays fatal.
 */
function setupRefusal(outcome: AccessRefusal): AccessRefusal {
  if (!('failure' in outcome) || outcome.failure.retry === 'fatal') return outcome;
  const error = outcome.oauthError ?? '';
  if (!SETUP_ERRORS.has(error)) return outcome;
  const reason = `the operator's back-channel endpoint refuses the client or its scopes (${outcome.failure.detail}): check CAMARA_CLIENT_ID, CAMARA_PURPOSE and CAMARA_SCOPE_STYLE`;
  return {
    ...outcome,
    failure: { ...outcome.failure, retry: 'retryable', detail: reason, pause: { kind: 'setup', reason } },
  };
}

function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}
