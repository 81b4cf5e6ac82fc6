import { setTimeout as sleep } from 'node:timers/promises';
import { DelayedError, type Job, type Queue } from 'bullmq';
import type { RedisClient } from './connection.js';
import type { CountryCode } from '../core/e164.js';
import { normalisePhone } from '../input/phone.js';
import { readInput } from '../input/reader.js';
import type { BatchJobData, ChunkJobData } from './job-data.js';
import { ABANDONED_TTL_S } from './submit.js';
import type { BatchKeys } from './keys.js';

/** Chunk jobs queued ahead of the workers before ingest waits (about 50,000 numbers at the default size). */
const MAX_CHUNKS_AHEAD = 200;

/** Chunk job options: retried with exponential backoff and jitter; never leaving the batch stuck. */
export const CHUNK_JOB_OPTIONS = {
  attempts: 5,
  // A chunk that fails for good must not hold the batch: its numbers come out as ERROR_NOT_PROCESSED.
  ignoreDependencyOnFailure: true,
  removeOnComplete: true,
  // A failed chunk's numbers show as ERROR_NOT_PROCESSED; its job (phone numbers) is not kept.
  removeOnFail: true,
} as const;

/**
 * Reads the input and turns it into chunk jobs as it goes (never one huge transaction), each asking for the
 * numbers no earlier chunk asked for. The cursor in the job data is saved after every chunk, so a worker that
 * dies mid-file is replaced by one that resumes where it stopped.
 */
export async function ingest(
  job: Job,
  data: BatchJobData,
  deps: { redis: RedisClient; keys: BatchKeys; chunkQueue: Queue; stopping: AbortSignal; token: string },
): Promise<BatchJobData> {
  const { redis, keys, chunkQueue } = deps;
  const shape = { delimiter: data.delimiter, headers: data.headers, sizeBytes: 0 };
  const country = (data.defaultCountry ?? undefined) as CountryCode | undefined;
  let current = data;
  let numbers = new Set<string>();
  let records = 0;
  let bytesRead = 0;

  const emit = async () => {
    const chunk = current.cursor.chunks;
    const owned = await claim(redis, keys, [...numbers], chunk);
    if (owned.length > 0) {
      const payload: ChunkJobData = {
        batchId: data.batchId,
        chunk,
        numbers: owned,
        provider: data.provider,
        ratePerSecond: data.ratePerSecond,
        history: data.history,
        maxAgeMs: data.maxAgeMs,
        ...(data.breaker !== undefined ? { breaker: data.breaker } : {}),
      };
      await chunkQueue.add('chunk', payload, {
        ...CHUNK_JOB_OPTIONS,
        backoff: { type: 'exponential', delay: data.retryBaseMs, jitter: 0.5 },
        jobId: `${data.batchId}-c${chunk}`,
        parent: { id: job.id as string, queue: job.queueQualifiedName },
      });
    }
    current = { ...current, cursor: { records: current.cursor.records + records, chunks: chunk + 1 } };
    await job.updateData(current);
    await redis.hset(keys.meta, {
      records: current.cursor.records,
      unique: await redis.hlen(keys.owners),
      bytesRead,
    });
    numbers = new Set();
    records = 0;
    // Backpressure: reading far ahead of the workers would only pile numbers up in Redis.
    while ((await chunkQueue.getWaitingCount()) > MAX_CHUNKS_AHEAD && !deps.stopping.aborted)
      await sleep(200);
    if (deps.stopping.aborted) {
      // The cursor is saved: hand the job back without using an attempt; the next worker resumes here.
      await job.moveToDelayed(Date.now(), deps.token);
      throw new DelayedError();
    }
  };

  for await (const item of readInput(data.inputPath, shape, data.displayName)) {
    if (item.kind === 'reject' || item.index < data.cursor.records) continue;
    bytesRead = item.bytes;
    const phone = normalisePhone(item.fields[data.phoneColumn] ?? '', country);
    if (phone.kind === 'valid') numbers.add(phone.e164);
    records++;
    if (records >= data.chunkSize) await emit();
  }
  if (records > 0) await emit();
  await redis.hset(keys.meta, {
    ingested: 1,
    records: current.cursor.records,
    unique: await redis.hlen(keys.owners),
  });
  return current;
}

/**
 * First occurrence wins: HSETNX records which chunk asks for a number. A resumed ingest re-claims its own last
 * chunk, so "already mine" counts as owned.
 */
async function claim(
  redis: RedisClient,
  keys: BatchKeys,
  numbers: readonly string[],
  chunk: number,
): Promise<string[]> {
  if (numbers.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const n of numbers) pipeline.hsetnx(keys.owners, n, String(chunk));
  pipeline.expire(keys.owners, ABANDONED_TTL_S);
  pipeline.expire(keys.answers, ABANDONED_TTL_S);
  const results = (await pipeline.exec()) ?? [];
  const contested = numbers.filter((_, i) => results[i]?.[1] !== 1);
  const owners = contested.length > 0 ? await redis.hmget(keys.owners, ...contested) : [];
  const mine = new Set(contested.filter((_, i) => owners[i] === String(chunk)));
  return numbers.filter((n, i) => results[i]?.[1] === 1 || mine.has(n));
}
