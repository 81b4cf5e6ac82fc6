import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { camaraRequestsPerNumber, loadCamaraConfig } from '../../../src/config/camara.js';
import { ConfigError } from '../../../src/core/errors.js';
import { configuredProviders } from '../../../src/providers/registry.js';

const BASE = { CAMARA_API_BASE_URL: 'https://api.operator.example/' };
const CLIENT = {
  CAMARA_TOKEN_URL: 'https://auth.operator.example/token',
  CAMARA_CLIENT_ID: 'client-1',
  CAMARA_CLIENT_SECRET: 's3cr3t-value-never-echoed',
};

function problems(env: Record<string, string | undefined>): string[] {
  try {
    loadCamaraConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).problems];
  }
  throw new Error('expected a ConfigError');
}

function keyFile(type: 'ec' | 'rsa' | 'dsa'): string {
  const pair =
    type === 'ec'
      ? generateKeyPairSync('ec', {
          namedCurve: 'P-256',
          privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
          publicKeyEncoding: { type: 'spki', format: 'pem' },
        })
      : type === 'rsa'
        ? generateKeyPairSync('rsa', {
            modulusLength: 2048,
            privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
            publicKeyEncoding: { type: 'spki', format: 'pem' },
          })
        : generateKeyPairSync('dsa', {
            modulusLength: 2048,
            divisorLength: 224,
            privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
            publicKeyEncoding: { type: 'spki', format: 'pem' },
          });
  const path = join(mkdtempSync(join(tmpdir(), 'camara-key-')), 'client.key');
  writeFileSync(path, pair.privateKey);
  return path;
}

