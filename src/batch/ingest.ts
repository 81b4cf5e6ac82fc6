import { setTimeout as sleep } from 'node:timers/promises';
import type { CountryCode } from '../core/e164.js';
import { readChunks, type ReadChunk } from '../input/read-chunks.js';
import type { BatchJobHandle } from '../queue/batch-job.js';
import type { RedisClient } from '../queue/connection.js';
import type { BatchJobData, ChunkJobData } from '../queue/job-data.js';
import type { BatchKeys } from '../queue/keys.js';
import { defineScript } from '../queue/scripts.js';
import { ABANDONED_TTL_S } from './submit.js';

/** Chunk jobs queued ahead of the workers before ingest waits (about 50,000 numbers at the default size). */
const MAX_CHUNKS_AHEAD = 200;
/** The most chunks claimed, queued and saved together (one round trip each for all of them). */
const FLUSH_CHUNKS = 8;

export interface IngestDeps {
  readonly redis: RedisClient;
  readonly keys: BatchKeys;
  readonly job: BatchJobHandle;
  /** Set when the worker is shutting down: ingest saves its cursor and hands the job back. */
  readonly stopping: AbortSignal;
}

/**
 * Reads the input and turns it into chunk jobs as it goes (never one huge transaction), each asking for the
 * numbers no earlier chunk asked for. The cursor in the job data is saved after every flush of chunks, so a
 * worker that dies mid-file is replaced by one that resumes where it stopped.
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

  /**
   * Claims the chunks' numbers, queues their jobs, then saves the cursor past them (in that order: a resumed
   * ingest re-claims chunks whose jobs may be queued already, never skips one). One round trip for each step.
   */
  const flush = async (chunks: readonly ReadChunk[]) => {
    const first = current.cursor.chunks;
    const records = chunks.reduce((sum, chunk) => sum + chunk.records, current.cursor.records);
    const bytesRead = chunks.at(-1)?.bytes ?? 0;
    const owned = await claim(redis, keys, chunks, first, { records, bytesRead });
    const jobs = owned.flatMap((numbers, i) =>
      numbers.length > 0 ? [chunkJob(data, first + i, numbers)] : [],
    );
    await deps.job.addChunks(jobs, data.retryBaseMs);
    current = { ...current, cursor: { records, chunks: first + chunks.length } };
    await deps.job.save(current);
    await holdBack(deps);
  };

  // One flush's Redis work runs while the next chunks are read and normalised: the round trips cost no reading
  // time. Chunks read meanwhile go together in the next flush, as soon as the last one is done, so the flushes
  // grow only when Redis is the slower side. Flushes run one at a time and in order: claims and cursor stay exact.
  let flushing: Promise<void> = Promise.resolve();
  let flushed = true;
  let pending: ReadChunk[] = [];
  const startFlush = () => {
    flushed = false;
    flushing = flush(pending).then(() => {
      flushed = true;
    });
    pending = [];
    // Not an unhandled rejection meanwhile: the next flush (or the end of the file) awaits it and throws.
    flushing.catch(() => undefined);
  };
  try {
    for await (const chunks of readChunks(source, data.cursor.records, data.chunkSize)) {
      for (const chunk of chunks) {
        pending.push(chunk);
        if (!flushed && pending.length < FLUSH_CHUNKS) continue;
        await flushing;
        startFlush();
      }
    }
    await flushing;
    if (pending.length > 0) startFlush();
  } finally {
    // Never leave a flush running behind a failed read: the batch may be closed as failed next.
    await flushing.catch(() => undefined);
  }
  await flushing;
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
 * hands the job back here, its cursor saved: the next worker resumes after the chunks just flushed.
 */
async function holdBack(deps: IngestDeps): Promise<void> {
  while ((await deps.job.waitingChunks()) > MAX_CHUNKS_AHEAD && !deps.stopping.aborted) await sleep(200);
  if (deps.stopping.aborted) await deps.job.handBack();
}

/**
 * First occurrence wins: HSETNX records which chunk asks for a number. A resumed ingest re-claims the chunks of
 * its last flush, so "already mine" counts as owned. One script call for all the chunks of a flush, which also
 * keeps the meta's progress. Returns each chunk's numbers it owns.
 */
async function claim(
  redis: RedisClient,
  keys: BatchKeys,
  chunks: readonly ReadChunk[],
  firstChunk: number,
  progress: { records: number; bytesRead: number },
): Promise<string[][]> {
  // Each chunk's numbers go as one argument and come back as one flag string: 250 arguments and replies each
  // cost more to encode and decode than the claims take in Redis.
  const flags = await claimChunks(
    redis,
    [keys.owners, keys.answers, keys.meta],
    [
      ABANDONED_TTL_S,
      progress.records,
      progress.bytesRead,
      firstChunk,
      ...chunks.map((chunk) => chunk.numbers.join(' ')),
    ],
  );
  return chunks.map((chunk, c) => chunk.numbers.filter((_, i) => flags[c]?.charCodeAt(i) === 49 /* '1' */));
}

/**
 * KEYS: owners, answers, meta. ARGV: ttl (s), records read, bytes read, the first chunk's index, then each
 * chunk's numbers separated by spaces. Returns per chunk one character per number: '1' when that chunk owns it,
 * '0' when an earlier chunk does.
 */
const claimChunks = defineScript<string[]>({
  name: 'reachscanClaimChunks',
  lua: `
local owners = KEYS[1]
local first = tonumber(ARGV[4])
local result = {}
for c = 5, #ARGV do
  local chunk = tostring(first + c - 5)
  local flags = {}
  for n in string.gmatch(ARGV[c], '%S+') do
    if redis.call('HSETNX', owners, n, chunk) == 1 or redis.call('HGET', owners, n) == chunk then
      flags[#flags + 1] = '1'
    else
      flags[#flags + 1] = '0'
    end
  end
  result[#result + 1] = table.concat(flags)
end
redis.call('EXPIRE', owners, ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[3], 'records', ARGV[2], 'unique', redis.call('HLEN', owners), 'bytesRead', ARGV[3])
return result
`,
});
