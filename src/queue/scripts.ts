import type { RedisClient } from './connection.js';

/** A Lua script reachscan runs in Redis: its command name on the connection, and its keys. */
export interface ScriptSpec {
  /** The command name ioredis defines for it, e.g. `reachscanClaimChunk`. */
  readonly name: string;
  readonly lua: string;
  /** Keys the script takes; leave it out when a call gives a variable number (each call then says how many). */
  readonly keys?: number;
  /** Runs on replicas too: it only reads. */
  readonly readOnly?: boolean;
}

/** Calls a script: its keys, then its arguments. */
export type Script<R> = (
  redis: RedisClient,
  keys: readonly string[],
  args?: readonly (string | number)[],
) => Promise<R>;

type ScriptCommands = Record<string, (...keysThenArgs: (string | number)[]) => Promise<unknown>>;

/**
 * The one way reachscan runs Lua: the script is defined on each connection the first time it is used, and
 * ioredis then sends only its SHA (EVALSHA, with EVAL once when Redis does not know it yet, after a restart
 * say). Works the same on a single Redis and on a Cluster.
 */
export function defineScript<R>(spec: ScriptSpec): Script<R> {
  return (redis, keys, args = []) => {
    if (!(spec.name in redis))
      redis.defineCommand(spec.name, {
        lua: spec.lua,
        ...(spec.keys !== undefined ? { numberOfKeys: spec.keys } : {}),
        ...(spec.readOnly === true ? { readOnly: true } : {}),
      });
    const command = (redis as unknown as ScriptCommands)[spec.name] as ScriptCommands[string];
    const keyCount = spec.keys === undefined ? [keys.length] : [];
    return command.call(redis, ...keyCount, ...keys, ...args) as Promise<R>;
  };
}
