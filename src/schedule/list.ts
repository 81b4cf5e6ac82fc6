import { Queue } from 'bullmq';
import { readStatus, type BatchState } from '../batch/state.js';
import type { RedisClient } from '../queue/connection.js';
import { batchKeys, queueOptions, SCHEDULE_QUEUE } from '../queue/keys.js';
import { assertScheduleDefinition, type ScheduleDefinition } from './definition.js';
import { readRuns, type ScheduleRun } from './runs.js';

export interface LastRun extends ScheduleRun {
  /** The batch's state while its outcome record lasts (a day after it ends); null after that, or with no batch. */
  readonly batchState: BatchState | null;
  /** The batch's exit code once done (0 every valid number answered, 1 lookups failed; never strict). */
  readonly exitCode: number | null;
  /** Why the batch stopped, when it failed as a whole. */
  readonly failure: string | null;
}

export interface ScheduleEntry {
  readonly id: string;
  readonly pattern: string;
  readonly timezone: string;
  /** The next tick, ms since the epoch (a delayed job waiting in the queue). */
  readonly nextRunMs: number | null;
  /** The definition as synced; null for a scheduler reachscan did not write. */
  readonly definition: ScheduleDefinition | null;
  readonly lastRun: LastRun | null;
}

/** The schedulers in Redis (what workers will run), soonest first, each with its last run. */
export async function listSchedules(redis: RedisClient, prefix: string): Promise<ScheduleEntry[]> {
  const queue = new Queue(SCHEDULE_QUEUE, queueOptions(redis, prefix));
  try {
    const [schedulers, runs] = await Promise.all([
      queue.getJobSchedulers(0, -1, true),
      readRuns(redis, prefix),
    ]);
    return await Promise.all(
      schedulers.map(async (scheduler): Promise<ScheduleEntry> => {
        let definition: ScheduleDefinition | null = null;
        try {
          const data: unknown = scheduler.template?.data;
          assertScheduleDefinition(data);
          definition = data;
        } catch {
          // Listed anyway, without what only a definition can tell.
        }
        const run = runs.get(scheduler.key);
        return {
          id: scheduler.key,
          pattern: scheduler.pattern ?? '',
          timezone: scheduler.tz ?? 'UTC',
          nextRunMs: scheduler.next ?? null,
          definition,
          lastRun: run === undefined ? null : await withBatchState(redis, prefix, run),
        };
      }),
    );
  } finally {
    await queue.close();
  }
}

async function withBatchState(redis: RedisClient, prefix: string, run: ScheduleRun): Promise<LastRun> {
  if (run.batchId === null) return { ...run, batchState: null, exitCode: null, failure: null };
  const status = await readStatus(redis, batchKeys(prefix, run.batchId));
  return { ...run, batchState: status.state, exitCode: status.exitCode, failure: status.failure };
}
