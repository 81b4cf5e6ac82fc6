import { DelayedError, RateLimitError, UnrecoverableError, type Job, type Queue } from 'bullmq';
import { assertChunkJobData, type ChunkJobData } from './job-data.js';

/**
 * What a chunk's lookups came to, for the queue to act on:
 * - `done`: every number has its final answer;
 * - `retry`: some numbers failed in a way worth another attempt (backoff applies, an attempt is used);
 * - `pause`: the carrier said 429: the whole chunk queue waits `ms` and the chunk runs again, no attempt used;
 * - `hand-back`: the chunk goes back to the queue, due in `delayMs`, no attempt used (a paused batch, a
 *   worker shutting down);
 * - `fatal`: the batch cannot go on (the carrier refused our credentials); never retried.
 */
export type ChunkVerdict =
  | { readonly kind: 'done'; readonly answered: number }
  | { readonly kind: 'retry'; readonly reason: string }
  | { readonly kind: 'pause'; readonly ms: number }
  | {
      readonly kind: 'hand-back';
      readonly delayMs: number;
      /**
       * For a paused batch: asked once the job is back in the queue. False (resumed meanwhile, after the resume
       * brought the batch's waiting chunks back) and the job is due at once instead of in `delayMs`.
       */
      readonly stillPaused?: () => Promise<boolean>;
    }
  | { readonly kind: 'fatal'; readonly reason: string };

/** What a lookup needs to know of the job it runs in. */
export interface ChunkAttempt {
  /** True on the job's last attempt: a failure then becomes the row's answer instead of a retry. */
  readonly lastAttempt: boolean;
}

export type ChunkLookup = (data: ChunkJobData, attempt: ChunkAttempt) => Promise<ChunkVerdict>;

/**
 * The chunk queue's processor: checks the job data, runs the lookup and turns its verdict into what BullMQ
 * understands, the way BullMQ's own worker hands outcomes to handleCompleted/handleFailed.
 */
export function createChunkJobProcessor(lookup: ChunkLookup, deps: { chunkQueue: Queue }) {
  return async (job: Job, token?: string): Promise<{ answered: number }> => {
    const data: unknown = job.data;
    assertChunkJobData(data);
    const verdict = await lookup(data, { lastAttempt: job.attemptsMade + 1 >= (job.opts.attempts ?? 1) });
    switch (verdict.kind) {
      case 'done':
        return { answered: verdict.answered };
      case 'retry':
        throw new Error(verdict.reason);
      case 'pause':
        await deps.chunkQueue.rateLimit(verdict.ms);
        throw new RateLimitError();
      case 'hand-back':
        // BullMQ schedules on the wall clock, whatever clock the batch itself is given.
        await job.moveToDelayed(Date.now() + verdict.delayMs, token ?? '');
        if (verdict.stillPaused !== undefined && !(await verdict.stillPaused()))
          await job.promote().catch(() => undefined); // promoted already, or taken again: nothing to do
        throw new DelayedError();
      case 'fatal':
        throw new UnrecoverableError(verdict.reason);
    }
  };
}
