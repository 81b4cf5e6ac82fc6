import type { Env } from '../config/env.js';
import { loadVonageConfig } from '../config/vonage.js';
import type { Clock } from '../core/clock.js';
import { UsageError } from '../core/errors.js';
import { PROVIDER_NAMES, type ProviderName } from '../core/lookup-result.js';
import type { Logger } from '../logging/logger.js';
import { createProvider } from './create-provider.js';
import type { UpstreamObserver } from './http/transport.js';
import type { ReachabilityProvider } from './provider.js';

/**
 * Providers for a worker process, built on first use from this process's own credentials. `observe` hands
 * every upstream request's status and latency to the worker's metrics (set once the workers exist; providers
 * are built later, at the first lookup, and report to whatever observer is set then).
 */
export interface ProviderRegistry {
  get: (name: string) => ReachabilityProvider;
  close: () => Promise<void>;
  /** Reads and checks the credentials now, so a mistake stops the command before anything is queued. */
  check: () => void;
  observe: (observer: UpstreamObserver) => void;
}

export function providersFromEnv(
  env: Env,
  logger: Logger,
  connections: number,
  clock?: Clock,
): ProviderRegistry {
  const built = new Map<string, ReachabilityProvider>();
  let observer: UpstreamObserver | null = null;
  return {
    check: () => void loadVonageConfig(env),
    observe(next) {
      observer = next;
    },
    get(name) {
      if (!(PROVIDER_NAMES as readonly string[]).includes(name))
        throw new UsageError(`unknown provider "${name}"`);
      let provider = built.get(name);
      if (!provider) {
        const deps = {
          logger,
          connections,
          observer: (event: Parameters<UpstreamObserver>[0]) => observer?.(event),
        };
        provider = createProvider(
          loadVonageConfig(env),
          { ...deps, ...(clock ? { clock } : {}) },
          name as ProviderName,
        );
        built.set(name, provider);
      }
      return provider;
    },
    async close() {
      await Promise.all([...built.values()].map((p) => p.close()));
    },
  };
}
