import { resolve } from 'node:path';
import { ConfigError, UsageError } from '../core/errors.js';
import { hashTagged, type HistoryOptions } from '../core/settings.js';
import type { LogLevel } from '../logging/logger.js';
import { DEFAULTS } from './defaults.js';
import { readEnv, readInteger, type Env } from './env.js';

/**
 * The process-wide settings from the environment, each read and checked here (the API's are in api.ts, the
 * carrier's in vonage.ts). Every problem names its variable.
 */

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** REACHSCAN_LOG_LEVEL. */
export function logLevel(env: Env): LogLevel {
  const level = env.REACHSCAN_LOG_LEVEL ?? DEFAULTS.logLevel;
  if (!(LOG_LEVELS as readonly string[]).includes(level))
    throw new ConfigError([`REACHSCAN_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`]);
  return level as LogLevel;
}

/** REACHSCAN_QUEUE_PREFIX as given (the name, without its hash tag). */
function queuePrefixName(env: Env): string {
  return env.REACHSCAN_QUEUE_PREFIX ?? DEFAULTS.queuePrefix;
}

/** BullMQ prefix (with its Cluster hash tag) from REACHSCAN_QUEUE_PREFIX. */
export function queuePrefix(env: Env): string {
  const name = queuePrefixName(env);
  if (!/^[A-Za-z0-9_.-]+$/.test(name))
    throw new UsageError('REACHSCAN_QUEUE_PREFIX may hold letters, digits, _ . - only');
  return hashTagged(name);
}

/**
 * Where the history lives: REACHSCAN_STATE_PREFIX, else a prefix named after the queues' with a hash tag of
 * its own (`{reachscan-state}:`), so it works on Redis Cluster; the numbers' keys are spread over
 * REACHSCAN_STATE_BUCKETS buckets of that tag, so a cluster spreads them over its masters.
 * Simulated runs keep a history of their own, so simulated answers never mix with real ones (unless
 * REACHSCAN_STATE_PREFIX says otherwise: an explicit prefix is used as given).
 */
export function historyOptions(env: Env, simulate: boolean): HistoryOptions {
  const retentionDays = checked((problems) =>
    readInteger(env, 'REACHSCAN_STATE_RETENTION_DAYS', DEFAULTS.historyRetentionDays, problems, {
      min: 1,
      max: 36_500,
    }),
  );
  // Up to one bucket per Cluster slot: more could not spread further.
  const buckets = checked((problems) =>
    readInteger(env, 'REACHSCAN_STATE_BUCKETS', DEFAULTS.historyBuckets, problems, { min: 1, max: 16_384 }),
  );
  const given = env.REACHSCAN_STATE_PREFIX;
  if (given !== undefined && !/^\S*\{[^{}\s]+\}\S*$/.test(given))
    throw new ConfigError([
      'REACHSCAN_STATE_PREFIX must hold one {hash tag} and no spaces, e.g. {reachscan-state}: (Redis Cluster keeps tagged keys in one slot)',
    ]);
  const name = `${queuePrefixName(env)}${simulate ? '-simulate' : ''}-state`;
  return { prefix: given ?? `${hashTagged(name)}:`, buckets, retentionDays };
}

/** REACHSCAN_JOB_LOCK_MS: how long a worker's job lock lasts unrenewed, so how soon a dead worker's jobs move on. */
export function jobLockFromEnv(env: Env): number {
  return checked((problems) =>
    readInteger(env, 'REACHSCAN_JOB_LOCK_MS', DEFAULTS.jobLockMs, problems, { min: 1_000, max: 3_600_000 }),
  );
}

/** REACHSCAN_RETRY_BASE_MS: the first retry delay of a chunk with transient failures. */
export function retryBaseFromEnv(env: Env): number {
  return checked((problems) =>
    readInteger(env, 'REACHSCAN_RETRY_BASE_MS', DEFAULTS.retryBaseMs, problems, { min: 1, max: 600_000 }),
  );
}

/** REDIS_URL, and whether it was set (a private Redis is started only when it was not). */
export function redisUrlFromEnv(env: Env): { readonly url: string; readonly configured: boolean } {
  const configured = readEnv(env, 'REDIS_URL');
  return { url: configured ?? DEFAULTS.redisUrl, configured: configured !== undefined };
}

/** REACHSCAN_SIMULATOR_SEED: the built-in simulator's seed, so a demo answers the same run after run. */
export function simulatorSeed(env: Env): string | undefined {
  return readEnv(env, 'REACHSCAN_SIMULATOR_SEED');
}

function checked<T>(read: (problems: string[]) => T): T {
  const problems: string[] = [];
  const value = read(problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return value;
}

/**
 * REACHSCAN_DATA_DIR as the home of the batches' own copies of their inputs (`<dir>/inputs/`), or null when
 * unset: each copy then sits in its batch's output folder, under `.reachscan/`.
 */
export function inputCopyRoot(env: Env): string | null {
  const dir = readEnv(env, 'REACHSCAN_DATA_DIR');
  return dir === undefined ? null : resolve(dir);
}
