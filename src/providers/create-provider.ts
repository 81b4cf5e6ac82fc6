import { systemClock, type Clock } from '../core/clock.js';
import type { CamaraConfig } from '../config/camara.js';
import type { VonageConfig } from '../config/vonage.js';
import type { Logger } from '../logging/logger.js';
import { createApplicationJwtSource } from './auth/application-jwt.js';
import { createHttpTransport, type UpstreamObserver } from './http/transport.js';
import { createIdentityInsightsProvider } from './identity-insights/client.js';
import type { ProviderName } from '../core/lookup-result.js';
import { createCamaraProvider } from './camara/client.js';
import { createSubscriptionClient, type SubscriptionClient } from './camara/subscriptions.js';
import { createDeviceStatusProvider } from './device-status/client.js';
import type { ReachabilityProvider } from './provider.js';

export interface ProviderDeps {
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Most upstream connections kept open; match it to the concurrency. Default 64. */
  readonly connections?: number;
  /** Told each upstream request's status and latency (metrics). */
  readonly observer?: UpstreamObserver;
}

/** Wires the CAMARA v1 provider (`--provider camara`) from validated configuration. */
export function createCamara(config: CamaraConfig, deps: ProviderDeps): ReachabilityProvider {
  return createCamaraProvider({
    config,
    transport: transportFor(config.httpTimeoutMs, deps),
    clock: deps.clock ?? systemClock,
    logger: deps.logger,
  });
}

function transportFor(timeoutMs: number, deps: ProviderDeps) {
  return createHttpTransport({
    timeoutMs,
    ...(deps.connections !== undefined ? { connections: deps.connections } : {}),
    ...(deps.observer !== undefined ? { observer: deps.observer } : {}),
  });
}

/** Wires a Vonage provider (identity-insights, device-status) from validated configuration. */
export function createProvider(
  config: VonageConfig,
  deps: ProviderDeps,
  name: Exclude<ProviderName, 'camara'> = 'identity-insights',
): ReachabilityProvider {
  const clock = deps.clock ?? systemClock;
  const jwt = createApplicationJwtSource({
    applicationId: config.applicationId,
    privateKey: config.privateKey,
    clock,
  });
  const transport = transportFor(config.httpTimeoutMs, deps);
  if (name === 'device-status') {
    return createDeviceStatusProvider({
      apiBaseUrl: config.apiBaseUrl,
      path: config.deviceStatusPath,
      jwt,
      transport,
      clock,
      logger: deps.logger,
      combinedScopes: config.deviceStatusCombinedScopes === true,
    });
  }
  return createIdentityInsightsProvider({
    apiBaseUrl: config.apiBaseUrl,
    path: config.identityInsightsPath,
    purpose: config.purpose,
    jwt,
    transport,
    clock,
    logger: deps.logger,
  });
}

/** The CAMARA subscription API (push monitoring), with the same access as the lookups. */
export function createCamaraSubscriptions(config: CamaraConfig, deps: ProviderDeps): SubscriptionClient {
  return createSubscriptionClient({
    config,
    transport: transportFor(config.httpTimeoutMs, deps),
    clock: deps.clock ?? systemClock,
    logger: deps.logger,
  });
}
