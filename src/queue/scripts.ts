import { createHash } from 'node:crypto';
import type { RedisClient } from './connection.js';

/** A Lua script reachscan runs in Redis. */
export interface ScriptSpec {
  /** For messages and readers: what the script is, e.g. `reachscanClaimChunk`. */
  readonly name: string;
  readonly lua: string;
}

/** Calls a script: its keys, then its arguments. */
export type Script<R> = (
  redis: RedisClient,
  keys: readonly string[],
  args?: readonly (string | number)[],
) => Promise<R>;

/**
 * The one way reachscan runs Lua: EVALSHA, and EVAL once when Redis does not know the script yet (a new or
 * restarted Redis). Plain commands, not ioredis's defineCommand: a script defined on a connection after its
 * auto-pipeline was opened is missing from that pipeline, and the call fails. Works the same on a Cluster
 * (the keys route the call).
 */
export function defineScript<R>(spec: ScriptSpec): Script<R> {
  const sha = createHash('sha1').update(spec.lua).digest('hex');
  return async (redis, keys, args = []) => {
    try {
      return (await redis.evalsha(sha, keys.length, ...keys, ...args)) as R;
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return (await redis.eval(spec.lua, keys.length, ...keys, ...args)) as R;
    }
  };
}