describe('loadCamaraConfig', () => {
  it('client-credentials with the documented defaults', () => {
    const config = loadCamaraConfig({ ...BASE, ...CLIENT, CAMARA_AUTH: 'client-credentials' });
    expect(config).toMatchObject({
      apiBaseUrl: 'https://api.operator.example',
      reachabilityPath: '/device-reachability-status/v1/retrieve',
      roamingPath: '/device-roaming-status/v1/retrieve',
      purpose: 'FraudPreventionAndDetection',
      scopeStyle: 'standard',
      extraHeaders: {},
      httpTimeoutMs: 10_000,
      auth: {
        mode: 'client-credentials',
        tokenUrl: CLIENT.CAMARA_TOKEN_URL,
        client: { kind: 'secret', clientId: 'client-1' },
      },
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('ciba: needs the authorize URL; combined scopes by default, off when asked', () => {
    expect(problems({ ...BASE, ...CLIENT, CAMARA_AUTH: 'ciba' })).toEqual([
      "CAMARA_AUTHORIZE_URL is not set (the operator's CIBA bc-authorize endpoint)",
    ]);
    const env = {
      ...BASE,
      ...CLIENT,
      CAMARA_AUTH: 'CIBA',
      CAMARA_AUTHORIZE_URL: 'https://auth.operator.example/bc',
    };
    expect(loadCamaraConfig(env).auth).toMatchObject({ mode: 'ciba', combinedScopes: true });
    expect(loadCamaraConfig({ ...env, CAMARA_CIBA_COMBINED_SCOPES: 'false' }).auth).toMatchObject({
      combinedScopes: false,
    });
    expect(problems({ ...env, CAMARA_CIBA_COMBINED_SCOPES: 'maybe' })).toEqual([
      'CAMARA_CIBA_COMBINED_SCOPES must be true or false (got "maybe")',
    ]);
  });

  it('private_key_jwt: the algorithm from the key; a key of another kind, a PEM pasted as a path, both or neither are refused', () => {
    const ec = loadCamaraConfig({
      ...BASE,
      ...CLIENT,
      CAMARA_CLIENT_SECRET: undefined,
      CAMARA_CLIENT_KEY_PATH: keyFile('ec'),
      CAMARA_CLIENT_KEY_ID: 'k1',
      CAMARA_AUTH: 'client-credentials',
    });
    expect(ec.auth).toMatchObject({ client: { kind: 'private-key-jwt', algorithm: 'ES256', keyId: 'k1' } });
    const rsa = loadCamaraConfig({
      ...BASE,
      ...CLIENT,
      CAMARA_CLIENT_SECRET: undefined,
      CAMARA_CLIENT_KEY_PATH: keyFile('rsa'),
      CAMARA_AUTH: 'client-credentials',
    });
    expect(rsa.auth).toMatchObject({ client: { algorithm: 'RS256' } });
    expect(
      problems({
        ...BASE,
        ...CLIENT,
        CAMARA_CLIENT_SECRET: undefined,
        CAMARA_CLIENT_KEY_PATH: keyFile('dsa'),
        CAMARA_AUTH: 'client-credentials',
      })[0],
    ).toMatch(/is a dsa key; use RSA, EC/);
    const pasted = problems({
      ...BASE,
      ...CLIENT,
      CAMARA_CLIENT_SECRET: undefined,
      CAMARA_CLIENT_KEY_PATH: '-----BEGIN PRIVATE KEY-----\nMIIabc',
      CAMARA_AUTH: 'client-credentials',
    });
    expect(pasted).toEqual([
      'CAMARA_CLIENT_KEY_PATH holds PEM text, not a path: write the key to a file and give its path',
    ]);
    expect(
      problems({
        ...BASE,
        ...CLIENT,
        CAMARA_CLIENT_KEY_PATH: '/x',
        CAMARA_AUTH: 'ciba',
        CAMARA_AUTHORIZE_URL: 'https://a.example',
      }),
    ).toEqual(['CAMARA_CLIENT_SECRET and CAMARA_CLIENT_KEY_PATH are both set: set only one']);
    expect(
      problems({ ...BASE, ...CLIENT, CAMARA_CLIENT_SECRET: undefined, CAMARA_AUTH: 'client-credentials' })[0],
    ).toMatch(/must be set/);
  });

  it('api-key: key required, header default x-api-key, extra headers as a JSON object', () => {
    const config = loadCamaraConfig({
      ...BASE,
      CAMARA_AUTH: 'api-key',
      CAMARA_API_KEY: 'k-123',
      CAMARA_EXTRA_HEADERS: '{"X-RapidAPI-Host":"h.example"}',
    });
    expect(config.auth).toEqual({ mode: 'api-key', apiKey: 'k-123', apiKeyHeader: 'x-api-key' });
    expect(config.extraHeaders).toEqual({ 'x-rapidapi-host': 'h.example' });
    expect(problems({ ...BASE, CAMARA_AUTH: 'api-key' })).toEqual([
      'CAMARA_API_KEY is not set (CAMARA_AUTH=api-key needs the key)',
    ]);
  });

  it('every problem at once, one line each, and never a secret', () => {
    const secret = 'very-secret-value-123';
    const lines = problems({
      CAMARA_API_BASE_URL: `ftp://user:${secret}@x`,
      CAMARA_AUTH: 'api-key',
      CAMARA_API_KEY: `${secret}\nX`,
      CAMARA_API_KEY_HEADER: 'bad header',
      CAMARA_EXTRA_HEADERS: `{"Authorization":"Bearer ${secret}","X-Ok":"${secret}\\r\\n","bad name":"1"}`,
      CAMARA_REACHABILITY_PATH: 'no-slash',
      CAMARA_SCOPE_STYLE: 'fancy',
      CAMARA_PURPOSE: 'not a purpose',
    });
    expect(lines).toHaveLength(9);
    for (const line of lines) expect(line).not.toContain(secret);
    expect(
      problems({
        ...BASE,
        CAMARA_AUTH: 'api-key',
        CAMARA_API_KEY: 'k',
        CAMARA_EXTRA_HEADERS: `not json ${secret}`,
      }),
    ).toEqual([
      'CAMARA_EXTRA_HEADERS must be a JSON object of header names to text, e.g. {"X-Host":"api.example"}',
    ]);
  });

  it('names the missing basics', () => {
    expect(problems({})).toEqual([
      "CAMARA_API_BASE_URL is not set (the operator's apiRoot, e.g. https://api.operator.example)",
      'CAMARA_AUTH is not set: client-credentials, ciba, api-key (how the operator lets us in)',
    ]);
    expect(problems({ ...BASE, CAMARA_AUTH: 'password' })).toEqual([
      'CAMARA_AUTH must be client-credentials, ciba, api-key (got "password")',
    ]);
  });
});

describe('which carriers a process is set up for', () => {
  it('Vonage unless only CAMARA is configured; both when both are', () => {
    expect(configuredProviders({})).toEqual(['identity-insights']);
    expect(configuredProviders({ CAMARA_AUTH: 'api-key' })).toEqual(['camara']);
    expect(configuredProviders({ CAMARA_API_BASE_URL: 'https://x', VONAGE_APPLICATION_ID: 'a' })).toEqual([
      'identity-insights',
      'camara',
    ]);
  });

  it('requests a new number costs per auth mode', () => {
    expect(camaraRequestsPerNumber({ CAMARA_AUTH: 'client-credentials' })).toBe(2);
    expect(camaraRequestsPerNumber({ CAMARA_AUTH: 'api-key' })).toBe(2);
    expect(camaraRequestsPerNumber({ CAMARA_AUTH: 'ciba' })).toBe(4);
    expect(camaraRequestsPerNumber({ CAMARA_AUTH: 'ciba', CAMARA_CIBA_COMBINED_SCOPES: 'no' })).toBe(6);
  });
});
