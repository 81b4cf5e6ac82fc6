import { readFile } from 'node:fs/promises';
import { readStatus, type BatchStatus } from './state.js';
import type { RedisClient } from '../queue/connection.js';
import { batchKeys } from '../queue/keys.js';
import { batchJobFailure } from './submit.js';
import type { BatchReport } from '../output/report.js';
import type { BatchFiles } from './files.js';

/**
 * A batch's state as the API tells it: the queue's states, plus `retrying` (done, its rows in error being
 * asked again) and `lost` (accepted, but its record is gone from Redis before it finished: submit it again).
 */
export type ApiBatchState =
  'queued' | 'ingesting' | 'running' | 'paused' | 'finalizing' | 'done' | 'failed' | 'retrying' | 'lost';

export interface BatchProgress {
  readonly state: Exclude<ApiBatchState, 'retrying'>;
  /** The live record in Redis, while it is kept (a day after the batch ends). */
  readonly status: BatchStatus | null;
  readonly finishedAt: string | null;
  readonly failure: string | null;
  /** report.json, once the batch is done. */
  readonly report: BatchReport | null;
}

const IN_FLIGHT = new Set(['queued', 'ingesting', 'running', 'paused', 'finalizing']);

/** Reads where a batch is: Redis while it runs (and a day after), then the files it left. */
export async function batchProgress(
  redis: RedisClient,
  prefix: string,
  dataDir: BatchFiles,
  id: string,
): Promise<BatchProgress> {
  const keys = batchKeys(prefix, id);
  const [status, finishedAt] = await Promise.all([
    readStatus(redis, keys),
    redis.hget(keys.meta, 'finishedAt'),
  ]);
  if (status.state === null) {
    const report = await readReport(dataDir, id);
    return report !== null
      ? { state: 'done', status: null, finishedAt: report.finished_at, failure: null, report }
      : {
          state: 'lost',
          status: null,
          finishedAt: null,
          failure: 'the batch is no longer known to Redis and left no results; submit the file again',
          report: null,
        };
  }
  if (IN_FLIGHT.has(status.state)) {
    // BullMQ can fail a batch job outside reachscan's code (a worker that died too often).
    const jobFailure = await batchJobFailure(redis, prefix, id);
    if (jobFailure !== null) {
      // Finished in between (its job is removed once done): read the record again before saying failed.
      const again = await readStatus(redis, keys);
      if (again.state !== null && IN_FLIGHT.has(again.state)) {
        return { state: 'failed', status, finishedAt: null, failure: jobFailure, report: null };
      }
      return batchProgress(redis, prefix, dataDir, id);
    }
  }
  const report = status.state === 'done' ? await readReport(dataDir, id) : null;
  return {
    state: status.state,
    status,
    finishedAt: finishedAt ?? report?.finished_at ?? null,
    failure: status.failure,
    report,
  };
}

export async function readReport(dataDir: BatchFiles, id: string): Promise<BatchReport | null> {
  try {
    return JSON.parse(await readFile(dataDir.file(id, 'report.json'), 'utf8')) as BatchReport;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}
