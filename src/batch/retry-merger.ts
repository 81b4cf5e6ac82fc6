import type { Clock } from '../core/clock.js';
import type { Logger } from '../logging/logger.js';
import type { RedisClient } from '../queue/connection.js';
import { defineScript } from '../queue/scripts.js';
import { batchProgress } from './progress.js';
import type { BatchFiles, BatchRecord } from './files.js';
import { mergeRetry, RetryMismatchError } from './retry.js';
import { labelTrend } from './run-trend.js';

export interface RetryMergerDeps {
  readonly redis: RedisClient;
  readonly prefix: string;
  readonly dataDir: BatchFiles;
  readonly logger: Logger;
  readonly clock: Clock;
  /** How often retries in flight are looked at, in ms. Default 1,000. */
  readonly everyMs?: number;
}

/** Batches whose retry is in flight, in Redis so that any API process (and the next one) merges them. */
export const pendingRetriesKey = (prefix: string) => `${prefix}:api:retries`;
const lockKey = (prefix: string, id: string) => `${prefix}:api:retry-lock:${id}`;
/** Longer than any merge of a large file; a crashed merger's lock just expires. */
const LOCK_MS = 10 * 60_000;

/** KEYS: the lock. ARGV: its owner. Deletes the lock only when this process still holds it. */
const releaseLock = defineScript<number>({
  name: 'reachscanReleaseLock',
  lua: `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`,
});

/**
 * Merges each retry into its batch as soon as the retry is done, without anyone asking: a loop in every API
 * process looks at the retries in flight about once a second. One process merges a batch at a time (a lock in
 * Redis), and merging is idempotent (rows are replaced by position), so a merge cut short is simply done again.
 */
export class RetryMerger {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  private readonly owner = `${process.pid}-${Math.random().toString(36).slice(2)}`;

  constructor(private readonly deps: RetryMergerDeps) {}

  start(): void {
    this.timer ??= setInterval(() => {
      this.running = this.running.then(() => this.tick());
    }, this.deps.everyMs ?? 1_000);
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Follows the retry of this batch until it is merged (or failed). */
  async watch(batchId: string): Promise<void> {
    await this.deps.redis.sadd(pendingRetriesKey(this.deps.prefix), batchId);
  }

  /** One look at every retry in flight; errors are logged, and the next tick tries again. */
  async tick(): Promise<void> {
    try {
      const ids = await this.deps.redis.smembers(pendingRetriesKey(this.deps.prefix));
      for (const id of ids) await this.settle(id);
    } catch (error) {
      this.deps.logger.warn({ err: (error as Error).message }, 'retry merger: Redis not answering');
    }
  }

  private async settle(id: string): Promise<void> {
    const { redis, prefix, dataDir, logger } = this.deps;
    const lock = lockKey(prefix, id);
    if ((await redis.set(lock, this.owner, 'PX', LOCK_MS, 'NX')) !== 'OK') return;
    try {
      const record = await dataDir.readRecord(id);
      const retry = record?.retry ?? null;
      if (record === null || retry === null || retry.state !== 'running') {
        await redis.srem(pendingRetriesKey(prefix), id);
        return;
      }
      const progress = await batchProgress(redis, prefix, dataDir, retry.id);
      if (progress.state === 'done') {
        const finishedAt = new Date(this.deps.clock()).toISOString();
        // The merged figures replace the run's entry in its label's trend (same batch, same start).
        const report = await mergeRetry(dataDir, record, retry.id, finishedAt, labelTrend(redis, record.job));
        await this.update(record, { ...retry, state: 'merged', mergedAt: finishedAt });
        logger.info(
          {
            batch: id,
            retry: retry.id,
            lookupsFailed: report.lookups_failed,
            rowsInError: report.rows_in_error,
          },
          'retry merged',
        );
      } else if (progress.state === 'failed' || progress.state === 'lost') {
        await this.update(record, {
          ...retry,
          state: 'failed',
          failure: progress.failure ?? 'the retry failed',
        });
        logger.warn(
          { batch: id, retry: retry.id, failure: progress.failure },
          'retry failed; results unchanged',
        );
      } else {
        return;
      }
      await redis.srem(pendingRetriesKey(prefix), id);
    } catch (error) {
      if (error instanceof RetryMismatchError) {
        // Nothing to gain from trying again: the batch keeps its results as they were.
        const record = await dataDir.readRecord(id);
        if (record?.retry)
          await this.update(record, { ...record.retry, state: 'failed', failure: error.message });
        await redis.srem(pendingRetriesKey(prefix), id);
      }
      logger.error({ batch: id, err: (error as Error).message }, 'retry merge failed');
    } finally {
      await releaseLock(redis, [lock], [this.owner]).catch(() => undefined);
    }
  }

  private async update(record: BatchRecord, retry: NonNullable<BatchRecord['retry']>): Promise<void> {
    await this.deps.dataDir.writeRecord({ ...record, retry });
  }
}
