import type { Env } from '../config/env.js';
import { redisUrlFromEnv } from '../config/settings.js';
import { ReachscanError } from '../core/errors.js';
import { redactUrl, redisAnswers } from './connection.js';
import { hasRedisServer, startRedisServer } from './private-redis.js';

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
  defaultUrl?: string,
): Promise<RedisChoice> {
  const setting = redisUrlFromEnv(env);
  const url = setting.configured ? setting.url : (defaultUrl ?? setting.url);
  if (await redisAnswers(url)) return { url, stopPrivate: null };
  if (!setting.configured && allowPrivate && hasRedisServer()) {
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
