import { systemClock, type Clock } from '../core/clock.js';
import type { VonageConfig } from '../config/vonage.js';
import type { Logger } from '../logging/logger.js';
import { createApplicationJwtSource } from './auth/application-jwt.js';
import { createHttpTransport } from './http/transport.js';
import { createIdentityInsightsProvider } from './identity-insights/client.js';
import type { ReachabilityProvider } from './provider.js';

export interface ProviderDeps {
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Most upstream connections kept open; match it to the concurrency. Default 64. */
  readonly connections?: number;
}

/** Wires the Identity Insights provider from validated configuration. */
export function createProvider(config: VonageConfig, deps: ProviderDeps): ReachabilityProvider {
  const clock = deps.clock ?? systemClock;
  return createIdentityInsightsProvider({
    apiBaseUrl: config.apiBaseUrl,
    path: config.identityInsightsPath,
    purpose: config.purpose,
    jwt: createApplicationJwtSource({
      applicationId: config.applicationId,
      privateKey: config.privateKey,
      clock,
    }),
    transport: createHttpTransport({
      timeoutMs: config.httpTimeoutMs,
      ...(deps.connections !== undefined ? { connections: deps.connections } : {}),
    }),
    clock,
    logger: deps.logger,
  });
}
