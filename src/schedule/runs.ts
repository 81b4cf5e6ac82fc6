import type { RedisClient } from '../queue/connection.js';

/** What the last tick of a schedule did: the batch it started, or why it could not start one. */
export interface ScheduleRun {
  /** The tick (the time the pattern fired), ISO 8601 UTC; it names the run's folder. */
  readonly tick: string;
  /** When a worker took the tick, ISO 8601 UTC (later than the tick when no worker was running). */
  readonly at: string;
  readonly batchId: string | null;
  readonly outDir: string | null;
  /** Set when no batch could be started (a missing source file, no phone column…). */
  readonly error: string | null;
}

/** One hash per queue prefix, a field per schedule id: small, and in the queues' hash-tag slot. */
export function scheduleRunsKey(prefix: string): string {
  return `${prefix}:schedule-runs`;
}

/** Claims one tick of one schedule for one batch, so the tick can never start a second batch. */
export function tickClaimKey(prefix: string, id: string, tickMs: number): string {
  return `${prefix}:schedule-tick:${id}:${tickMs}`;
}

export async function recordRun(
  redis: RedisClient,
  prefix: string,
  id: string,
  run: ScheduleRun,
): Promise<void> {
  await redis.hset(scheduleRunsKey(prefix), id, JSON.stringify(run));
}

export async function readRuns(redis: RedisClient, prefix: string): Promise<Map<string, ScheduleRun>> {
  const all = await redis.hgetall(scheduleRunsKey(prefix));
  const runs = new Map<string, ScheduleRun>();
  for (const [id, text] of Object.entries(all)) {
    try {
      runs.set(id, JSON.parse(text) as ScheduleRun);
    } catch {
      // A record we cannot read is no reason to fail a listing.
    }
  }
  return runs;
}

export async function forgetRuns(redis: RedisClient, prefix: string, ids: readonly string[]): Promise<void> {
  if (ids.length > 0) await redis.hdel(scheduleRunsKey(prefix), ...ids);
}
