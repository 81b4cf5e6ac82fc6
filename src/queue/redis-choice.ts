import type { Env } from '../config/env.js';
import { redisUrlFromEnv } from '../config/settings.js';
import { CLEAR_HISTORY_WARNING, stateSecretFromEnv } from '../config/privacy.js';
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
 * private throwaway Redis for this run; otherwise one line on how to get Redis. Either way one line says which
 * Redis the run uses (the history lives there: a user must know whose Redis got it).
 */
export async function chooseRedis(
  env: Env,
  allowPrivate: boolean,
  say: (line: string) => void,
  defaultUrl?: string,
): Promise<RedisChoice> {
  const setting = redisUrlFromEnv(env);
  const url = setting.configured ? setting.url : (defaultUrl ?? setting.url);
  if (await redisAnswers(url)) {
    say(`using Redis at ${redactUrl(url)} (already running)`);
    return { url, stopPrivate: null };
  }
  if (!setting.configured && allowPrivate && hasRedisServer()) {
    const redis = await startRedisServer();
    say(
      `using Redis at ${redis.url} (started a private one for this run: the history is not kept; nothing answered at ${redactUrl(url)})`,
    );
    return { url: redis.url, stopPrivate: () => redis.stop() };
  }
  throw new ReachscanError(
    'REDIS_UNAVAILABLE',
    `Redis at ${redactUrl(url)} is not answering: start one (redis-server, or docker compose up redis) or set REDIS_URL`,
  );
}

/**
 * Said after "using Redis at …" by the commands whose batches write the history there: without
 * REACHSCAN_STATE_SECRET its keys name the phone numbers. Not for a private throwaway Redis (nothing is kept).
 */
export function warnIfHistoryInClear(env: Env, choice: RedisChoice, say: (line: string) => void): void {
  if (choice.stopPrivate === null && stateSecretFromEnv(env) === null) say(CLEAR_HISTORY_WARNING);
}
