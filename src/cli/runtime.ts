import { readInteger, type Env } from '../config/env.js';
import type { Clock } from '../core/clock.js';
import { DEFAULT_RETENTION_DAYS, type HistoryOptions } from '../history/state-store.js';
import { loadVonageConfig } from '../config/vonage.js';
import { ConfigError, ReachscanError, UsageError } from '../core/errors.js';
import type { Logger, LogLevel } from '../logging/logger.js';
import type { ProviderName } from '../core/lookup-result.js';
import { createProvider, PROVIDER_NAMES } from '../providers/create-provider.js';
import type { UpstreamObserver } from '../providers/http/transport.js';
import type { ReachabilityProvider } from '../providers/provider.js';
import { redisAnswers, redactUrl } from '../queue/connection.js';
import { bullPrefix } from '../queue/keys.js';
import { DEFAULT_JOB_LOCK_MS, startWorkers, type WorkerOptions, type Workers } from '../queue/workers.js';
import { hasRedisServer, startRedisServer } from '../queue/private-redis.js';
import { startBuiltInSimulator, type BuiltInSimulator } from './built-in-simulator.js';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export function logLevel(env: Env): LogLevel {
  const level = env.REACHSCAN_LOG_LEVEL ?? 'warn';
  const known = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
  if (!known.includes(level))
    throw new ConfigError([`REACHSCAN_LOG_LEVEL must be one of ${known.join(', ')}`]);
  return level as LogLevel;
}

/** BullMQ prefix (with its Cluster hash tag) from REACHSCAN_QUEUE_PREFIX. */
export function queuePrefix(env: Env): string {
  const name = env.REACHSCAN_QUEUE_PREFIX ?? 'reachscan';
  if (!/^[A-Za-z0-9_.-]+$/.test(name))
    throw new UsageError('REACHSCAN_QUEUE_PREFIX may hold letters, digits, _ . - only');
  return bullPrefix(name);
}

/**
 * Where the history lives: REACHSCAN_STATE_PREFIX, else a prefix named after the queues' with a hash tag of
 * its own (`{reachscan-state}:`), so it works on Redis Cluster and may sit on another node than the queues. Simulated runs keep a history of their own, so simulated answers never mix with real ones
 * (unless REACHSCAN_STATE_PREFIX says otherwise: an explicit prefix is used as given).
 */
export function historyOptions(env: Env, simulate: boolean): HistoryOptions {
  const problems: string[] = [];
  const retentionDays = readInteger(env, 'REACHSCAN_STATE_RETENTION_DAYS', DEFAULT_RETENTION_DAYS, problems, {
    min: 1,
    max: 36_500,
  });
  if (problems.length > 0) throw new ConfigError(problems);
  const given = env.REACHSCAN_STATE_PREFIX;
  if (given !== undefined && !/^\S*\{[^{}\s]+\}\S*$/.test(given))
    throw new ConfigError([
      'REACHSCAN_STATE_PREFIX must hold one {hash tag} and no spaces, e.g. {reachscan-state}: (Redis Cluster keeps tagged keys in one slot)',
    ]);
  const name = `${env.REACHSCAN_QUEUE_PREFIX ?? 'reachscan'}${simulate ? '-simulate' : ''}-state`;
  const prefix = given ?? `${bullPrefix(name)}:`;
  return { prefix, retentionDays };
}

/** REACHSCAN_JOB_LOCK_MS: how long a worker's job lock lasts unrenewed, so how soon a dead worker's jobs move on. */
export function jobLockFromEnv(env: Env): number {
  const problems: string[] = [];
  const value = readInteger(env, 'REACHSCAN_JOB_LOCK_MS', DEFAULT_JOB_LOCK_MS, problems, {
    min: 1_000,
    max: 3_600_000,
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return value;
}

export interface RedisChoice {
  readonly url: string;
  /** Set when reachscan started its own redis-server for this run. */
  readonly stopPrivate: (() => Promise<void>) | null;
}

/**
 * REDIS_URL when it answers. When nothing answers at the default address and redis-server is installed, a
 * private throwaway Redis for this run (said on stderr); otherwise one line on how to get Redis.
 */
export async function chooseRedis(
  env: Env,
  allowPrivate: boolean,
  say: (line: string) => void,
  defaultUrl: string = DEFAULT_REDIS_URL,
): Promise<RedisChoice> {
  const configured = env.REDIS_URL;
  const url = configured ?? defaultUrl;
  if (await redisAnswers(url)) return { url, stopPrivate: null };
  if (configured === undefined && allowPrivate && hasRedisServer()) {
    const redis = await startRedisServer();
    say(
      `no Redis at ${url}; started a private redis-server for this run at ${redis.url} (its data goes when the run ends)`,
    );
    return { url: redis.url, stopPrivate: () => redis.stop() };
  }
  throw new ReachscanError(
    'REDIS_UNAVAILABLE',
    `Redis at ${redactUrl(url)} is not answering: start one (redis-server, or docker compose up redis) or set REDIS_URL`,
  );
}

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
  options: { simulate: boolean; inProcessWorker: boolean; concurrency: number; clock?: Clock | undefined },
  logger: Logger,
  say: (line: string) => void,
): Promise<ScanCarrier> {
  const sim = options.simulate ? await startBuiltInSimulator(env, options.clock) : null;
  try {
    if (sim !== null) say(`using the built-in simulator at ${sim.url} (no carrier is called)`);
    let providers: ProviderRegistry | null = null;
    if (options.inProcessWorker) {
      providers = providersFromEnv(sim?.env ?? env, logger, options.concurrency, options.clock);
      providers.check();
    }
    return { sim, providers };
  } catch (error) {
    await sim?.close();
    throw error;
  }
}

/**
 * Providers for a worker process, built on first use from this process's own credentials. `observe` hands
 * every upstream request's status and latency to the worker's metrics (set once the workers exist; providers
 * are built later, at the first lookup, and report to whatever observer is set then).
 */
export interface ProviderRegistry {
  get: (name: string) => ReachabilityProvider;
  close: () => Promise<void>;
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
        provider = createProvider(
          loadVonageConfig(env),
          {
            logger,
            connections,
            observer: (event) => observer?.(event),
            ...(clock !== undefined ? { clock } : {}),
          },
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

/** This process's workers, asking this process's providers, whose every upstream request they count. */
export function startProcessWorkers(
  providers: ProviderRegistry,
  options: Omit<WorkerOptions, 'provider'>,
): Workers {
  const workers = startWorkers({ ...options, provider: (name) => providers.get(name) });
  providers.observe(workers.observeUpstream);
  return workers;
}
