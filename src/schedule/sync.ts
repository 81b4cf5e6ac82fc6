import { Queue } from 'bullmq';
import type { RedisClient } from '../queue/connection.js';
import { queueOptions, SCHEDULE_QUEUE } from '../queue/keys.js';
import { SCHEDULED_SCAN_JOB, type ScheduleDefinition } from './definition.js';
import { forgetRuns } from './runs.js';

/** Options of every job a scheduler produces. */
export const SCHEDULED_JOB_OPTIONS = {
  // Only a transient failure (Redis away for a moment) is retried; a bad source file fails at once.
  attempts: 3,
  backoff: { type: 'exponential', delay: 10_000 },
  removeOnComplete: { count: 100 },
  removeOnFail: { count: 100 },
} as const;

export type SyncAction = 'added' | 'updated' | 'unchanged' | 'removed' | 'disabled';

export interface SyncEntry {
  readonly id: string;
  readonly action: SyncAction;
  /** Set for schedules that exist after the sync. */
  readonly definition: ScheduleDefinition | null;
  /** The next tick, ms since the epoch, for schedules that exist after the sync. */
  readonly nextRunMs: number | null;
}

/** Keys in a fixed order, so two equal definitions compare equal whatever order Redis gave their fields in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );
}

/**
 * Makes the schedulers of the `schedules` queue match the job files: upserts each enabled definition (left
 * alone when nothing changed, so its next tick stays put), and removes the schedulers of disabled definitions
 * and of files that are gone. The queue holds only job-file schedulers: one jobs folder per queue prefix.
 */
export async function syncSchedules(
  redis: RedisClient,
  prefix: string,
  definitions: readonly ScheduleDefinition[],
): Promise<SyncEntry[]> {
  const queue = new Queue(SCHEDULE_QUEUE, queueOptions(redis, prefix));
  try {
    const existing = new Map((await queue.getJobSchedulers(0, -1)).map((s) => [s.key, s]));
    const entries: SyncEntry[] = [];
    for (const definition of definitions) {
      const current = existing.get(definition.id);
      if (!definition.enabled) {
        if (current) await queue.removeJobScheduler(definition.id);
        entries.push({ id: definition.id, action: 'disabled', definition, nextRunMs: null });
        continue;
      }
      const same =
        current !== undefined &&
        current.name === SCHEDULED_SCAN_JOB &&
        current.pattern === definition.cron &&
        current.tz === definition.timezone &&
        canonical(current.template?.data) === canonical(definition);
      if (!same) {
        await queue.upsertJobScheduler(
          definition.id,
          { pattern: definition.cron, tz: definition.timezone },
          { name: SCHEDULED_SCAN_JOB, data: definition, opts: SCHEDULED_JOB_OPTIONS },
        );
      }
      const next = same ? current.next : (await queue.getJobScheduler(definition.id))?.next;
      entries.push({
        id: definition.id,
        action: same ? 'unchanged' : current ? 'updated' : 'added',
        definition,
        nextRunMs: next ?? null,
      });
    }
    const wanted = new Set(definitions.map((d) => d.id));
    const gone = [...existing.keys()].filter((id) => !wanted.has(id)).sort();
    for (const id of gone) {
      await queue.removeJobScheduler(id);
      entries.push({ id, action: 'removed', definition: null, nextRunMs: null });
    }
    // Last-run records of schedules that no longer exist would only confuse `schedule list`.
    await forgetRuns(redis, prefix, [...gone, ...definitions.filter((d) => !d.enabled).map((d) => d.id)]);
    return entries;
  } finally {
    await queue.close();
  }
}
