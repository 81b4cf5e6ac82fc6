import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../core/errors.js';
import { VONAGE_DEFAULTS } from './defaults.js';
import { isHttpUrl, readBoolean, readEnv, type Env } from './env.js';
import { readHttpTimeoutMs } from './http-timeout.js';
import { decodePrivateKeyPem } from './pem-key.js';

/** Everything needed to call Vonage's network APIs. The key is a KeyObject: it never exists as text here. */
export interface VonageConfig {
  readonly applicationId: string;
  readonly privateKey: KeyObject;
  /** Without a trailing slash, e.g. `https://api-eu.vonage.com`. */
  readonly apiBaseUrl: string;
  /** Purpose sent with network insights; must be attached to the Vonage application. */
  readonly purpose: string;
  /** Identity Insights path; older guides use `/v0.1/identity-insights`. */
  readonly identityInsightsPath: string;
  /** Device Status base path (CAMARA v0.5.0 as Vonage exposes it). */
  readonly deviceStatusPath: string;
  /**
   * Device Status asks one back-channel token for both scopes instead of one per scope; falls back to one per
   * scope when the network answers `invalid_scope`. Off unless VONAGE_DEVICE_STATUS_COMBINED_SCOPES says so.
   */
  readonly deviceStatusCombinedScopes?: boolean;
  /** Time limit of one upstream HTTP call, in milliseconds. */
  readonly httpTimeoutMs: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Reads and validates the Vonage settings from the environment. Every problem is reported at once, one line
 * each, naming the variable; key material is never echoed.
 */
export function loadVonageConfig(env: Env): VonageConfig {
  const problems: string[] = [];

  const applicationId = readEnv(env, 'VONAGE_APPLICATION_ID');
  if (applicationId === undefined)
    problems.push('VONAGE_APPLICATION_ID is not set (the Vonage application UUID)');
  else if (!UUID.test(applicationId))
    problems.push(`VONAGE_APPLICATION_ID must be a UUID such as 4a1b2c3d-0000-4000-8000-000000000000`);

  const privateKey = loadPrivateKey(env, problems);

  const rawBase = readEnv(env, 'VONAGE_API_BASE_URL') ?? VONAGE_DEFAULTS.apiBaseUrl;
  const apiBaseUrl = rawBase.replace(/\/+$/, '');
  if (!isHttpUrl(apiBaseUrl))
    problems.push(`VONAGE_API_BASE_URL must be an http(s) URL such as ${VONAGE_DEFAULTS.apiBaseUrl}`);

  const purpose = readEnv(env, 'VONAGE_PURPOSE') ?? VONAGE_DEFAULTS.purpose;
  if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(purpose))
    problems.push(`VONAGE_PURPOSE must be a purpose name such as ${VONAGE_DEFAULTS.purpose}`);

  const identityInsightsPath =
    readEnv(env, 'VONAGE_IDENTITY_INSIGHTS_PATH') ?? VONAGE_DEFAULTS.identityInsightsPath;
  if (!identityInsightsPath.startsWith('/'))
    problems.push('VONAGE_IDENTITY_INSIGHTS_PATH must start with "/"');

  const deviceStatusPath = (
    readEnv(env, 'VONAGE_DEVICE_STATUS_PATH') ?? VONAGE_DEFAULTS.deviceStatusPath
  ).replace(/\/+$/, '');
  if (!deviceStatusPath.startsWith('/')) problems.push('VONAGE_DEVICE_STATUS_PATH must start with "/"');

  const httpTimeoutMs = readHttpTimeoutMs(env, problems);

  const deviceStatusCombinedScopes = readBoolean(
    env,
    'VONAGE_DEVICE_STATUS_COMBINED_SCOPES',
    VONAGE_DEFAULTS.deviceStatusCombinedScopes,
    problems,
  );

  if (problems.length > 0 || applicationId === undefined || privateKey === undefined) {
    throw new ConfigError(problems);
  }
  return Object.freeze({
    applicationId,
    privateKey,
    apiBaseUrl,
    purpose,
    identityInsightsPath,
    deviceStatusPath,
    deviceStatusCombinedScopes,
    httpTimeoutMs,
  });
}

function loadPrivateKey(env: Env, problems: string[]): KeyObject | undefined {
  const inline = readEnv(env, 'VONAGE_PRIVATE_KEY');
  const path = readEnv(env, 'VONAGE_PRIVATE_KEY_PATH');
  if (inline !== undefined && path !== undefined) {
    problems.push('VONAGE_PRIVATE_KEY and VONAGE_PRIVATE_KEY_PATH are both set: set only one');
    return undefined;
  }
  if (inline === undefined && path === undefined) {
    problems.push('VONAGE_PRIVATE_KEY (PEM text) or VONAGE_PRIVATE_KEY_PATH (a .key file) must be set');
    return undefined;
  }
  let pem: string;
  let source: string;
  if (inline !== undefined) {
    // .env files and CI secrets often carry the PEM on one line with literal "\n".
    pem = inline.includes('\\n') ? inline.replace(/\\n/g, '\n') : inline;
    source = 'VONAGE_PRIVATE_KEY';
  } else {
    // The path is echoed in messages, so it must not be key material pasted into the wrong variable.
    if (/-----BEGIN|\n/.test(path as string)) {
      problems.push(
        'VONAGE_PRIVATE_KEY_PATH holds PEM text, not a path: put the key in VONAGE_PRIVATE_KEY instead',
      );
      return undefined;
    }
    source = `VONAGE_PRIVATE_KEY_PATH (${path})`;
    try {
      pem = readFileSync(path as string, 'utf8');
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'cannot be read';
      problems.push(`${source}: ${reason}`);
      return undefined;
    }
  }
  return parsePrivateKey(pem, source, problems);
}

/** True when any Vonage credential is set: the process is meant to call Vonage. */
export function vonageConfigured(env: Env): boolean {
  return ['VONAGE_APPLICATION_ID', 'VONAGE_PRIVATE_KEY', 'VONAGE_PRIVATE_KEY_PATH'].some(
    (name) => readEnv(env, name) !== undefined,
  );
}

/** Never includes the key text in a problem: a half-pasted key is still a secret. */
export function parsePrivateKey(pem: string, source: string, problems: string[]): KeyObject | undefined {
  if (/-----BEGIN [A-Z ]*PUBLIC KEY-----/.test(pem)) {
    problems.push(`${source} holds a public key; the application's private key is needed`);
    return undefined;
  }
  const key = decodePrivateKeyPem(pem, source, problems);
  if (key === undefined) return undefined;
  if (key.asymmetricKeyType !== 'rsa') {
    problems.push(
      `${source} is a ${key.asymmetricKeyType ?? 'non-RSA'} key; Vonage application keys are RSA (RS256)`,
    );
    return undefined;
  }
  return key;
}
