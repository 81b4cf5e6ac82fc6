import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../core/errors.js';
import { CAMARA_DEFAULTS } from './defaults.js';
import { isHttpUrl, readBoolean, readEnv, type Env } from './env.js';
import { readHttpTimeoutMs } from './http-timeout.js';
import { decodePrivateKeyPem } from './pem-key.js';

/** How reachscan gets the right to call an operator's CAMARA APIs (CAMARA_AUTH). */
export const CAMARA_AUTH_MODES = ['client-credentials', 'ciba', 'api-key'] as const;
export type CamaraAuthMode = (typeof CAMARA_AUTH_MODES)[number];

/**
 * How scopes are written (CAMARA_SCOPE_STYLE): `standard` is the current ICM form, `openid dpv:<Purpose>
 * <scope> …`; `hash` the older one Vonage and Aduna still use, `dpv:<Purpose>#<scope>` for each scope.
 */
export const CAMARA_SCOPE_STYLES = ['standard', 'hash'] as const;
export type CamaraScopeStyle = (typeof CAMARA_SCOPE_STYLES)[number];

/** How reachscan proves who it is to the operator's token and back-channel endpoints. */
export type CamaraClientAuth =
  /** `client_secret_basic`: HTTP Basic with the client id and secret. */
  | { readonly kind: 'secret'; readonly clientId: string; readonly clientSecret: string }
  /** `private_key_jwt`: a short-lived assertion signed with the client's key, per request. */
  | {
      readonly kind: 'private-key-jwt';
      readonly clientId: string;
      readonly privateKey: KeyObject;
      /** The JWS algorithm the key signs with: RS256 (RSA), ES256/384/512 (EC), EdDSA (Ed25519). */
      readonly algorithm: string;
      /** `kid` of the assertion's header, when the operator holds several of the client's keys. */
      readonly keyId?: string;
    };

export type CamaraAuthConfig =
  | { readonly mode: 'client-credentials'; readonly tokenUrl: string; readonly client: CamaraClientAuth }
  | {
      readonly mode: 'ciba';
      readonly tokenUrl: string;
      readonly authorizeUrl: string;
      readonly client: CamaraClientAuth;
      /** One back-channel flow asks both scopes (falls back to one per scope on `invalid_scope`). */
      readonly combinedScopes: boolean;
    }
  | { readonly mode: 'api-key'; readonly apiKey: string; readonly apiKeyHeader: string };

/** Everything needed to call CAMARA Device Reachability / Roaming Status v1 at one operator or aggregator. */
export interface CamaraConfig {
  /** The operator's `apiRoot`, without a trailing slash. */
  readonly apiBaseUrl: string;
  readonly reachabilityPath: string;
  readonly roamingPath: string;
  readonly auth: CamaraAuthConfig;
  /** The data-processing purpose (`dpv:` scope) asked for with three-legged tokens. */
  readonly purpose: string;
  readonly scopeStyle: CamaraScopeStyle;
  /** Sent with every API call (gateways that want a host header of their own, …). Values may be secrets. */
  readonly extraHeaders: Readonly<Record<string, string>>;
  /** Time limit of one upstream HTTP call, in milliseconds. */
  readonly httpTimeoutMs: number;
}

/** The CAMARA_AUTH a `--simulate` run uses: the one set when it is one of ours, else client credentials. */
export function simulatedCamaraAuth(env: Env): CamaraAuthMode {
  const given = readEnv(env, 'CAMARA_AUTH')?.toLowerCase();
  return CAMARA_AUTH_MODES.find((m) => m === given) ?? 'client-credentials';
}

/** True when any CAMARA setting is set: the process is meant to call a CAMARA operator. */
export function camaraConfigured(env: Env): boolean {
  return readEnv(env, 'CAMARA_API_BASE_URL') !== undefined || readEnv(env, 'CAMARA_AUTH') !== undefined;
}

/**
 * Upstream requests one new number costs with the CAMARA_AUTH set (no check: `plan` works without
 * credentials): the two retrieve calls, plus with CIBA an authorize and a token poll for both scopes, or for
 * each scope when CAMARA_CIBA_COMBINED_SCOPES is off.
 */
export function camaraRequestsPerNumber(env: Env): number {
  if (readEnv(env, 'CAMARA_AUTH')?.toLowerCase() !== 'ciba') return 2;
  return readBoolean(env, 'CAMARA_CIBA_COMBINED_SCOPES', CAMARA_DEFAULTS.cibaCombinedScopes, []) ? 4 : 6;
}

/**
 * Reads and checks the CAMARA settings. Every problem is reported at once, one line each, naming the variable;
 * a secret (client secret, API key, key file text, header values) is never echoed.
 */
