import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ingest } from '../../../src/batch/ingest.js';
import { batchJobHandle, type BatchJobHandle } from '../../../src/queue/batch-job.js';
import type { BatchJobData } from '../../../src/queue/job-data.js';
import { BATCH_QUEUE, batchKeys, CHUNK_QUEUE } from '../../../src/queue/keys.js';

/** A CSV of `rows` records whose numbers repeat every `distinct` rows. */
function csv(rows: number, distinct: number): string {
  const lines = ['id,phone'];
  for (let i = 0; i < rows; i++) lines.push(`${i},+447911${String(i % distinct).padStart(6, '0')}`);
  return `${lines.join('\n')}\n`;
}

describe('ingest flushes', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
  });
  afterAll(() => redis.quit());

  it('claims, queues and saves several chunks per round trip when Redis is the slower side, each number asked once', async () => {
    const prefix = `{ingest-${randomUUID()}}`;
    const dir = mkdtempSync(join(tmpdir(), 'reachscan-ingest-'));
    const inputPath = join(dir, 'in.csv');
    writeFileSync(inputPath, csv(5_000, 3_000));
    const batchQueue = new Queue(BATCH_QUEUE, { connection: redis, prefix });
    const chunkQueue = new Queue(CHUNK_QUEUE, { connection: redis, prefix });
    const data: BatchJobData = {
      batchId: 'b1',
      inputPath,
      displayName: 'in.csv',
      outDir: join(dir, 'out'),
      provider: 'identity-insights',
      delimiter: ',',
      headers: ['id', 'phone'],
      phoneColumn: 1,
      defaultCountry: null,
      chunkSize: 100,
      staleDays: 60,
      ratePerSecond: 0,
      history: { prefix: `${prefix}-state:`, retentionDays: 400 },
      maxAgeMs: 0,
      formulaGuard: true,
      bom: false,
      retryBaseMs: 1000,
      submittedAt: new Date().toISOString(),
      step: 'ingest',
      cursor: { records: 0, chunks: 0 },
    };
    await batchQueue.add('batch', data, { jobId: data.batchId });
    const real = batchJobHandle((await Job.fromId(batchQueue, data.batchId)) as Job, '', chunkQueue);
    // The real handle, its saves slowed down as a distant Redis would be: chunks read meanwhile pile up.
    const flushes: number[] = [];
    const saved: number[] = [];
    const job: BatchJobHandle = {
      ...real,
      addChunks: (chunks, retryBaseMs) => {
        flushes.push(chunks.length);
        return real.addChunks(chunks, retryBaseMs);
      },
      save: async (next) => {
        saved.push(next.cursor.chunks);
        await new Promise((resolve) => setTimeout(resolve, 15));
        await real.save(next);
      },
    };
    const keys = batchKeys(prefix, data.batchId);
    const done = await ingest(data, { redis, keys, job, stopping: new AbortController().signal });

    expect(done.cursor).toEqual({ records: 5_000, chunks: 50 });
    // The first chunk goes alone (workers start at once); later flushes carry several, at most 8.
    expect(flushes[0]).toBe(1);
    expect(flushes.length).toBeLessThan(20);
    expect(Math.max(...flushes)).toBeLessThanOrEqual(8);
    expect(saved.at(-1)).toBe(50);
    // Chunks 0..29 own the 3,000 numbers; the 20 chunks after repeat them and queue no job.
    const jobs = await chunkQueue.getJobs(['waiting'], 0, -1);
    expect(jobs.map((j) => j.id).sort()).toEqual(Array.from({ length: 30 }, (_, i) => `b1-c${i}`).sort());
    const asked = jobs.flatMap((j) => (j.data as { numbers: string[] }).numbers);
    expect(new Set(asked).size).toBe(3_000);
    expect(asked).toHaveLength(3_000);
    expect(await redis.hget(keys.meta, 'records')).toBe('5000');
    await Promise.all([batchQueue.obliterate({ force: true }), chunkQueue.obliterate({ force: true })]);
    await Promise.all([batchQueue.close(), chunkQueue.close()]);
  });
});
