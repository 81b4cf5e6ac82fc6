import { camaraConfigured, loadCamaraConfig } from '../config/camara.js';
import type { Env } from '../config/env.js';
import { loadVonageConfig, vonageConfigured } from '../config/vonage.js';
import type { Clock } from '../core/clock.js';
import { UsageError } from '../core/errors.js';
import { PROVIDER_NAMES, type ProviderName } from '../core/lookup-result.js';
import type { Logger } from '../logging/logger.js';
import { createCamara, createProvider, type ProviderDeps } from './create-provider.js';
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
  /**
   * Reads and checks the credentials now, so a mistake stops the command before anything is queued: those of
   * the providers named, or, without names, of every carrier this environment is set up for (Vonage unless
   * only CAMARA_* settings are given).
   */
  check: (names?: readonly ProviderName[]) => void;
  observe: (observer: UpstreamObserver) => void;
}

/** A provider from the environment's settings for it (VONAGE_* or CAMARA_*), checked as it is built. */
export function providerFromEnv(env: Env, name: ProviderName, deps: ProviderDeps): ReachabilityProvider {
  if (name === 'camara') return createCamara(loadCamaraConfig(env), deps);
  return createProvider(loadVonageConfig(env), deps, name);
}

/** The providers a process without a named provider (a worker, the API) should be able to serve. */
export function configuredProviders(env: Env): ProviderName[] {
  const camara = camaraConfigured(env);
  return [
    ...(vonageConfigured(env) || !camara ? (['identity-insights'] as const) : []),
    ...(camara ? (['camara'] as const) : []),
  ];
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
    check(names = configuredProviders(env)) {
      for (const name of names) {
        if (name === 'camara') loadCamaraConfig(env);
        else loadVonageConfig(env);
      }
    },
    observe(next) {
      observer = next;
    },
    get(name) {
      if (!(PROVIDER_NAMES as readonly string[]).includes(name))
        throw new UsageError(`unknown provider "${name}"`);
      let provider = built.get(name);
      if (!provider) {
        const deps: ProviderDeps = {
          logger,
          connections,
          observer: (event) => observer?.(event),
          ...(clock ? { clock } : {}),
        };
        provider = providerFromEnv(env, name as ProviderName, deps);
        built.set(name, provider);
      }
      return provider;
    },
    async close() {
      await Promise.all([...built.values()].map((p) => p.close()));
    },
  };
}
