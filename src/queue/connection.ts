import { Cluster, Redis, type ClusterNode, type RedisOptions } from 'ioredis';
import { ReachscanError } from '../core/errors.js';

export type RedisRole = 'worker' | 'client';

/** One Redis, or a Redis Cluster: every key reachscan uses carries a hash tag, so both work the same. */
export type RedisClient = Redis | Cluster;

/**
 * REDIS_URL names one Redis (`redis://host:6379`), or the seed nodes of a Redis Cluster as a comma-separated
 * list (`redis://10.0.0.1:7000,redis://10.0.0.2:7000`): more than one URL means a cluster.
 */
export function clusterNodes(url: string): ClusterNode[] | null {
  const parts = url
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (parts.length < 2) return null;
  return parts.map((part) => {
    const parsed = new URL(part.includes('://') ? part : `redis://${part}`);
    return { host: parsed.hostname, port: Number(parsed.port || 6379) };
  });
}

/** Credentials and TLS given in the first URL of a cluster list apply to every node. */
function clusterRedisOptions(url: string): RedisOptions {
  const first = new URL(url.split(',')[0]?.trim() ?? '');
  return {
    ...(first.username ? { username: decodeURIComponent(first.username) } : {}),
    ...(first.password ? { password: decodeURIComponent(first.password) } : {}),
    ...(first.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/**
 * A Redis connection for a role. Workers block on Redis and must wait out outages (`maxRetriesPerRequest:
 * null`, as BullMQ requires); clients fail fast so a command-line user hears about a down Redis at once.
 */
export function createRedis(url: string, role: RedisRole, extra: RedisOptions = {}): RedisClient {
  const options: RedisOptions = {
    maxRetriesPerRequest: role === 'worker' ? null : 2,
    enableReadyCheck: true,
    connectionName: `reachscan-${role}`,
    ...extra,
  };
  const nodes = clusterNodes(url);
  if (nodes === null) return new Redis(url, options);
  // No auto-pipelining on a cluster: ioredis groups auto-pipelined commands by the node of what it takes for
  // the first key, which for scripts whose key count is given per call (the history's) is the count itself;
  // the batch then spans nodes and fails. Commands still share each node's connection.
  const { enableAutoPipelining: _notOnCluster, ...perNode } = options;
  return new Cluster(nodes, {
    redisOptions: { ...perNode, ...clusterRedisOptions(url) },
    // BullMQ's blocking calls and our waits must not give up while the cluster fails over.
    ...(role === 'worker' ? { clusterRetryStrategy: (times: number) => Math.min(100 * times, 2_000) } : {}),
  });
}

/** The masters of a cluster (each holds a share of the keys), or the one Redis. */
export function masters(redis: RedisClient): Redis[] {
  return redis instanceof Cluster ? redis.nodes('master') : [redis];
}

export class RedisUnavailableError extends ReachscanError {
  constructor(url: string, cause?: unknown) {
    super('REDIS_UNAVAILABLE', `Redis at ${redactUrl(url)} is not answering`, { cause });
  }
}

/** Pings Redis once, quickly, without retry storms; true when it answers. */
export async function redisAnswers(url: string, timeoutMs = 1_500): Promise<boolean> {
  const quick: RedisOptions = {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: timeoutMs,
    enableOfflineQueue: false,
  };
  const nodes = clusterNodes(url);
  const probe: RedisClient =
    nodes === null
      ? new Redis(url, quick)
      : new Cluster(nodes, {
          lazyConnect: true,
          clusterRetryStrategy: () => null,
          enableOfflineQueue: false,
          redisOptions: { ...quick, ...clusterRedisOptions(url) },
        });
  probe.on('error', () => {});
  try {
    await Promise.race([
      probe.connect(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), timeoutMs).unref()),
    ]);
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/** Hides passwords in a Redis URL (or a cluster's list of them) before it is printed. */
export function redactUrl(url: string): string {
  return url
    .split(',')
    .map((part) => {
      try {
        const parsed = new URL(part.trim());
        if (parsed.password) parsed.password = '***';
        return parsed.toString().replace(/\/$/, '');
      } catch {
        return 'the configured URL';
      }
    })
    .join(',');
}
