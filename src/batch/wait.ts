import { setTimeout as sleep } from 'node:timers/promises';
import type { RedisClient } from '../queue/connection.js';
import { ReachscanError } from '../core/errors.js';
import { readStatus, type BatchStatus } from './state.js';
import { batchKeys } from '../queue/keys.js';
import { batchJobFailure } from './submit.js';

/** How long a waiting client tolerates an unreachable Redis (a restart) before it gives up. */
export const REDIS_PATIENCE_MS = 60_000;

export type BatchEnd =
  | { readonly kind: 'finished'; readonly status: BatchStatus }
  /** BullMQ failed the batch job outside reachscan's code (a worker died too often, say). */
  | { readonly kind: 'job-failed'; readonly reason: string }
  | { readonly kind: 'stopped' };

export interface WaitOptions {
  /** Called with every status read (about 4 a second). */
  readonly onStatus?: (status: BatchStatus) => void;
  /** Waiting ends (kind `stopped`) when this aborts; the batch itself goes on. */
  readonly signal?: AbortSignal;
  readonly pollMs?: number;
}

/** Waits until a batch is done or failed, reading its status from Redis; Redis restarts are waited out. */
export async function waitForBatch(
  redis: RedisClient,
  prefix: string,
  batchId: string,
  options: WaitOptions = {},
): Promise<BatchEnd> {
  const keys = batchKeys(prefix, batchId);
  const pollMs = options.pollMs ?? 250;
  let lastSeen = Date.now();
  for (let tick = 0; ; tick++) {
    if (options.signal?.aborted) return { kind: 'stopped' };
    try {
      const status = await readStatus(redis, keys);
      lastSeen = Date.now();
      if (status.state === 'done' || status.state === 'failed') return { kind: 'finished', status };
      // Every 8th read: BullMQ can fail a batch job outside reachscan's code.
      if (tick % 8 === 7) {
        const failure = await batchJobFailure(redis, prefix, batchId);
        if (failure !== null) return { kind: 'job-failed', reason: failure };
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
