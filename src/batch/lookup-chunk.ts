import { DelayedError, RateLimitError, UnrecoverableError, type Job, type Queue } from 'bullmq';
import type { RedisClient } from '../queue/connection.js';
import type { LimitFunction } from 'p-limit';
import type { Clock } from '../core/clock.js';
import { asE164 } from '../core/e164.js';
import type { LookupFailure } from '../core/errors.js';
import type { Logger } from '../logging/logger.js';
import { cachedAnswer, liveAnswer } from '../history/annotate.js';
import { isFresh, type NumberState } from '../history/number-state.js';
import { StateStore } from '../history/state-store.js';
import { answerFromOutcome, encodeAnswer } from '../core/answer.js';
import type { LookupOutcome } from '../core/lookup-result.js';
import type { ReachabilityProvider } from '../providers/provider.js';
import { abortBatch, pauseBatch, readControl } from './state.js';
import type { BreakerBoard } from './error-breaker.js';
import { DEFAULT_BREAKER, pauseReason, type CallOutcome } from './error-breaker.js';
import { assertChunkJobData } from '../queue/job-data.js';
import { batchKeys, rateKey } from '../queue/keys.js';
import { RateGate } from '../queue/rate-gate.js';

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
  /** This process's error-ratio windows, one per batch. */
  readonly breaker: BreakerBoard;
}

/** After this many 429 pauses one chunk's 429s start to use up attempts, so a storm cannot last forever. */
const MAX_RATE_LIMIT_ROUNDS = 50;
const DEFAULT_PAUSE_MS = 1_000;
/** 429s one number waits out in place before its chunk goes back to the queue (a storm, not a cap). */
const IN_PLACE_429_RETRIES = 3;
/** A paused batch's chunks look again this often; `reachscan resume` brings them back at once. */
export const PAUSED_RECHECK_MS = 60_000;
/** How long a process trusts what it last read of a batch's pause before reading it again. */
const PAUSE_READ_EVERY_MS = 1_000;

/**
 * What a call came to for the error-ratio breaker: null when the carrier answered (a "no such number" is an
 * answer too), else what failed; undefined for calls it does not count.
 */
function breakerOutcome(outcome: LookupOutcome): CallOutcome | undefined {
  if (outcome.kind === 'answered') return outcome.transient ? 'transient insight errors' : null;
  const { failure } = outcome;
  if (failure.retry === 'permanent') return null;
  // 429s have their own handling (pauses, the learned cap), and a 401 stops the batch by itself.
  if (failure.retry !== 'retryable') return undefined;
  return failure.httpStatus !== undefined ? `HTTP ${failure.httpStatus}` : failure.code;
}

/**
 * Asks the carrier about a chunk's numbers. Answers are saved as they come, so a retried chunk asks only what
 * is still open. What happens to a failure is decided by its class: permanent → final answer; retryable →
 * the chunk is retried with backoff (on its last attempt the error becomes the answer); rate-limited → the
 * whole queue pauses for Retry-After without using an attempt; fatal → the batch stops. When too many of
 * the batch's recent calls fail (the error-ratio breaker), the batch pauses until `reachscan resume`.
 */
export function createChunkProcessor(deps: ChunkProcessorDeps) {
  return async (job: Job, token?: string): Promise<{ answered: number }> => {
    const data: unknown = job.data;
    assertChunkJobData(data);
    const keys = batchKeys(deps.prefix, data.batchId);
    const log = deps.logger.child({ batch: data.batchId, chunk: data.chunk });
    const control = await readControl(deps.redis, keys);
    if (control.aborted) return { answered: 0 };
    if (control.paused) return handBack(job, token, PAUSED_RECHECK_MS);
    const breaker = data.breaker ?? DEFAULT_BREAKER;
    // Another process may pause the batch while this chunk runs: look again now and then.
    let pausedHere = false;
    let lastRead = Date.now();
    const isPaused = async (): Promise<boolean> => {
      if (pausedHere) return true;
      if (Date.now() - lastRead >= PAUSE_READ_EVERY_MS) {
        lastRead = Date.now();
        pausedHere = (await readControl(deps.redis, keys)).paused;
      }
      return pausedHere;
    };

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
          if (fatal !== null || pauseMs !== null || deps.stopping.aborted || (await isPaused()))
            return void retryLater++;
          // The rate gate paces every upstream request of the lookup, not just the first.
          const ask = async () => {
            const result = await provider.lookup(asE164(number), { beforeRequest: () => gate.acquire() });
            const counted = breakerOutcome(result);
            const trip =
              counted === undefined
                ? null
                : deps.breaker.record(data.batchId, control.resumes, breaker, counted);
            if (trip !== null && !pausedHere) {
              pausedHere = true;
              const reason = pauseReason(trip, data.batchId);
              if (
                await pauseBatch(
                  deps.redis,
                  keys,
                  reason,
                  control.resumes,
                  new Date(deps.clock()).toISOString(),
                )
              )
                log.warn(
                  { failed: trip.failed, calls: trip.calls, mostly: trip.mostly },
                  'batch paused: too many carrier calls fail',
                );
            }
            return result;
          };
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
          // Paused: a failure is kept open for after the resume, not written down as the row's answer.
          if (pausedHere && (breakerOutcome(outcome) ?? null) !== null) return void retryLater++;
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
    if (pausedHere && retryLater > 0) {
      log.info({ open: retryLater }, 'batch paused: chunk handed back');
      return handBack(job, token, PAUSED_RECHECK_MS);
    }
    if (deps.stopping.aborted && retryLater > 0) {
      // Shutting down: hand the rest back without using an attempt; another worker takes it.
      return handBack(job, token, 0);
    }
    if (retryLater > 0) {
      await deps.redis.hincrby(keys.meta, 'retries', 1);
      throw new Error(`${retryLater} of ${open.length} numbers to retry`);
    }
    return { answered: saved + fresh.length };
  };
}

/** Puts a chunk back in the queue, due after `delayMs`, without using one of its attempts. */
async function handBack(job: Job, token: string | undefined, delayMs: number): Promise<never> {
  await job.moveToDelayed(Date.now() + delayMs, token ?? '');
  throw new DelayedError();
}
