import type { Env } from '../../config/env.js';
import { simulatedCamaraAuth } from '../../config/camara.js';
import { simulatorSeed } from '../../config/settings.js';
import type { Clock } from '../../core/clock.js';

export interface BuiltInSimulator {
  /** The caller's environment with the Vonage and CAMARA settings pointed at the simulator. */
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
  const { startSimulator, createThrowawayApplication, operatorCredentials } =
    await import('../../simulator/index.js');
  const app = createThrowawayApplication();
  const operator = operatorCredentials(app.privateKeyPem);
  const seed = simulatorSeed(env);
  const sim = await startSimulator({
    applications: [{ applicationId: app.applicationId, publicKey: app.publicKeyPem }],
    operatorClients: [{ clientId: operator.clientId, clientSecret: operator.clientSecret }],
    apiKeys: [operator.apiKey],
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
      ...camaraEnv(sim.url, operator, simulatedCamaraAuth(env)),
    },
    close: () => sim.close(),
  };
}

/**
 * The CAMARA settings that point `--provider camara` at a simulator: its operator's endpoints and credentials
 * for every auth mode, and the mode asked for (CAMARA_AUTH). Purpose, scope style and combined scopes are the
 * caller's, so each can be tried against the simulator.
 */
export function camaraEnv(
  url: string,
  operator: { readonly clientId: string; readonly clientSecret: string; readonly apiKey: string },
  auth: string,
): Record<string, string | undefined> {
  return {
    CAMARA_API_BASE_URL: url,
    CAMARA_AUTH: auth,
    CAMARA_TOKEN_URL: `${url}/oidc/token`,
    CAMARA_AUTHORIZE_URL: `${url}/oidc/bc-authorize`,
    CAMARA_CLIENT_ID: operator.clientId,
    CAMARA_CLIENT_SECRET: operator.clientSecret,
    CAMARA_CLIENT_KEY_PATH: undefined,
    CAMARA_API_KEY: operator.apiKey,
    CAMARA_API_KEY_HEADER: undefined,
    CAMARA_EXTRA_HEADERS: undefined,
    CAMARA_REACHABILITY_PATH: undefined,
    CAMARA_ROAMING_PATH: undefined,
  };
}
