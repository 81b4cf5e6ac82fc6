import { setTimeout as sleep } from 'node:timers/promises';
import type { RedisClient } from '../queue/connection.js';
import { ReachscanError } from '../core/errors.js';
import { readStatus, type BatchStatus } from './state.js';
import { batchKeys } from '../queue/keys.js';
import { lostBatchMessage, refusedWritesMessage, writeRefusal } from './redis-trouble.js';
import { batchJobFailure, JOB_GONE } from './submit.js';

/** How long a waiting client tolerates an unreachable Redis (a restart) before it gives up. */
export const REDIS_PATIENCE_MS = 60_000;

export type BatchEnd =
  | { readonly kind: 'finished'; readonly status: BatchStatus }
  /** BullMQ failed the batch job outside reachscan's code (a worker died too often, say); its state is intact. */
  | { readonly kind: 'job-failed'; readonly reason: string }
  /** Redis no longer has the batch (restarted without persistence, flushed, evicted): nothing can resume it. */
  | { readonly kind: 'lost'; readonly message: string }
  /** Redis refuses writes (out of memory, a read-only replica, a failed snapshot): the batch cannot go on. */
  | { readonly kind: 'refused'; readonly message: string }
  | { readonly kind: 'stopped' };

export interface WaitOptions {
  /** Called with every status read (about 4 a second). */
  readonly onStatus?: (status: BatchStatus) => void;
  /** Waiting ends (kind `stopped`) when this aborts; the batch itself goes on. */
  readonly signal?: AbortSignal;
  readonly pollMs?: number;
}

/** Consecutive reads that must find the batch gone, or writes refused, before waiting gives up on it. */
const TROUBLE_READS = 2;

/**
 * Waits until a batch is done or failed, reading its status from Redis; Redis restarts are waited out. A batch
 * Redis no longer has, or a Redis that refuses writes, ends the waiting with what to say.
 */
export async function waitForBatch(
  redis: RedisClient,
  prefix: string,
  batchId: string,
  options: WaitOptions = {},
): Promise<BatchEnd> {
  const keys = batchKeys(prefix, batchId);
  const pollMs = options.pollMs ?? 250;
  let lastSeen = Date.now();
  const trouble = { gone: 0, refused: 0 };
  for (let tick = 0; ; tick++) {
    if (options.signal?.aborted) return { kind: 'stopped' };
    try {
      const status = await readStatus(redis, keys);
      lastSeen = Date.now();
      if (status.state === 'done' || status.state === 'failed') {
        // Seen too: a paused batch that resumed and finished between two reads has resumed all the same.
        options.onStatus?.(status);
        return { kind: 'finished', status };
      }
      trouble.gone = status.state === null ? trouble.gone + 1 : 0;
      if (trouble.gone >= TROUBLE_READS) return { kind: 'lost', message: lostBatchMessage(batchId) };
      // Every 8th read (about 2 s): BullMQ can fail a batch job outside reachscan's code, and Redis may have
      // started refusing the writes the workers need (reads still work then).
      if (tick % 8 === 7) {
        const end = await jobOrWriteTrouble(redis, prefix, batchId, trouble);
        if (end !== null) return end;
      }
      options.onStatus?.(status);
    } catch (error) {
      if (Date.now() - lastSeen > REDIS_PATIENCE_MS) {
        throw new ReachscanError(
          'REDIS_UNAVAILABLE',
          `lost Redis for over ${REDIS_PATIENCE_MS / 1000} s (${(error as Error).message})`,
        );
      }
    }
    await sleep(pollMs, undefined, options.signal ? { signal: options.signal } : {}).catch(() => undefined);
  }
}

async function jobOrWriteTrouble(
  redis: RedisClient,
  prefix: string,
  batchId: string,
  trouble: { refused: number },
): Promise<BatchEnd | null> {
  const refusal = await probeWrites(redis, prefix, batchId);
  trouble.refused = refusal === null ? 0 : trouble.refused + 1;
  if (refusal !== null && trouble.refused >= TROUBLE_READS)
    return { kind: 'refused', message: refusedWritesMessage(batchId, refusal) };
  const failure = await batchJobFailure(redis, prefix, batchId);
  // The job gone while its record says it runs: its chunks and cursor went with it, nothing resumes.
  if (failure === JOB_GONE) return { kind: 'lost', message: lostBatchMessage(batchId) };
  return failure === null ? null : { kind: 'job-failed', reason: failure };
}

/** A tiny write that expires by itself: why Redis refuses it, or null when it takes it. */
async function probeWrites(redis: RedisClient, prefix: string, batchId: string): Promise<string | null> {
  try {
    await redis.set(`${prefix}:probe:${batchId}`, '1', 'PX', 10_000);
    return null;
  } catch (error) {
    const refusal = writeRefusal(error);
    if (refusal === null) throw error;
    return refusal;
  }
}
