import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCamaraConfig, type CamaraConfig } from '../../src/config/camara.js';
import type { Env } from '../../src/config/env.js';
import { Writable } from 'node:stream';
import type { VonageConfig } from '../../src/config/vonage.js';
import { VONAGE_DEFAULTS } from '../../src/config/defaults.js';
import { createLogger, type Logger } from '../../src/logging/logger.js';
import { createProvider } from '../../src/providers/create-provider.js';
import type { ReachabilityProvider } from '../../src/providers/provider.js';
import type { ProviderName } from '../../src/core/lookup-result.js';
import {
  createThrowawayApplication,
  operatorCredentials,
  startSimulator,
  type OperatorCredentials,
  type Simulator,
  type SimulatorOptions,
  type ThrowawayApplication,
} from '../../src/simulator/index.js';

let shared: ThrowawayApplication | undefined;

/** One RSA key pair per test file: generating one costs tens of milliseconds. */
export function testApplication(): ThrowawayApplication {
  shared ??= createThrowawayApplication();
  return shared;
}

export interface TestSimulator {
  readonly sim: Simulator;
  readonly app: ThrowawayApplication;
  /** The simulated CAMARA operator's client (client_secret_basic) and API key. */
  readonly operator: OperatorCredentials;
  /** A second client of the operator, for private_key_jwt: its id and the path of its private key (EC P-256). */
  readonly jwtClient: { readonly clientId: string; readonly keyPath: string };
  /** Configuration pointing at the simulator, as loadVonageConfig would build it. */
  config(overrides?: Partial<VonageConfig>): VonageConfig;
  /** The CAMARA_* environment pointing at the simulator for an auth mode, with `extra` on top. */
  camaraEnv(auth: 'client-credentials' | 'ciba' | 'api-key', extra?: Env): Env;
  /** loadCamaraConfig of that environment. */
  camaraConfig(auth: 'client-credentials' | 'ciba' | 'api-key', extra?: Env): CamaraConfig;
  close(): Promise<void>;
}

let jwtKey: { privatePem: string; publicPem: string } | undefined;

/** One EC key pair per test file for the private_key_jwt client, written to a private temporary file. */
function jwtClientKey(): { keyPath: string; publicPem: string } {
  jwtKey ??= (() => {
    const pair = generateKeyPairSync('ec', {
      namedCurve: 'P-256',
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    return { privatePem: pair.privateKey, publicPem: pair.publicKey };
  })();
  const keyPath = join(mkdtempSync(join(tmpdir(), 'reachscan-client-key-')), 'client.key');
  writeFileSync(keyPath, jwtKey.privatePem, { mode: 0o600 });
  return { keyPath, publicPem: jwtKey.publicPem };
}

export async function startTestSimulator(
  options: Partial<Omit<SimulatorOptions, 'applications'>> = {},
): Promise<TestSimulator> {
  const app = testApplication();
  const operator = operatorCredentials(app.privateKeyPem);
  const key = jwtClientKey();
  const jwtClient = { clientId: 'reachscan-jwt-client', keyPath: key.keyPath };
  const sim = await startSimulator({
    ...options,
    applications: [{ applicationId: app.applicationId, publicKey: app.publicKeyPem }],
    operatorClients: [
      { clientId: operator.clientId, clientSecret: operator.clientSecret },
      { clientId: jwtClient.clientId, publicKey: key.publicPem },
    ],
    apiKeys: [operator.apiKey],
  });
  const camaraEnv = (auth: 'client-credentials' | 'ciba' | 'api-key', extra: Env = {}): Env => ({
    CAMARA_API_BASE_URL: sim.url,
    CAMARA_AUTH: auth,
    CAMARA_TOKEN_URL: `${sim.url}/oidc/token`,
    CAMARA_AUTHORIZE_URL: `${sim.url}/oidc/bc-authorize`,
    CAMARA_CLIENT_ID: operator.clientId,
    CAMARA_CLIENT_SECRET: operator.clientSecret,
    CAMARA_API_KEY: operator.apiKey,
    REACHSCAN_HTTP_TIMEOUT_MS: '5000',
    ...extra,
  });
  return {
    sim,
    app,
    operator,
    jwtClient,
    camaraEnv,
    camaraConfig: (auth, extra) => loadCamaraConfig(camaraEnv(auth, extra)),
    config: (overrides = {}) => ({
      applicationId: app.applicationId,
      privateKey: createPrivateKey(app.privateKeyPem),
      apiBaseUrl: sim.url,
      purpose: VONAGE_DEFAULTS.purpose,
      identityInsightsPath: VONAGE_DEFAULTS.identityInsightsPath,
      deviceStatusPath: VONAGE_DEFAULTS.deviceStatusPath,
      httpTimeoutMs: 5_000,
      ...overrides,
    }),
    close: () => sim.close(),
  };
}

/** A debug-level logger whose every line is kept, to search for things that must never be logged. */
export function capturingLogger(): { logger: Logger; lines: () => string } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger({ level: 'trace', destination });
  return { logger, lines: () => chunks.join('') };
}

export function providerFor(
  t: TestSimulator,
  logger: Logger,
  overrides: Partial<VonageConfig> = {},
  name: Exclude<ProviderName, 'camara'> = 'identity-insights',
): ReachabilityProvider {
  return createProvider(t.config(overrides), { logger }, name);
}
