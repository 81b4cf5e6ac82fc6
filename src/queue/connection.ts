import { Redis, type RedisOptions } from 'ioredis';
import { ReachscanError } from '../core/errors.js';

export type RedisRole = 'worker' | 'client';

/**
 * A Redis connection for a role. Workers block on Redis and must wait out outages (`maxRetriesPerRequest:
 * null`, as BullMQ requires); clients fail fast so a command-line user hears about a down Redis at once.
 */
export function createRedis(url: string, role: RedisRole, extra: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: role === 'worker' ? null : 2,
    enableReadyCheck: true,
    connectionName: `reachscan-${role}`,
    ...extra,
  });
}

export class RedisUnavailableError extends ReachscanError {
  constructor(url: string, cause?: unknown) {
    super('REDIS_UNAVAILABLE', `Redis at ${redactUrl(url)} is not answering`, { cause });
  }
}

/** Pings Redis once, quickly, without retry storms; true when it answers. */
export async function redisAnswers(url: string, timeoutMs = 1_500): Promise<boolean> {
  const probe = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: timeoutMs,
    enableOfflineQueue: false,
  });
  probe.on('error', () => {});
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/** Hides a password in a Redis URL before it is printed. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return 'the configured URL';
  }
}
