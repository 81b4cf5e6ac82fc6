import type { RedisClient } from '../queue/connection.js';
import type { BatchKeys } from '../queue/keys.js';
import { defineScript } from '../queue/scripts.js';

export type BatchState = 'queued' | 'ingesting' | 'running' | 'paused' | 'finalizing' | 'done' | 'failed';

/** What a waiting `scan` (or a status page) reads about a batch. */
export interface BatchStatus {
  readonly state: BatchState | null;
  /** Data records read so far, and whether reading is finished. */
  readonly records: number;
  readonly ingested: boolean;
  /** Bytes of the input read so far (with the file size, progress while reading). */
  readonly bytesRead: number;
  /** Chunk attempts that failed and were retried, and pauses for carrier 429s. */
  readonly retries: number;
  readonly pauses: number;
  /** Unique numbers to ask, and how many have a final answer. */
  readonly unique: number;
  readonly answered: number;
  readonly startedAt: string | null;
  /** Set when the batch stopped for a reason that is not any one row's (bad credentials, unreadable file). */
  readonly failure: string | null;
  /** Set while the batch is paused (the error-ratio breaker, a refusal, its budget, the daily quota): why. */
  readonly paused: string | null;
  /** Set while a pause lifts itself (the daily quota's reset), epoch ms by the batch's clock. */
  readonly pausedUntil: number | null;
  /**
   * Set when done: the exit code the batch deserves (0 every valid number answered, 1 lookups failed). Never
   * strict: `scan --strict` applies its rule to report.json's counts.
   */
  readonly exitCode: number | null;
  readonly outDir: string | null;
}

/** Kept this long after the batch ends so a waiting client can read the outcome; then Redis drops it. */
export const FINISHED_META_TTL_S = 24 * 3600;

export async function readStatus(redis: RedisClient, keys: BatchKeys): Promise<BatchStatus> {
  const [m, answered] = await Promise.all([redis.hgetall(keys.meta), redis.hlen(keys.answers)]);
  const int = (v: string | undefined) => (v === undefined ? 0 : Number(v));
  return {
    // Paused is a flag over the step the batch is in (reading, running), which goes on underneath.
    state:
      m.paused !== undefined && m.state !== 'done' && m.state !== 'failed'
        ? 'paused'
        : ((m.state as BatchState | undefined) ?? null),
    records: int(m.records),
    ingested: m.ingested === '1',
    bytesRead: int(m.bytesRead),
    retries: int(m.retries),
    pauses: int(m.pauses),
    unique: int(m.unique),
    // Counted from the answers themselves (no counter to keep in step); kept in the record once they are gone.
    answered: m.answered !== undefined ? int(m.answered) : answered,
    startedAt: m.startedAt ?? null,
    failure: m.failure ?? null,
    paused: m.paused ?? null,
    pausedUntil: m.paused === undefined || m.pausedUntil === undefined ? null : Number(m.pausedUntil),
    exitCode: m.exitCode === undefined ? null : Number(m.exitCode),
    outDir: m.outDir ?? null,
  };
}

export async function setState(
  redis: RedisClient,
  keys: BatchKeys,
  state: BatchState,
  extra: Record<string, string | number> = {},
): Promise<void> {
  await redis.hset(keys.meta, { state, ...extra });
}

/** Stops a batch for a reason that concerns every row: chunks still queued skip their calls. */
export async function abortBatch(redis: RedisClient, keys: BatchKeys, reason: string): Promise<void> {
  await redis.hsetnx(keys.meta, 'failure', reason);
}

/** What a chunk needs to know before it calls anyone. */
export interface BatchControl {
  readonly aborted: boolean;
  readonly paused: boolean;
  /** When a pause lifts itself (epoch ms, the batch's clock); null for a pause that waits for `resume`. */
  readonly until: number | null;
  /** How many times the batch was resumed. */
  readonly resumes: number;
}

export async function readControl(redis: RedisClient, keys: BatchKeys): Promise<BatchControl> {
  const [failure, paused, until, resumes] = await redis.hmget(
    keys.meta,
    'failure',
    'paused',
    'pausedUntil',
    'resumes',
  );
  return {
    aborted: failure !== null,
    paused: paused !== null,
    until: paused === null || until === null ? null : Number(until),
    resumes: Number(resumes ?? 0),
  };
}

/**
 * Why a batch is paused: too many carrier failures, or a setup failure (the application, its purpose, its
 * credentials, the request's shape), whose refusals saved before the pause are asked again on resume; its
 * budget spent; the provider's daily quota used up (the pause lifts itself at the quota's reset).
 */
