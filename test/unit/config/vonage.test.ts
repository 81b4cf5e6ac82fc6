import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadVonageConfig } from '../../../src/config/vonage.js';
import { ConfigError } from '../../../src/core/errors.js';

const rsa = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
const APP_ID = '3f1c2a4b-5d6e-4f70-8a9b-0c1d2e3f4a5b';

function problems(env: Record<string, string | undefined>): string[] {
  try {
    loadVonageConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).problems];
  }
  throw new Error('expected a ConfigError');
}

describe('loadVonageConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadVonageConfig({ VONAGE_APPLICATION_ID: APP_ID, VONAGE_PRIVATE_KEY: rsa.privateKey });
    expect(config).toMatchObject({
      applicationId: APP_ID,
      apiBaseUrl: 'https://api-eu.vonage.com',
      purpose: 'FraudPreventionAndDetection',
      identityInsightsPath: '/identity-insights/v1/requests',
      httpTimeoutMs: 10_000,
    });
    expect(config.privateKey.asymmetricKeyType).toBe('rsa');
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads the key from a file, and a one-line PEM with literal \\n', () => {
    const dir = mkdtempSync(join(tmpdir(), 'reachscan-test-'));
    const path = join(dir, 'private.key');
    writeFileSync(path, rsa.privateKey);
    expect(
      loadVonageConfig({ VONAGE_APPLICATION_ID: APP_ID, VONAGE_PRIVATE_KEY_PATH: path }).applicationId,
    ).toBe(APP_ID);
    const oneLine = rsa.privateKey.trim().replace(/\n/g, '\\n');
    const config = loadVonageConfig({
      VONAGE_APPLICATION_ID: APP_ID,
      VONAGE_PRIVATE_KEY: oneLine,
      VONAGE_API_BASE_URL: 'http://127.0.0.1:4010/',
    });
    expect(config.apiBaseUrl).toBe('http://127.0.0.1:4010');
  });

  it('lists every missing setting at once', () => {
    expect(problems({})).toEqual([
      'VONAGE_APPLICATION_ID is not set (the Vonage application UUID)',
      'VONAGE_PRIVATE_KEY (PEM text) or VONAGE_PRIVATE_KEY_PATH (a .key file) must be set',
    ]);
  });

  it('names each invalid setting', () => {
    const found = problems({
      VONAGE_APPLICATION_ID: 'not-a-uuid',
      VONAGE_PRIVATE_KEY: rsa.privateKey,
      VONAGE_API_BASE_URL: 'ftp://example.com',
      VONAGE_PURPOSE: 'fraud prevention',
      VONAGE_IDENTITY_INSIGHTS_PATH: 'identity-insights',
      REACHSCAN_HTTP_TIMEOUT_MS: '10s',
    });
    expect(found.map((p) => p.split(' ')[0])).toEqual([
      'VONAGE_APPLICATION_ID',
      'VONAGE_API_BASE_URL',
      'VONAGE_PURPOSE',
      'VONAGE_IDENTITY_INSIGHTS_PATH',
      'REACHSCAN_HTTP_TIMEOUT_MS',
    ]);
  });

  it('says what is wrong with a key without ever printing it', () => {
    const body = rsa.privateKey.split('\n')[1] ?? '';
    const broken = rsa.privateKey.replace(body, body.slice(0, 20) + '!!!' + body.slice(23));
    const cases: [string | undefined, string | undefined, RegExp][] = [
      [broken, undefined, /malformed PEM private key/],
      [rsa.publicKey, undefined, /holds a public key/],
      ['just some text ' + body, undefined, /not a PEM private key/],
      [rsa.privateKey, '/tmp/elsewhere.key', /both set/],
      [
        undefined,
        '/nonexistent/private.key',
        /VONAGE_PRIVATE_KEY_PATH \(\/nonexistent\/private.key\): no such file/,
      ],
      [undefined, rsa.privateKey, /VONAGE_PRIVATE_KEY_PATH holds PEM text, not a path/],
    ];
    for (const [inline, path, expected] of cases) {
      const found = problems({
        VONAGE_APPLICATION_ID: APP_ID,
        VONAGE_PRIVATE_KEY: inline,
        VONAGE_PRIVATE_KEY_PATH: path,
      });
      expect(found.join('\n')).toMatch(expected);
      expect(found.join('\n')).not.toContain(body.slice(0, 16));
    }
  });

  it('refuses keys that are not RSA', () => {
    const ec = generateKeyPairSync('ec', {
      namedCurve: 'P-256',
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    expect(problems({ VONAGE_APPLICATION_ID: APP_ID, VONAGE_PRIVATE_KEY: ec.privateKey }).join()).toMatch(
      /is a ec key; Vonage application keys are RSA/,
    );
  });
});
