import { setTimeout as sleep } from 'node:timers/promises';
import type { CountryCode } from '../core/e164.js';
import { readNumberedBatches, recordGroups, validNumbers } from '../input/batch-records.js';
import type { BatchJobHandle } from '../queue/batch-job.js';
import type { RedisClient } from '../queue/connection.js';
import type { BatchJobData, ChunkJobData } from '../queue/job-data.js';
import type { BatchKeys } from '../queue/keys.js';
import { defineScript } from '../queue/scripts.js';
import { ABANDONED_TTL_S } from './submit.js';

/** Chunk jobs queued ahead of the workers before ingest waits (about 50,000 numbers at the default size). */
const MAX_CHUNKS_AHEAD = 200;
/** How often (in chunks) ingest looks at the waiting count: often enough to hold it near the limit. */
const BACKPRESSURE_EVERY = 10;

export interface IngestDeps {
  readonly redis: RedisClient;
  readonly keys: BatchKeys;
  readonly job: BatchJobHandle;
  /** Set when the worker is shutting down: ingest saves its cursor and hands the job back. */
  readonly stopping: AbortSignal;
}

/**
 * Reads the input and turns it into chunk jobs as it goes (never one huge transaction), each asking for the
 * numbers no earlier chunk asked for. The cursor in the job data is saved after every chunk, so a worker that
 * dies mid-file is replaced by one that resumes where it stopped.
 */
export async function ingest(data: BatchJobData, deps: IngestDeps): Promise<BatchJobData> {
  const { redis, keys } = deps;
  const source = {
    path: data.inputPath,
    shape: { delimiter: data.delimiter, headers: data.headers, sizeBytes: 0 },
    displayName: data.displayName,
    phoneColumn: data.phoneColumn,
    defaultCountry: (data.defaultCountry ?? undefined) as CountryCode | undefined,
  };
  let current = data;

  /** Claims a chunk's numbers, queues its job, then saves the cursor past it (in that order: see resume). */
  const emit = async (chunkNumbers: readonly string[], chunkRecords: number, chunkBytes: number) => {
    const chunk = current.cursor.chunks;
    const cursor = { records: current.cursor.records + chunkRecords, chunks: chunk + 1 };
    const owned = await claim(redis, keys, chunkNumbers, chunk, {
      records: cursor.records,
      bytesRead: chunkBytes,
    });
    if (owned.length > 0) await deps.job.addChunk(chunkJob(data, chunk, owned), data.retryBaseMs);
    current = { ...current, cursor };
    await deps.job.save(current);
    await holdBack(chunk, deps);
  };

  // One chunk's Redis work runs while the next chunk is read and normalised: the round trips cost no reading
  // time. Chunks are still emitted one at a time and in order, so claims and cursor stay exact.
  let emitting: Promise<void> = Promise.resolve();
  try {
    for await (const group of recordGroups(
      readNumberedBatches(source, data.cursor.records),
      data.chunkSize,
    )) {
      await emitting;
      emitting = emit(validNumbers(group), group.length, group.at(-1)?.bytes ?? 0);
      // Not an unhandled rejection meanwhile: the next group (or the end of the file) awaits it and throws.
      emitting.catch(() => undefined);
    }
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

/** The chunk job that asks `numbers` for a batch. */
export function chunkJob(data: BatchJobData, chunk: number, numbers: string[]): ChunkJobData {
  return {
    batchId: data.batchId,
    chunk,
    numbers,
    provider: data.provider,
    ratePerSecond: data.ratePerSecond,
    history: data.history,
    maxAgeMs: data.maxAgeMs,
    ...(data.breaker !== undefined ? { breaker: data.breaker } : {}),
  };
}

/**
 * Backpressure: reading far ahead of the workers would only pile numbers up in Redis. A worker shutting down
 * hands the job back here, its cursor saved: the next worker resumes after this chunk.
 */
async function holdBack(chunk: number, deps: IngestDeps): Promise<void> {
  if (chunk % BACKPRESSURE_EVERY === 0)
    while ((await deps.job.waitingChunks()) > MAX_CHUNKS_AHEAD && !deps.stopping.aborted) await sleep(200);
  if (deps.stopping.aborted) await deps.job.handBack();
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
  // The numbers go as one argument and come back as one flag string: 250 arguments and replies each cost
  // more to encode and decode than the claims take in Redis.
  const flags = await claimChunk(
    redis,
    [keys.owners, keys.answers, keys.meta],
    [chunk, ABANDONED_TTL_S, progress.records, progress.bytesRead, numbers.join(' ')],
  );
  return numbers.filter((_, i) => flags.charCodeAt(i) === 49 /* '1' */);
}

/**
 * KEYS: owners, answers, meta. ARGV: chunk, ttl (s), records read, bytes read, the chunk's numbers separated by
 * spaces. Returns one character per number: '1' when this chunk owns it, '0' when an earlier chunk does.
 */
const claimChunk = defineScript<string>({
  name: 'reachscanClaimChunk',
  lua: `
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
`,
});