export function loadCamaraConfig(env: Env): CamaraConfig {
  const problems: string[] = [];
  const apiBaseUrl = readUrl(
    env,
    'CAMARA_API_BASE_URL',
    problems,
    "the operator's apiRoot, e.g. https://api.operator.example",
  );
  const reachabilityPath = readPath(
    env,
    'CAMARA_REACHABILITY_PATH',
    CAMARA_DEFAULTS.reachabilityPath,
    problems,
  );
  const roamingPath = readPath(env, 'CAMARA_ROAMING_PATH', CAMARA_DEFAULTS.roamingPath, problems);
  const purpose = readEnv(env, 'CAMARA_PURPOSE') ?? CAMARA_DEFAULTS.purpose;
  if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(purpose))
    problems.push(`CAMARA_PURPOSE must be a purpose name such as ${CAMARA_DEFAULTS.purpose}`);
  const scopeStyle =
    readChoice(env, 'CAMARA_SCOPE_STYLE', CAMARA_SCOPE_STYLES, problems) ?? CAMARA_DEFAULTS.scopeStyle;
  const auth = readAuth(env, problems);
  const extraHeaders = readExtraHeaders(env, problems, auth?.mode === 'api-key' ? auth.apiKeyHeader : null);
  const httpTimeoutMs = readHttpTimeoutMs(env, problems);
  if (problems.length > 0 || apiBaseUrl === undefined || auth === undefined) throw new ConfigError(problems);
  return Object.freeze({
    apiBaseUrl,
    reachabilityPath,
    roamingPath,
    auth,
    purpose,
    scopeStyle,
    extraHeaders: Object.freeze(extraHeaders),
    httpTimeoutMs,
  });
}

/** CAMARA_AUTH and the settings its mode needs. */
function readAuth(env: Env, problems: string[]): CamaraAuthConfig | undefined {
  if (readEnv(env, 'CAMARA_AUTH') === undefined) {
    problems.push(`CAMARA_AUTH is not set: ${CAMARA_AUTH_MODES.join(', ')} (how the operator lets us in)`);
    return undefined;
  }
  const mode = readChoice(env, 'CAMARA_AUTH', CAMARA_AUTH_MODES, problems);
  if (mode === undefined) return undefined;
  if (mode === 'api-key') return readApiKey(env, problems);
  const tokenUrl = readUrl(env, 'CAMARA_TOKEN_URL', problems, "the operator's OAuth token endpoint");
  const client = readClient(env, problems);
  if (mode === 'client-credentials') {
    return tokenUrl === undefined || client === undefined ? undefined : { mode, tokenUrl, client };
  }
  const authorizeUrl = readUrl(
    env,
    'CAMARA_AUTHORIZE_URL',
    problems,
    "the operator's CIBA bc-authorize endpoint",
  );
  const combinedScopes = readBoolean(
    env,
    'CAMARA_CIBA_COMBINED_SCOPES',
    CAMARA_DEFAULTS.cibaCombinedScopes,
    problems,
  );
  if (tokenUrl === undefined || client === undefined || authorizeUrl === undefined) return undefined;
  return { mode, tokenUrl, authorizeUrl, client, combinedScopes };
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function readApiKey(env: Env, problems: string[]): CamaraAuthConfig | undefined {
  const apiKey = readEnv(env, 'CAMARA_API_KEY');
  const apiKeyHeader = readEnv(env, 'CAMARA_API_KEY_HEADER') ?? CAMARA_DEFAULTS.apiKeyHeader;
  if (!HEADER_NAME.test(apiKeyHeader))
    problems.push(
      `CAMARA_API_KEY_HEADER must be an HTTP header name such as ${CAMARA_DEFAULTS.apiKeyHeader}`,
    );
  if (apiKey === undefined) problems.push('CAMARA_API_KEY is not set (CAMARA_AUTH=api-key needs the key)');
  // A header value cannot hold line breaks or control characters; the key itself is never repeated.
  else if (hasControlCharacters(apiKey))
    problems.push('CAMARA_API_KEY holds control characters or line breaks');
  return apiKey === undefined ? undefined : { mode: 'api-key', apiKey, apiKeyHeader };
}

/** CAMARA_CLIENT_ID with exactly one of CAMARA_CLIENT_SECRET or CAMARA_CLIENT_KEY_PATH. */
function readClient(env: Env, problems: string[]): CamaraClientAuth | undefined {
  const clientId = readEnv(env, 'CAMARA_CLIENT_ID');
  if (clientId === undefined) problems.push('CAMARA_CLIENT_ID is not set (the client id the operator gave)');
  const secret = readEnv(env, 'CAMARA_CLIENT_SECRET');
  const keyPath = readEnv(env, 'CAMARA_CLIENT_KEY_PATH');
  if (secret !== undefined && keyPath !== undefined) {
    problems.push('CAMARA_CLIENT_SECRET and CAMARA_CLIENT_KEY_PATH are both set: set only one');
    return undefined;
  }
  if (secret === undefined && keyPath === undefined) {
    problems.push(
      'CAMARA_CLIENT_SECRET (client_secret_basic) or CAMARA_CLIENT_KEY_PATH (private_key_jwt) must be set',
    );
    return undefined;
  }
  if (secret !== undefined)
    return clientId === undefined ? undefined : { kind: 'secret', clientId, clientSecret: secret };
  const key = readSigningKey(keyPath as string, problems);
  if (key === undefined || clientId === undefined) return undefined;
  const keyId = readEnv(env, 'CAMARA_CLIENT_KEY_ID');
  return { kind: 'private-key-jwt', clientId, ...key, ...(keyId !== undefined ? { keyId } : {}) };
}

/** The private key for `private_key_jwt` and the algorithm it signs with; never echoes the file's text. */
function readSigningKey(
  path: string,
  problems: string[],
): { privateKey: KeyObject; algorithm: string } | undefined {
  if (/-----BEGIN|\n/.test(path)) {
    problems.push(
      'CAMARA_CLIENT_KEY_PATH holds PEM text, not a path: write the key to a file and give its path',
    );
    return undefined;
  }
  const source = `CAMARA_CLIENT_KEY_PATH (${path})`;
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (error) {
    problems.push(
      `${source}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'cannot be read'}`,
    );
    return undefined;
  }
  const privateKey = decodePrivateKeyPem(pem, source, problems);
  if (privateKey === undefined) return undefined;
  const algorithm = signingAlgorithm(privateKey);
  if (algorithm === null) {
    problems.push(
      `${source} is a ${privateKey.asymmetricKeyType ?? 'unknown'} key; use RSA, EC (P-256/384/521) or Ed25519`,
    );
    return undefined;
  }
  return { privateKey, algorithm };
}

const EC_ALGORITHMS: Readonly<Record<string, string>> = {
  prime256v1: 'ES256',
  secp384r1: 'ES384',
  secp521r1: 'ES512',
};

function signingAlgorithm(key: KeyObject): string | null {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return 'RS256';
    case 'ec':
      return EC_ALGORITHMS[key.asymmetricKeyDetails?.namedCurve ?? ''] ?? null;
    case 'ed25519':
      return 'EdDSA';
    default:
      return null;
  }
}

