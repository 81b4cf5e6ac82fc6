import { createPrivateKey } from 'node:crypto';
import { Writable } from 'node:stream';
import type { VonageConfig } from '../../src/config/vonage.js';
import { VONAGE_DEFAULTS } from '../../src/config/defaults.js';
import { createLogger, type Logger } from '../../src/logging/logger.js';
import { createProvider } from '../../src/providers/create-provider.js';
import type { ReachabilityProvider } from '../../src/providers/provider.js';
import type { ProviderName } from '../../src/core/lookup-result.js';
import {
  createThrowawayApplication,
  startSimulator,
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
  /** Configuration pointing at the simulator, as loadVonageConfig would build it. */
  config(overrides?: Partial<VonageConfig>): VonageConfig;
  close(): Promise<void>;
}

export async function startTestSimulator(
  options: Partial<Omit<SimulatorOptions, 'applications'>> = {},
): Promise<TestSimulator> {
  const app = testApplication();
  const sim = await startSimulator({
    ...options,
    applications: [{ applicationId: app.applicationId, publicKey: app.publicKeyPem }],
  });
  return {
    sim,
    app,
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
