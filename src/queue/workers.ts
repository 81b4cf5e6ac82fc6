import { Queue, Worker } from 'bullmq';
import type { Logger } from '../logging/logger.js';
import { createBatchJobProcessor, type BatchSteps } from './batch-job.js';
import { createChunkJobProcessor, type ChunkLookup } from './chunk-job.js';
import { createRedis, type RedisClient } from './connection.js';
import { BATCH_QUEUE, CHUNK_QUEUE, queueOptions } from './keys.js';

/** What the use case's steps and lookups get from the worker that runs them. */
export interface WorkerContext {
  /** The process's shared connection (auto-pipelined: commands of one tick go out in one write). */
  readonly redis: RedisClient;
  /** Set when the worker is shutting down: jobs in hand stop at their next safe point. */
  readonly stopping: AbortSignal;
  /** Runs `close` when the workers close, before the connection is quit (flushing counters, say). */
  onClose(close: () => Promise<void>): void;
}

export interface QueueWorkerOptions {
  readonly redisUrl: string;
  /** BullMQ prefix with its hash tag, e.g. `{reachscan}`. */
  readonly prefix: string;
  readonly logger: Logger;
  /** Chunk jobs this process holds at once. */
  readonly chunkJobs: number;
  /**
   * How long a job stays locked to this process without renewal: a dead worker's jobs are taken over by
   * another after about 1.5 times this.
   */
  readonly lockMs: number;
  readonly batchSteps: (context: WorkerContext) => BatchSteps;
  readonly chunkLookup: (context: WorkerContext) => ChunkLookup;
}

export interface QueueWorkers {
  /** Stops taking jobs, lets the ones in hand finish (or go back to the queue), and disconnects. */
  close(): Promise<void>;
}

/**
 * One BullMQ worker for batch jobs (ingest, finalize) and one for chunk jobs (lookups), each on its own
 * connection as BullMQ wants for blocking calls, running the steps and lookups they are given.
 */
export function startQueueWorkers(options: QueueWorkerOptions): QueueWorkers {
  const { prefix, logger, lockMs: lockDuration } = options;
  // Stalled jobs are looked for every half lock (30 s by default, BullMQ's own default).
  const stalledInterval = Math.min(30_000, Math.max(500, Math.floor(lockDuration / 2)));
  const redis = createRedis(options.redisUrl, 'worker', { enableAutoPipelining: true });
  // BullMQ defines its ~50 scripts on a connection it is given, and ioredis copies every defined script onto
  // each auto-pipeline it opens (once per tick with commands): on the shared connection that copying was a
  // tenth of a lookup's CPU. BullMQ's queue gets a connection of its own.
  const queueConnection = createRedis(options.redisUrl, 'worker');
  const chunkQueue = new Queue(CHUNK_QUEUE, queueOptions(queueConnection, prefix));
  const stopping = new AbortController();
  const closers: (() => Promise<void>)[] = [];
  const context: WorkerContext = {
    redis,
    stopping: stopping.signal,
    onClose: (close) => closers.push(close),
  };

  // Connections handed to BullMQ stay ours to close.
  const batchConnection = createRedis(options.redisUrl, 'worker');
  const chunkConnection = createRedis(options.redisUrl, 'worker');
  const common = {
    prefix,
    lockDuration,
    stalledInterval,
    // A job taken over again resumes from its saved step, and a chunk asks only its open numbers: BullMQ's
    // default (fail at the second stall) would turn the rest of a chunk whose worker died twice into errors.
    maxStalledCount: 10,
  };
  const batchWorker = new Worker(
    BATCH_QUEUE,
    createBatchJobProcessor(options.batchSteps(context), { chunkQueue }),
    { ...common, connection: batchConnection, concurrency: 2 },
  );
  const chunkWorker = new Worker(
    CHUNK_QUEUE,
    createChunkJobProcessor(options.chunkLookup(context), { chunkQueue }),
    {
      ...common,
      connection: chunkConnection,
      concurrency: options.chunkJobs,
      // BullMQ honours a manual rateLimit() (our 429 pause) only when a limiter is set; this one never binds.
      limiter: { max: 1_000_000, duration: 1_000 },
    },
  );
  // Every Queue, Worker and connection gets an error listener: an unhandled 'error' event would end the process.
  const onError = (component: string) => (error: Error) =>
    logger.error({ err: error.message, component }, 'worker error');
  redis.on('error', onError('redis'));
  queueConnection.on('error', onError('queue connection'));
  batchConnection.on('error', onError('batch connection'));
  chunkConnection.on('error', onError('chunk connection'));
  chunkQueue.on('error', onError('chunk queue'));
  batchWorker.on('error', onError('batch worker'));
  chunkWorker.on('error', onError('chunk worker'));
  // A step's failure (a full disk at finalize, say) is tried again a few times, then fails the batch: each said.
  batchWorker.on('failed', (job, error) => {
    if (job)
      logger.warn({ batch: job.id, attempt: job.attemptsMade, err: error.message }, 'batch attempt failed');
  });
  chunkWorker.on('failed', (job, error) => {
    if (job)
      logger.info({ chunk: job.id, attempt: job.attemptsMade, err: error.message }, 'chunk attempt failed');
  });

  let closing: Promise<void> | null = null;
  return {
    close() {
      closing ??= (async () => {
        // Jobs in hand stop at their next safe point and go back to the queue; then the workers close.
        stopping.abort();
        await Promise.all([batchWorker.close(), chunkWorker.close()]);
        await chunkQueue.close();
        for (const close of closers) await close();
        await Promise.all(
          [redis, queueConnection, batchConnection, chunkConnection].map((c) =>
            c.quit().catch(() => c.disconnect()),
          ),
        );
      })();
      return closing;
    },
  };
}
