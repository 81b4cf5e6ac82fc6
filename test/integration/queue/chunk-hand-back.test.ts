import { randomUUID } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createChunkJobProcessor, type ChunkVerdict } from '../../../src/queue/chunk-job.js';
import type { ChunkJobData } from '../../../src/queue/job-data.js';
import { CHUNK_QUEUE } from '../../../src/queue/keys.js';

const DATA: ChunkJobData = {
  batchId: 'b1',
  chunk: 0,
  numbers: ['+447400123456'],
  provider: 'identity-insights',
  ratePerSecond: 0,
  history: { prefix: '{hb-state}:', retentionDays: 400, buckets: 4 },
  maxAgeMs: 0,
};

/**
 * A chunk of a paused batch goes back to the queue for a minute. `reachscan resume` brings back the chunks
 * waiting then; one that read the pause before the resume and was handed back after it must not sit out its
 * minute. Real BullMQ on a real Redis; the lookup says what a paused batch's chunk says.
 */
describe('a paused batch chunk handed back', () => {
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  async function run(stillPaused: boolean) {
    const prefix = `{hb-${randomUUID()}}`;
    const connection = () => {
      const redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
      closers.push(() => redis.quit());
      return redis;
    };
    const queue = new Queue(CHUNK_QUEUE, { connection: connection(), prefix });
    closers.push(() => queue.close());
    const runs: number[] = [];
    let handBacks = 0;
    const lookup = async (): Promise<ChunkVerdict> => {
      runs.push(Date.now());
      if (handBacks++ > 0) return { kind: 'done', answered: 1 };
      return { kind: 'hand-back', delayMs: 60_000, stillPaused: async () => stillPaused };
    };
    const worker = new Worker(CHUNK_QUEUE, createChunkJobProcessor(lookup, { chunkQueue: queue }), {
      connection: connection(),
      prefix,
    });
    closers.push(() => worker.close());
    const job = await queue.add('chunk', DATA, { jobId: 'b1-c0' });
    return { queue, job, runs };
  }

  it('runs again at once when the batch was resumed meanwhile', async () => {
    const { job, runs } = await run(false);
    await expect.poll(() => runs.length, { timeout: 10_000 }).toBe(2);
    await expect.poll(() => job.getState(), { timeout: 5_000 }).toBe('completed');
    expect((runs[1] as number) - (runs[0] as number)).toBeLessThan(10_000);
  });

  it('waits out its delay while the batch is still paused', async () => {
    const { queue, job, runs } = await run(true);
    await expect.poll(() => runs.length, { timeout: 10_000 }).toBe(1);
    await expect.poll(() => job.getState(), { timeout: 5_000 }).toBe('delayed');
    expect(await queue.getDelayedCount()).toBe(1);
  });
});
