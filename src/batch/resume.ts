import { Queue } from 'bullmq';
import type { RedisClient } from '../queue/connection.js';
import { readStatus, resumeBatch } from './state.js';
import { batchKeys, CHUNK_QUEUE, queueOptions } from '../queue/keys.js';

export type ResumeResult =
  | { readonly kind: 'resumed'; readonly chunks: number; readonly reason: string }
  | { readonly kind: 'not-paused'; readonly state: string }
  | { readonly kind: 'unknown' };

/**
 * Lifts the error-ratio breaker's pause of a batch and brings its waiting chunks back at once (they would
 * otherwise look again only at their next re-check).
 */
export async function resumePausedBatch(
  redis: RedisClient,
  prefix: string,
  batchId: string,
): Promise<ResumeResult> {
  const keys = batchKeys(prefix, batchId);
  const status = await readStatus(redis, keys);
  if (status.state === null) return { kind: 'unknown' };
  if (status.paused === null) return { kind: 'not-paused', state: status.state };
  if (!(await resumeBatch(redis, keys))) return { kind: 'not-paused', state: status.state };
  const queue = new Queue(CHUNK_QUEUE, queueOptions(redis, prefix));
  let chunks = 0;
  try {
    // Chunk job ids are `<batch>-c<n>`; other batches' delayed jobs (a 429 pause, a shutdown) stay as they are.
    // Listed first, promoted after, so paging is not upset by jobs leaving the delayed set.
    const mine = [];
    const pageSize = 1_000;
    for (let start = 0; ; start += pageSize) {
      const page = await queue.getDelayed(start, start + pageSize - 1);
      mine.push(...page.filter((job) => job.id?.startsWith(`${batchId}-c`) === true));
      if (page.length < pageSize) break;
    }
    for (const job of mine) {
      // One taken or promoted meanwhile is fine.
      if (
        await job.promote().then(
          () => true,
          () => false,
        )
      )
        chunks++;
    }
  } finally {
    await queue.close();
  }
  return { kind: 'resumed', chunks, reason: status.paused };
}
