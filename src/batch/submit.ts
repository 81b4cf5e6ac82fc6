import type { Hash } from 'node:crypto';
import { Queue } from 'bullmq';
import { masters, type RedisClient } from '../queue/connection.js';
import type { BatchJobData } from '../queue/job-data.js';
import { BATCH_QUEUE, batchKeys, CHUNK_QUEUE, queueOptions } from '../queue/keys.js';
import { startSpending } from './budget.js';

export const BATCH_JOB_OPTIONS = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 2_000, jitter: 0.5 },
  removeOnComplete: true,
  // Kept a day for `scan` to read why, and to resume from; it holds paths and options, no numbers.
  removeOnFail: { age: 24 * 3600 },
} as const;

/** Working data of a batch nobody finishes expires after this long. */
export const ABANDONED_TTL_S = 30 * 24 * 3600;

/** batchJobFailure's answer when the job is not in the queue at all. */
export const JOB_GONE = 'the batch job is gone from the queue';

/** Why a batch job is failed in BullMQ (JOB_GONE when it is not there at all), or null while it is not. */
export async function batchJobFailure(
  redis: RedisClient,
  prefix: string,
  batchId: string,
): Promise<string | null> {
  const queue = new Queue(BATCH_QUEUE, queueOptions(redis, prefix));
  try {
    const job = await queue.getJob(batchId);
    if (!job) return JOB_GONE;
    return (await job.getState()) === 'failed' ? job.failedReason || 'failed' : null;
  } finally {
    await queue.close();
  }
}

/**
 * A batch id derived from the file's bytes (`content`: the SHA-256 state after them, left untouched) and the
 * options that shape the results, so running the same command again finds the batch in flight and resumes it
 * instead of starting over.
 */
export function deriveBatchId(content: Hash, options: Readonly<Record<string, unknown>>): string {
  return content.copy().update(JSON.stringify(options)).digest('hex').slice(0, 24);
}

/**
 * Queues a batch, or joins the one already running for the same id. A finished batch (its outcome still
 * remembered) is started afresh: a rerun later means new answers.
 */
export async function submitBatch(
  redis: RedisClient,
  prefix: string,
  data: BatchJobData,
): Promise<'new' | 'resumed'> {
  const queue = new Queue(BATCH_QUEUE, queueOptions(redis, prefix));
  try {
    const keys = batchKeys(prefix, data.batchId);
    const existing = await queue.getJob(data.batchId);
    if (existing) {
      const state = await existing.getState();
      if (state !== 'completed' && state !== 'failed' && state !== 'unknown') return 'resumed';
      // Failed by BullMQ (stalled too often, say) with its working data intact: go on from its step and cursor.
      // Failed by reachscan (closed, working data dropped) or finished: start over.
      if (
        state === 'failed' &&
        (await redis.hget(keys.meta, 'state')) !== 'failed' &&
        (await redis.exists(keys.meta)) === 1
      ) {
        await existing.retry('failed');
        return 'resumed';
      }
      await existing.remove().catch(() => undefined);
    }
    await redis.del(keys.meta, keys.owners, keys.answers, keys.refused);
    await redis
      .multi()
      .hset(keys.meta, { state: 'queued', outDir: data.outDir, submittedAt: data.submittedAt })
      // An abandoned batch's record does not stay forever.
      .expire(keys.meta, ABANDONED_TTL_S)
      .exec();
    await startSpending(redis, keys, data, ABANDONED_TTL_S);
    await queue.add('batch', data, { ...BATCH_JOB_OPTIONS, jobId: data.batchId });
    return 'new';
  } finally {
    await queue.close();
  }
}

/** Removes every job of both queues and every other key under a prefix (a throwaway run's). */
export async function dropQueues(redis: RedisClient, prefix: string): Promise<void> {
  for (const name of [CHUNK_QUEUE, BATCH_QUEUE]) {
    const queue = new Queue(name, queueOptions(redis, prefix));
    try {
      await queue.obliterate({ force: true });
    } finally {
      await queue.close();
    }
  }
  // Batch keys and the rate gate's; SCAN, not KEYS, so a shared Redis is never blocked (on a cluster, each
  // master holds a share, though this prefix's hash tag puts them all on one).
  for (const node of masters(redis)) {
    for await (const keys of node.scanStream({ match: `${prefix}:*`, count: 500 }) as AsyncIterable<
      string[]
    >) {
      if (keys.length > 0) await redis.del(...keys);
    }
  }
}
