import type { Env } from '../../config/env.js';
import { simulatorSeed } from '../../config/settings.js';
import type { Clock } from '../../core/clock.js';

export interface BuiltInSimulator {
  /** The caller's environment with the Vonage settings pointed at the simulator. */
  readonly env: Env;
  readonly url: string;
  close(): Promise<void>;
}

/**
 * `--simulate`: a simulator in this process with a throwaway application key, so the whole tool can be tried
 * without credentials. The key lives only in memory; the rest of the program sees ordinary configuration.
 */
export async function startBuiltInSimulator(env: Env, clock?: Clock): Promise<BuiltInSimulator> {
  // Loaded on demand: production paths never load the simulator.
  const { startSimulator, createThrowawayApplication } = await import('../../simulator/index.js');
  const app = createThrowawayApplication();
  const seed = simulatorSeed(env);
  const sim = await startSimulator({
    applications: [{ applicationId: app.applicationId, publicKey: app.publicKeyPem }],
    ...(seed !== undefined ? { seed } : {}),
    ...(clock !== undefined ? { clock } : {}),
  });
  return {
    url: sim.url,
    env: {
      ...env,
      VONAGE_APPLICATION_ID: app.applicationId,
      VONAGE_PRIVATE_KEY: app.privateKeyPem,
      VONAGE_PRIVATE_KEY_PATH: undefined,
      VONAGE_API_BASE_URL: sim.url,
      VONAGE_IDENTITY_INSIGHTS_PATH: undefined,
      VONAGE_PURPOSE: undefined,
    },
    close: () => sim.close(),
  };
}
