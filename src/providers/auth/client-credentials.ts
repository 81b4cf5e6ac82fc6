import type { BeforeRequest } from '../provider.js';
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { CamaraClientAuth } from '../../config/camara.js';
import type { Clock } from '../../core/clock.js';
import { FAILURE_CODE, RETRY_CLASS } from '../../core/errors.js';
import { httpFailure } from '../http/failure.js';
import type { HttpTransport } from '../http/transport.js';
import { oauthError, oauthText, tokenFrom, type ClientAuthentication } from './ciba.js';
import { TokenCache, type TokenOutcome } from './token-cache.js';

/** Lifetime of a `private_key_jwt` assertion, in seconds (CAMARA allows at most 300). */
const ASSERTION_TTL_S = 60;

/**
 * The client's authentication at an operator's OAuth endpoints: `client_secret_basic` (HTTP Basic with the
 * form-encoded id and secret, RFC 6749 §2.3.1) or `private_key_jwt` (a fresh signed assertion per request,
 * `aud` the token endpoint, which CIBA servers must accept at their back-channel endpoint too).
 */
export function clientAuthentication(
  client: CamaraClientAuth,
  tokenUrl: string,
  clock: Clock,
): ClientAuthentication {
  if (client.kind === 'secret') {
    const basic = Buffer.from(`${formEncode(client.clientId)}:${formEncode(client.clientSecret)}`).toString(
      'base64',
    );
    return () => Promise.resolve({ headers: { authorization: `Basic ${basic}` }, fields: {} });
  }
  return async () => {
    const iat = Math.floor(clock() / 1000);
    const assertion = await new SignJWT({})
      .setProtectedHeader({
        alg: client.algorithm,
        typ: 'JWT',
        ...(client.keyId !== undefined ? { kid: client.keyId } : {}),
      })
      .setIssuer(client.clientId)
      .setSubject(client.clientId)
      .setAudience(tokenUrl)
      .setIssuedAt(iat)
      .setExpirationTime(iat + ASSERTION_TTL_S)
      .setJti(randomUUID())
      .sign(client.privateKey);
    return {
      headers: {},
      fields: {
        client_id: client.clientId,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
      },
    };
  };
}

function formEncode(text: string): string {
  return new URLSearchParams({ v: text }).toString().slice(2);
}

export interface ClientCredentialsDeps {
  readonly tokenUrl: string;
  /** The scopes asked for, space-separated. */
  readonly scope: string;
  readonly authenticate: ClientAuthentication;
  readonly transport: HttpTransport;
  readonly clock: Clock;
}

/**
 * A two-legged token for the whole process (every number, every API): fetched once, kept until shortly before
 * it expires, shared by concurrent callers, and fetched again when an API refuses it (`drop`).
 */
export class ClientCredentialsToken {
  readonly cache: TokenCache;

  constructor(private readonly deps: ClientCredentialsDeps) {
    this.cache = new TokenCache(deps.clock);
  }

  get(beforeRequest: BeforeRequest): Promise<TokenOutcome> {
    return this.cache.get('client', () => this.fetch(beforeRequest));
  }

  drop(token: string): void {
    this.cache.drop('client', token);
  }

  private async fetch(beforeRequest: BeforeRequest): Promise<TokenOutcome> {
    const { deps } = this;
    // Signed after the place in the rate is taken, so a long wait cannot outlive the assertion; the transport
    // takes a new place should signing make the request late for this one.
    const window = await beforeRequest('token');
    const client = await deps.authenticate();
    const result = await deps.transport.post(deps.tokenUrl, {
      window,
      headers: {
        ...client.headers,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        scope: deps.scope,
        ...client.fields,
      }).toString(),
    });
    if (!result.ok) return { ok: false, failure: result.failure };
    const res = result.response;
    if (res.status === 200) return tokenFrom(res);
    const error = oauthError(res);
    const text = oauthText(res, '');
    const failure = httpFailure(res, deps.clock(), text);
    // Our client is unknown or its secret wrong: nothing will work until the configuration is fixed.
    if (res.status === 401 || error === 'invalid_client')
      return { ok: false, failure: { ...failure, code: FAILURE_CODE.auth, retry: RETRY_CLASS.fatal } };
    if (res.status !== 400 && res.status !== 403) return { ok: false, failure, oauthError: error };
    // A scope or grant this client may not have: every number would be refused the same way.
    const reason = `the operator's token endpoint refuses the client-credentials grant (HTTP ${res.status}${
      text ? ` ${text}` : ''
    }): check CAMARA_CLIENT_ID and the scopes the client may ask for`;
    return {
      ok: false,
      failure: { ...failure, retry: RETRY_CLASS.retryable, detail: reason, pause: { kind: 'setup', reason } },
      oauthError: error,
    };
  }
}
