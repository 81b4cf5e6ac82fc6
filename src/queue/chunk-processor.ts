import { DelayedError, RateLimitError, UnrecoverableError, type Job, type Queue } from 'bullmq';
import type { RedisClient } from './connection.js';
import type { LimitFunction } from 'p-limit';
import type { Clock } from '../core/clock.js';
import { asE164 } from '../core/e164.js';
import type { LookupFailure } from '../core/errors.js';
import type { Logger } from '../logging/logger.js';
import { cachedAnswer, liveAnswer } from '../history/annotate.js';
import { isFresh, type NumberState } from '../history/number-state.js';
import { StateStore } from '../history/state-store.js';
import { answerFromOutcome, encodeAnswer } from '../output/answer.js';
import type { ReachabilityProvider } from '../providers/provider.js';
import { abortBatch, isAborted } from './batch-state.js';
import { assertChunkJobData } from './job-data.js';
import { batchKeys, rateKey } from './keys.js';
import { RateGate } from './rate-gate.js';

export interface ChunkProcessorDeps {
  readonly redis: RedisClient;
  readonly prefix: string;
  readonly chunkQueue: Queue;
  readonly provider: (name: string) => ReachabilityProvider;
  /** Lookups in flight in this process, across all chunks. */
  readonly limit: LimitFunction;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Set when the worker is shutting down: no new calls, unfinished work goes back to the queue. */
  readonly stopping: AbortSignal;
}

/** After this many 429 pauses one chunk's 429s start to use up attempts, so a storm cannot last forever. */
const MAX_RATE_LIMIT_ROUNDS = 50;
const DEFAULT_PAUSE_MS = 1_000;
/** 429s one number waits out in place before its chunk goes back to the queue (a storm, not a cap). */
const IN_PLACE_429_RETRIES = 3;

/**
 * Asks the carrier about a chunk's numbers. Answers are saved as they come, so a retried chunk asks only what
 * is still open. What happens to a failure is decided by its class: permanent → final answer; retryable →
 * the chunk is retried with backoff (on its last attempt the error becomes the answer); rate-limited → the
 * whole queue pauses for Retry-After without using an attempt; fatal → the batch stops.
 */
export function createChunkProcessor(deps: ChunkProcessorDeps) {
  return async (job: Job, token?: string): Promise<{ answered: number }> => {
    const data: unknown = job.data;
    assertChunkJobData(data);
    const keys = batchKeys(deps.prefix, data.batchId);
    const log = deps.logger.child({ batch: data.batchId, chunk: data.chunk });
    if (await isAborted(deps.redis, keys)) return { answered: 0 };

    const known = data.numbers.length > 0 ? await deps.redis.hmget(keys.answers, ...data.numbers) : [];
    const unanswered = data.numbers.filter((_, i) => known[i] === null);
    // The history: each number's previous state, and answers fresh enough (--max-age) to save a call.
    const history = new StateStore(deps.redis, data.history);
    const previous = await history.read(unanswered, deps.clock());
    const fresh = unanswered.filter((n) => {
      const state = previous.get(n);
      return state !== undefined && isFresh(state, data.provider, deps.clock(), data.maxAgeMs);
    });
    if (fresh.length > 0) {
      const entries = fresh.map((n) => [n, encodeAnswer(cachedAnswer(previous.get(n) as NumberState))]);
      await deps.redis.hset(keys.answers, Object.fromEntries(entries) as Record<string, string>);
    }
    const cachedSet = new Set(fresh);
    const open = unanswered.filter((n) => !cachedSet.has(n));
    const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const provider = deps.provider(data.provider);
    const gate = new RateGate(deps.redis, rateKey(deps.prefix), data.ratePerSecond);
    const roundsSoFar = Number((await deps.redis.hget(keys.meta, `rateLimited:${data.chunk}`)) ?? 0);
    const mayPause = roundsSoFar < MAX_RATE_LIMIT_ROUNDS;

    let saved = 0;
    let retryLater = 0;
    let pausedInPlace = 0;
    let pauseMs: number | null = null;
    let fatal: LookupFailure | null = null;

    await Promise.all(
      open.map((number) =>
        deps.limit(async () => {
          if (fatal !== null || pauseMs !== null || deps.stopping.aborted) return void retryLater++;
          // The rate gate paces every upstream request of the lookup, not just the first.
          const ask = () => provider.lookup(asE164(number), { beforeRequest: () => gate.acquire() });
          let outcome = await ask();
          // A 429: everyone waits out Retry-After at the shared gate, then this number is asked again in
          // place; handing the chunk back to the queue would cost far more than the pause itself.
          for (
            let round = 0;
            round < IN_PLACE_429_RETRIES &&
            outcome.kind === 'failed' &&
            outcome.failure.retry === 'rate-limited' &&
            !deps.stopping.aborted;
            round++
          ) {
            await gate.pause(outcome.failure.retryAfterMs ?? DEFAULT_PAUSE_MS);
            pausedInPlace++;
            outcome = await ask();
          }
          if (outcome.kind === 'failed') {
            const { failure } = outcome;
            if (failure.retry === 'fatal') {
              fatal ??= failure;
              return;
            }
            if (failure.retry === 'rate-limited' && mayPause) {
              const wait = failure.retryAfterMs ?? DEFAULT_PAUSE_MS;
              pauseMs = Math.max(pauseMs ?? 0, wait);
              await gate.pause(wait);
              retryLater++;
              return;
            }
            if ((failure.retry === 'retryable' || failure.retry === 'rate-limited') && !lastAttempt) {
              return void retryLater++;
            }
          } else if (outcome.transient && !lastAttempt) {
            return void retryLater++;
          }
          // Saved at once: a worker that dies mid-chunk loses no answer it has paid for.
          const checkedAt = deps.clock();
          const carrier = answerFromOutcome(outcome, new Date(checkedAt).toISOString());
          const entry = liveAnswer(carrier, previous.get(number) ?? null, data.provider, checkedAt);
          await deps.redis.hset(keys.answers, number, encodeAnswer(entry));
          saved++;
        }),
      ),
    );

    if (pausedInPlace > 0) await deps.redis.hincrby(keys.meta, 'pauses', pausedInPlace);
    if (fatal !== null) {
      const failure: LookupFailure = fatal;
      await abortBatch(deps.redis, keys, `the carrier refused our credentials (${failure.detail})`);
      log.error({ failure }, 'batch stopped: credentials refused');
      throw new UnrecoverableError(failure.detail);
    }
    if (pauseMs !== null) {
      const rounds = await deps.redis.hincrby(keys.meta, `rateLimited:${data.chunk}`, 1);
      await deps.redis.hincrby(keys.meta, 'pauses', 1);
      log.info({ pauseMs, rounds }, 'carrier rate limit: pausing the queue');
      await deps.chunkQueue.rateLimit(pauseMs);
      throw new RateLimitError();
    }
    if (deps.stopping.aborted && retryLater > 0) {
      // Shutting down: hand the rest back without using an attempt; another worker takes it.
      await job.moveToDelayed(Date.now(), token ?? '');
      throw new DelayedError();
    }
    if (retryLater > 0) {
      await deps.redis.hincrby(keys.meta, 'retries', 1);
      throw new Error(`${retryLater} of ${open.length} numbers to retry`);
    }
    return { answered: saved + fresh.length };
  };
}