/** Headers reachscan sets itself: an extra header may not replace them. */
const OWN_HEADERS = new Set([
  'authorization',
  'content-type',
  'content-length',
  'accept',
  'host',
  'x-correlator',
]);

/** CAMARA_EXTRA_HEADERS: a JSON object of header names to text. Only names are ever echoed, never values. */
function readExtraHeaders(env: Env, problems: string[], apiKeyHeader: string | null): Record<string, string> {
  const text = readEnv(env, 'CAMARA_EXTRA_HEADERS');
  if (text === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    problems.push(
      'CAMARA_EXTRA_HEADERS must be a JSON object of header names to text, e.g. {"X-Host":"api.example"}',
    );
    return {};
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
    const lower = name.toLowerCase();
    if (!HEADER_NAME.test(name))
      problems.push(`CAMARA_EXTRA_HEADERS: "${name.slice(0, 40)}" is not an HTTP header name`);
    else if (OWN_HEADERS.has(lower) || lower === apiKeyHeader?.toLowerCase())
      problems.push(`CAMARA_EXTRA_HEADERS: ${name} is set by reachscan itself and cannot be given here`);
    else if (typeof value !== 'string' || hasControlCharacters(value))
      problems.push(`CAMARA_EXTRA_HEADERS: the value of ${name} must be text without line breaks`);
    else headers[lower] = value;
  }
  return headers;
}

function readUrl(env: Env, name: string, problems: string[], what: string): string | undefined {
  const raw = readEnv(env, name);
  if (raw === undefined) {
    problems.push(`${name} is not set (${what})`);
    return undefined;
  }
  const url = raw.replace(/\/+$/, '');
  if (!isHttpUrl(url)) {
    // A URL may carry credentials (user:password@): only its shape is named, not the value.
    problems.push(`${name} must be an http(s) URL (${what})`);
    return undefined;
  }
  return url;
}

function readPath(env: Env, name: string, fallback: string, problems: string[]): string {
  const path = readEnv(env, name) ?? fallback;
  if (!path.startsWith('/')) problems.push(`${name} must start with "/" (e.g. ${fallback})`);
  return path;
}

function readChoice<T extends string>(
  env: Env,
  name: string,
  choices: readonly T[],
  problems: string[],
): T | undefined {
  const text = readEnv(env, name);
  if (text === undefined) return undefined;
  const choice = choices.find((c) => c === text.toLowerCase());
  if (choice === undefined)
    problems.push(`${name} must be ${choices.join(', ')} (got "${text.slice(0, 40)}")`);
  return choice;
}

/** Control characters (line breaks among them) cannot travel in a header value. */
function hasControlCharacters(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}
