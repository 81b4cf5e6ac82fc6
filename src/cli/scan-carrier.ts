import type { Env } from '../config/env.js';
import type { Clock } from '../core/clock.js';
import type { ProviderName } from '../core/lookup-result.js';
import type { Logger } from '../logging/logger.js';
import { providersFromEnv, type ProviderRegistry } from '../providers/registry.js';
import { startBuiltInSimulator, type BuiltInSimulator } from './simulate/built-in.js';

/** The carrier a scanning command (scan, watch) talks to, and the credentials its in-process worker uses. */
export interface ScanCarrier {
  /** The built-in simulator with `--simulate`, else null. */
  readonly sim: BuiltInSimulator | null;
  /** Providers for the in-process worker (credentials checked), or null with `--no-worker`. */
  readonly providers: ProviderRegistry | null;
}

/**
 * Starts the built-in simulator when asked and checks this process's credentials when it runs a worker, before
 * anything is queued. On a credentials problem the simulator is stopped again and the error thrown.
 */
export async function startScanCarrier(
  env: Env,
  options: {
    simulate: boolean;
    inProcessWorker: boolean;
    concurrency: number;
    /** The provider this run's batches use: its credentials are the ones checked. */
    provider: ProviderName;
    clock?: Clock | undefined;
  },
  logger: Logger,
  say: (line: string) => void,
): Promise<ScanCarrier> {
  const sim = options.simulate ? await startBuiltInSimulator(env, options.clock) : null;
  try {
    if (sim !== null) say(`using the built-in simulator at ${sim.url} (no carrier is called)`);
    let providers: ProviderRegistry | null = null;
    if (options.inProcessWorker) {
      providers = providersFromEnv(sim?.env ?? env, logger, options.concurrency, options.clock);
      providers.check([options.provider]);
    }
    return { sim, providers };
  } catch (error) {
    await sim?.close();
    throw error;
  }
}