export type PauseCause = 'errors' | 'setup' | 'budget' | 'quota';

/**
 * Pauses a batch: its chunks stop calling and wait. Only the first pause since the last resume counts; true
 * when this call paused it. With `until` (epoch ms, the batch's clock) the pause lifts itself then
 * ({@link liftDuePause}); without, it waits for `reachscan resume`.
 */
export async function pauseBatch(
  redis: RedisClient,
  keys: BatchKeys,
  pause: {
    readonly reason: string;
    readonly cause: PauseCause;
    readonly resumes: number;
    readonly at: string;
    readonly until?: number;
  },
): Promise<boolean> {
  const args = [pause.reason, pause.resumes, pause.at, pause.cause, pause.until ?? ''];
  return (await pauseScript(redis, [keys.meta], args)) === 1;
}

/**
 * Lifts a pause whose time has come (`now` at or past its `until`), as `resumeBatch` does; false when the batch
 * is not paused, or paused without an end, or not yet due. Atomic: a pause made meanwhile for another reason
 * is never lifted by mistake.
 */
export async function liftDuePause(redis: RedisClient, keys: BatchKeys, now: number): Promise<boolean> {
  return (await liftDueScript(redis, [keys.meta], [now])) === 1;
}

/** Why the batch is paused, or null when it is not. */
export async function pauseCause(redis: RedisClient, keys: BatchKeys): Promise<PauseCause | null> {
  const [paused, cause] = await redis.hmget(keys.meta, 'paused', 'pausedFor');
  if (paused === null) return null;
  return cause === 'setup' || cause === 'budget' || cause === 'quota' ? cause : 'errors';
}

/** Lifts a pause; the next calls start a clean error window. False when the batch was not paused. */
export async function resumeBatch(redis: RedisClient, keys: BatchKeys): Promise<boolean> {
  return (await resumeScript(redis, [keys.meta])) === 1;
}

/** Drops the per-batch working data and keeps only the small outcome record, with an expiry. */
export async function closeBatch(
  redis: RedisClient,
  keys: BatchKeys,
  outcome: Record<string, string | number>,
): Promise<void> {
  const answered = await redis.hlen(keys.answers);
  await redis
    .multi()
    .del(keys.owners, keys.answers, keys.refused)
    .expire(keys.spend, FINISHED_META_TTL_S)
    .hset(keys.meta, { ...outcome, answered })
    .expire(keys.meta, FINISHED_META_TTL_S)
    .exec();
}

/** KEYS: meta. ARGV: reason, resumes seen, at, cause, until ('' for none). 1 when this call paused the batch. */
const pauseScript = defineScript<number>({
  name: 'reachscanPauseBatch',
  lua: `if redis.call('HEXISTS', KEYS[1], 'paused') == 1 then return 0 end
     if tonumber(redis.call('HGET', KEYS[1], 'resumes') or '0') ~= tonumber(ARGV[2]) then return 0 end
     local state = redis.call('HGET', KEYS[1], 'state')
     if state == 'done' or state == 'failed' then return 0 end
     redis.call('HSET', KEYS[1], 'paused', ARGV[1], 'pausedAt', ARGV[3], 'pausedFor', ARGV[4])
     if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'pausedUntil', ARGV[5]) end
     redis.call('HINCRBY', KEYS[1], 'breakerTrips', 1)
     return 1`,
});

/** KEYS: meta. ARGV: now (ms). 1 when the batch was paused until now or earlier and is now resumed. */
const liftDueScript = defineScript<number>({
  name: 'reachscanLiftDuePause',
  lua: `if redis.call('HEXISTS', KEYS[1], 'paused') == 0 then return 0 end
     local untilMs = redis.call('HGET', KEYS[1], 'pausedUntil')
     if not untilMs or tonumber(untilMs) > tonumber(ARGV[1]) then return 0 end
     redis.call('HDEL', KEYS[1], 'paused', 'pausedAt', 'pausedFor', 'pausedUntil')
     redis.call('HINCRBY', KEYS[1], 'resumes', 1)
     return 1`,
});

/** KEYS: meta. 1 when the batch was paused and is now resumed. */
const resumeScript = defineScript<number>({
  name: 'reachscanResumeBatch',
  lua: `if redis.call('HEXISTS', KEYS[1], 'paused') == 0 then return 0 end
     redis.call('HDEL', KEYS[1], 'paused', 'pausedAt', 'pausedFor', 'pausedUntil')
     redis.call('HINCRBY', KEYS[1], 'resumes', 1)
     return 1`,
});
