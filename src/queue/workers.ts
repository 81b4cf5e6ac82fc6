import { Queue, Worker } from 'bullmq';
import pLimit from 'p-limit';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../logging/logger.js';
import { UpstreamMetricsRecorder } from '../metrics/upstream-recorder.js';
import type { UpstreamObserver } from '../providers/http/transport.js';
import type { ReachabilityProvider } from '../providers/provider.js';
import { createBatchProcessor } from '../batch/finalize.js';
import { createChunkProcessor } from '../batch/lookup-chunk.js';
import { createRedis } from './connection.js';
import { BreakerBoard } from '../batch/error-breaker.js';
import { BATCH_QUEUE, CHUNK_QUEUE, queueOptions } from './keys.js';

export interface WorkerOptions {
  readonly redisUrl: string;
  /** BullMQ prefix with its hash tag, e.g. `{reachscan}`. */
  readonly prefix: string;
  /** Upstream lookups in flight in this process. */
  readonly concurrency: number;
  /** The provider for a batch's provider name; built once per process, from this process's credentials. */
  readonly provider: (name: string) => ReachabilityProvider;
  readonly logger: Logger;
  readonly clock: Clock;
  /**
   * How long a job stays locked to this process without renewal (REACHSCAN_JOB_LOCK_MS): a dead worker's jobs
   * are taken over by another after about 1.5 times this. Default 60 s.
   */
  readonly lockMs?: number;
}

/** Default job lock; renewed every half of it, so only a worker stuck that long loses its jobs. */
export const DEFAULT_JOB_LOCK_MS = 60_000;

export interface Workers {
  /** Stops taking jobs, lets the ones in hand finish (or go back to the queue), and disconnects. */
  close(): Promise<void>;
  /** Counts upstream requests for `/metrics` (in Redis, with every other worker's): give it to the providers. */
  readonly observeUpstream: UpstreamObserver;
}

/**
 * A reachscan worker: one BullMQ worker for batch jobs (ingest, finalize) and one for chunk jobs (lookups),
 * each on its own connection as BullMQ wants for blocking calls.
 */
export function startWorkers(options: WorkerOptions): Workers {
  const { prefix, logger, clock } = options;
  const lockDuration = options.lockMs ?? DEFAULT_JOB_LOCK_MS;
  // Stalled jobs are looked for every half lock (30 s by default, BullMQ's own default).
  const stalledInterval = Math.min(30_000, Math.max(500, Math.floor(lockDuration / 2)));
  // Commands issued in the same tick (answers saved, gate slots taken by many lookups) go out in one write.
  const redis = createRedis(options.redisUrl, 'worker', { enableAutoPipelining: true });
  const chunkQueue = new Queue(CHUNK_QUEUE, queueOptions(redis, prefix));
  const limit = pLimit(options.concurrency);
  const stopping = new AbortController();
  const upstreamMetrics = new UpstreamMetricsRecorder({ redis, prefix, logger });

  // Connections handed to BullMQ stay ours to close.
  const batchConnection = createRedis(options.redisUrl, 'worker');
  const chunkConnection = createRedis(options.redisUrl, 'worker');
  const batchWorker = new Worker(
    BATCH_QUEUE,
    createBatchProcessor({ redis, prefix, chunkQueue, logger, clock, stopping: stopping.signal }),
    // A batch job whose worker died is taken over (from its saved step and cursor) rather than failed.
    {
      connection: batchConnection,
      prefix,
      concurrency: 2,
      lockDuration,
      stalledInterval,
      maxStalledCount: 10,
    },
  );
  const chunkWorker = new Worker(
    CHUNK_QUEUE,
    createChunkProcessor({
      redis,
      prefix,
      chunkQueue,
      provider: options.provider,
      limit,
      logger,
      clock,
      stopping: stopping.signal,
      breaker: new BreakerBoard(),
    }),
    {
      connection: chunkConnection,
      prefix,
      // Enough chunks in hand to keep `concurrency` lookups busy while a chunk's tail finishes.
      concurrency: Math.max(2, Math.ceil(options.concurrency / 64) + 1),
      // BullMQ honours a manual rateLimit() (our 429 pause) only when a limiter is set; this one never binds.
      limiter: { max: 1_000_000, duration: 1_000 },
      lockDuration,
      stalledInterval,
      // A chunk taken over again asks only its open numbers: BullMQ's default (fail at the second stall)
      // would turn the rest of a chunk whose worker died twice into rows in error.
      maxStalledCount: 10,
    },
  );
  // Every Queue, Worker and connection gets an error listener: an unhandled 'error' event would end the process.
  const onError = (component: string) => (error: Error) =>
    logger.error({ err: error.message, component }, 'worker error');
  redis.on('error', onError('redis'));
  batchConnection.on('error', onError('batch connection'));
  chunkConnection.on('error', onError('chunk connection'));
  chunkQueue.on('error', onError('chunk queue'));
  batchWorker.on('error', onError('batch worker'));
  chunkWorker.on('error', onError('chunk worker'));
  chunkWorker.on('failed', (job, error) => {
    if (job)
      logger.info({ chunk: job.id, attempt: job.attemptsMade, err: error.message }, 'chunk attempt failed');
  });

  let closing: Promise<void> | null = null;
  return {
    observeUpstream: upstreamMetrics.observe,
    close() {
      closing ??= (async () => {
        // Jobs in hand stop at their next safe point and go back to the queue; then the workers close.
        stopping.abort();
        await Promise.all([batchWorker.close(), chunkWorker.close()]);
        await chunkQueue.close();
        await upstreamMetrics.close();
        await Promise.all(
          [redis, batchConnection, chunkConnection].map((c) => c.quit().catch(() => c.disconnect())),
        );
      })();
      return closing;
    },
  };
}
