import type { PriceTable } from '../config/prices.js';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Clock } from '../core/clock.js';
import type { HistoryOptions } from '../core/settings.js';
import type { Logger } from '../logging/logger.js';
import { createRedis } from '../queue/connection.js';
import { assertScheduleDefinition, type ScheduleDefinition } from './definition.js';
import { SCHEDULE_QUEUE } from '../queue/keys.js';
import { recordRun } from './runs.js';
import { ScheduledRunError, startScheduledRun, type RunDeps } from './start-run.js';

export interface ScheduleWorkerOptions {
  readonly redisUrl: string;
  /** BullMQ prefix with its hash tag, e.g. `{reachscan}`. */
  readonly prefix: string;
  /** Where this process's batches keep the history (REACHSCAN_STATE_PREFIX …). */
  readonly history: HistoryOptions;
  /** First retry delay of a chunk with transient failures (REACHSCAN_RETRY_BASE_MS), ms. */
  readonly retryBaseMs: number;
  /** REACHSCAN_PRICES (the runs' cost, money budgets). */
  readonly prices?: PriceTable | null;
  /** REACHSCAN_DATA_DIR (runs keep their copies of the source in its `inputs/`), or null: in each run's folder. */
  readonly copyRoot: string | null;
  /** REACHSCAN_WEBHOOK_URL: where runs send their events when the job file names no `webhook`. */
  readonly defaultWebhook?: string | null;
  readonly logger: Logger;
  readonly clock: Clock;
}

export interface ScheduleWorker {
  /** Stops taking ticks, lets the one in hand finish (starting a batch takes a moment), and disconnects. */
  close(): Promise<void>;
}

/** The tick a scheduled job stands for: BullMQ names it `repeat:<scheduler id>:<ms>` (and keeps it in opts). */
export function tickOf(job: Pick<Job, 'id' | 'opts' | 'timestamp'>): number {
  const fromId = /:(\d+)$/.exec(job.id ?? '')?.[1];
  if (fromId !== undefined) return Number(fromId);
  return job.opts.prevMillis ?? job.timestamp;
}

/**
 * Takes the jobs the schedulers of `reachscan schedule sync` produce (one per tick) and starts each tick's
 * batch, which the batch and chunk workers then run. A tick that cannot start (missing source file…) fails its
 * job for good with the reason, logged in one line and kept for `reachscan schedule list`; the worker goes on.
 */
export function startScheduleWorker(options: ScheduleWorkerOptions): ScheduleWorker {
  const { prefix, logger } = options;
  // One connection for BullMQ's blocking calls, one for ours; both wait out a Redis restart.
  const connection = createRedis(options.redisUrl, 'worker');
  const redis = createRedis(options.redisUrl, 'worker');
  const deps: RunDeps = {
    redis,
    prefix,
    history: options.history,
    retryBaseMs: options.retryBaseMs,
    prices: options.prices ?? null,
    copyRoot: options.copyRoot,
    clock: options.clock,
    defaultWebhook: options.defaultWebhook ?? null,
  };

  const worker = new Worker(
    SCHEDULE_QUEUE,
    (job: Job) => runTick(job, deps, logger),
    // One tick at a time is plenty: starting a batch takes milliseconds; the scan itself runs on the batch workers.
    { connection, prefix, concurrency: 1 },
  );
  const onError = (component: string) => (error: Error) =>
    logger.error({ err: error.message, component }, 'schedule worker error');
  connection.on('error', onError('schedule connection'));
  redis.on('error', onError('schedule redis'));
  worker.on('error', onError('schedule worker'));

  let closing: Promise<void> | null = null;
  return {
    close() {
      closing ??= (async () => {
        await worker.close();
        await Promise.all([connection, redis].map((c) => c.quit().catch(() => c.disconnect())));
      })();
      return closing;
    },
  };
}

/** One scheduled job: starts its tick's batch, logs and records what happened, and says whether to retry. */
async function runTick(
  job: Job,
  deps: RunDeps,
  logger: Logger,
): Promise<{ batchId: string; outDir: string }> {
  const definition = readDefinition(job, logger);
  const tick = tickOf(job);
  const log = logger.child({ schedule: definition.id, tick: new Date(tick).toISOString() });
  const record = (fields: { batchId: string | null; outDir: string | null; error: string | null }) =>
    recordRun(deps.redis, deps.prefix, definition.id, {
      tick: new Date(tick).toISOString(),
      at: new Date(deps.clock()).toISOString(),
      ...fields,
    });
  try {
    const started = await startScheduledRun(deps, definition, tick);
    if (started.kind === 'already-started') {
      log.info(
        { batch: started.batchId },
        `scheduled scan ${definition.id}: this tick already started its batch`,
      );
    } else {
      log.info(
        { batch: started.batchId, outDir: started.outDir, how: started.how },
        `scheduled scan ${definition.id} started: batch ${started.batchId} → ${started.outDir}`,
      );
    }
    await record({ batchId: started.batchId, outDir: started.outDir, error: null });
    return { batchId: started.batchId, outDir: started.outDir };
  } catch (error) {
    const message = (error as Error).message;
    const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    if (error instanceof ScheduledRunError || lastAttempt) {
      log.error({ err: message }, `scheduled scan ${definition.id} not started: ${message}`);
      await record({ batchId: null, outDir: null, error: message }).catch(() => undefined);
    } else {
      log.warn(
        { err: message, attempt: job.attemptsMade + 1 },
        `scheduled scan ${definition.id}: will retry`,
      );
    }
    if (error instanceof ScheduledRunError) throw new UnrecoverableError(message);
    throw error;
  }
}

/** The job's definition, or an unrecoverable failure when this worker cannot read it. */
function readDefinition(job: Job, logger: Logger): ScheduleDefinition {
  const data: unknown = job.data;
  try {
    assertScheduleDefinition(data);
  } catch (error) {
    // Written by another reachscan version: its file must be synced again by this one.
    logger.error(
      { job: job.id, err: (error as Error).message },
      `scheduled job ${job.id ?? '?'} cannot be read by this worker; run reachscan schedule sync again`,
    );
    throw new UnrecoverableError((error as Error).message);
  }
  return data;
}
