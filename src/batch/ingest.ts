import { setTimeout as sleep } from 'node:timers/promises';
import { DelayedError, type Job, type Queue } from 'bullmq';
import type { RedisClient } from '../queue/connection.js';
import type { CountryCode } from '../core/e164.js';
import { normalisePhone } from '../input/phone.js';
import { readInput } from '../input/reader.js';
import type { BatchJobData, ChunkJobData } from '../queue/job-data.js';
import { ABANDONED_TTL_S } from './submit.js';
import type { BatchKeys } from '../queue/keys.js';

/** Chunk jobs queued ahead of the workers before ingest waits (about 50,000 numbers at the default size). */
const MAX_CHUNKS_AHEAD = 200;
/** How often (in chunks) ingest looks at the waiting count: often enough to hold it near the limit. */
const BACKPRESSURE_EVERY = 10;

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

  /** Claims a chunk's numbers, queues its job, then saves the cursor past it (in that order: see resume). */
  const emit = async (chunkNumbers: readonly string[], chunkRecords: number, chunkBytes: number) => {
    const chunk = current.cursor.chunks;
    const cursor = { records: current.cursor.records + chunkRecords, chunks: chunk + 1 };
    const owned = await claim(redis, keys, chunkNumbers, chunk, {
      records: cursor.records,
      bytesRead: chunkBytes,
    });
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
    current = { ...current, cursor };
    await job.updateData(current);
    // Backpressure: reading far ahead of the workers would only pile numbers up in Redis.
    if (chunk % BACKPRESSURE_EVERY === 0)
      while ((await chunkQueue.getWaitingCount()) > MAX_CHUNKS_AHEAD && !deps.stopping.aborted)
        await sleep(200);
    if (deps.stopping.aborted) {
      // The cursor is saved: hand the job back without using an attempt; the next worker resumes here.
      await job.moveToDelayed(Date.now(), deps.token);
      throw new DelayedError();
    }
  };

  // One chunk's Redis work runs while the next chunk is read and normalised: the round trips cost no reading
  // time. Chunks are still emitted one at a time and in order, so claims and cursor stay exact.
  let emitting: Promise<void> = Promise.resolve();
  const handOver = async () => {
    const [chunkNumbers, chunkRecords, chunkBytes] = [[...numbers], records, bytesRead];
    numbers = new Set();
    records = 0;
    await emitting;
    emitting = emit(chunkNumbers, chunkRecords, chunkBytes);
    // Not an unhandled rejection meanwhile: the next handOver (or the end of the file) awaits it and throws.
    emitting.catch(() => undefined);
  };

  try {
    for await (const item of readInput(data.inputPath, shape, data.displayName)) {
      if (item.kind === 'reject' || item.index < data.cursor.records) continue;
      bytesRead = item.bytes;
      const phone = normalisePhone(item.fields[data.phoneColumn] ?? '', country);
      if (phone.kind === 'valid') numbers.add(phone.e164);
      records++;
      if (records >= data.chunkSize) await handOver();
      // A turn of the event loop now and then: records parsed from one file read are all handed over in
      // microtasks, so without it the Redis replies an emit waits for would be read only once per file read.
      else if (records % 50 === 0) await new Promise(setImmediate);
    }
    if (records > 0) await handOver();
  } finally {
    // Never leave an emit running behind a failed read: the batch may be closed as failed next.
    await emitting.catch(() => undefined);
  }
  await emitting;
  await redis.hset(keys.meta, {
    ingested: 1,
    records: current.cursor.records,
    unique: await redis.hlen(keys.owners),
  });
  return current;
}

/**
 * First occurrence wins: HSETNX records which chunk asks for a number. A resumed ingest re-claims its own last
 * chunk, so "already mine" counts as owned. One script call per chunk, which also keeps the meta's progress.
 */
async function claim(
  redis: RedisClient,
  keys: BatchKeys,
  numbers: readonly string[],
  chunk: number,
  progress: { records: number; bytesRead: number },
): Promise<string[]> {
  if (!('reachscanClaimChunk' in redis))
    redis.defineCommand('reachscanClaimChunk', { numberOfKeys: 3, lua: CLAIM_CHUNK });
  // The numbers go as one argument and come back as one flag string: 250 arguments and replies each cost
  // more to encode and decode than the claims take in Redis.
  const flags = await (redis as unknown as ClaimCommands).reachscanClaimChunk(
    keys.owners,
    keys.answers,
    keys.meta,
    String(chunk),
    String(ABANDONED_TTL_S),
    String(progress.records),
    String(progress.bytesRead),
    numbers.join(' '),
  );
  return numbers.filter((_, i) => flags.charCodeAt(i) === 49 /* '1' */);
}

interface ClaimCommands {
  reachscanClaimChunk(...args: string[]): Promise<string>;
}

/**
 * KEYS: owners, answers, meta. ARGV: chunk, ttl (s), records read, bytes read, the chunk's numbers separated by
 * spaces. Returns one character per number: '1' when this chunk owns it, '0' when an earlier chunk does.
 */
const CLAIM_CHUNK = `
local owners, chunk = KEYS[1], ARGV[1]
local flags = {}
for n in string.gmatch(ARGV[5], '%S+') do
  if redis.call('HSETNX', owners, n, chunk) == 1 or redis.call('HGET', owners, n) == chunk then
    flags[#flags + 1] = '1'
  else
    flags[#flags + 1] = '0'
  end
end
redis.call('EXPIRE', owners, ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
redis.call('HSET', KEYS[3], 'records', ARGV[3], 'unique', redis.call('HLEN', owners), 'bytesRead', ARGV[4])
return table.concat(flags)
`;
