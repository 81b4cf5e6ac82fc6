import { systemClock, type Clock } from '../core/clock.js';
import type { VonageConfig } from '../config/vonage.js';
import type { Logger } from '../logging/logger.js';
import { createApplicationJwtSource } from './auth/application-jwt.js';
import { createHttpTransport, type UpstreamObserver } from './http/transport.js';
import { createIdentityInsightsProvider } from './identity-insights/client.js';
import type { ProviderName } from '../core/lookup-result.js';
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

/** Wires a provider from validated configuration. */
export function createProvider(
  config: VonageConfig,
  deps: ProviderDeps,
  name: ProviderName = 'identity-insights',
): ReachabilityProvider {
  const clock = deps.clock ?? systemClock;
  const jwt = createApplicationJwtSource({
    applicationId: config.applicationId,
    privateKey: config.privateKey,
    clock,
  });
  const transport = createHttpTransport({
    timeoutMs: config.httpTimeoutMs,
    ...(deps.connections !== undefined ? { connections: deps.connections } : {}),
    ...(deps.observer !== undefined ? { observer: deps.observer } : {}),
  });
  if (name === 'device-status') {
    return createDeviceStatusProvider({
      apiBaseUrl: config.apiBaseUrl,
      path: config.deviceStatusPath,
      jwt,
      transport,
      clock,
      logger: deps.logger,
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
