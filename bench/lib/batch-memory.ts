import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { historyOptions } from '../../src/config/settings.js';
import { historyKeyPattern, parseHistoryKey } from '../../src/history/number-key.js';
import { startRedisServer } from '../../src/queue/private-redis.js';
import { redisInfo, redisInfoFields, round, scratch, startReachscan, writeCrmFile } from './harness.js';

/** How often Redis's memory is read while a batch runs, ms: often enough to catch the batch's own peak. */
const SAMPLE_EVERY_MS = 250;

export interface BatchMemoryOptions {
  readonly rows: number;
  /** The simulator's environment (what `reachscan simulate` printed). */
  readonly simulator: Readonly<Record<string, string>>;
  /** REACHSCAN_QUEUE_PREFIX of the batch; its history is then `{<prefix>-state}:` in 64 buckets. */
  readonly prefix: string;
}

/** What one batch cost in memory, on a redis-server of its own. Redis figures are `used_memory`, bytes. */
export interface BatchMemory {
  readonly rows: number;
  readonly uniqueNumbers: number;
  /** The scan process, end to end (ingest, the separate worker's lookups, finalize, every output). */
  readonly seconds: number;
  readonly scanPeakRssMb: number;
  readonly workerPeakRssMb: number;
  readonly redis: {
    /** The fresh server, before the batch. */
    readonly baseline: number;
    /** `used_memory_peak` over the batch. */
    readonly peak: number;
    /** After the batch, with the history it leaves on purpose. */
    readonly after: number;
    readonly withoutHistory: number;
    /** Redis 7's Lua engine and script cache, grown by the scripts run (not by the batch's size). */
    readonly scriptingGrowth: number;
    /**
     * Redis 7's statistics of the commands run (`latency-tracking`: a histogram per command used, about 25 KB
     * each, whatever the batch's size), freed by `CONFIG RESETSTAT`.
     */
    readonly commandStats: number;
    /**
     * The most the batch's own keys (queue, chunk jobs, the owners, answers and refused hashes: one hash
     * tag) held at once, with the Lua engine: Redis's memory over its baseline less the history at that
     * moment.
     */
    readonly batchPeak: number;
  };
  /** The history the batch leaves: every key under its prefix, and the numbers' own among them. */
  readonly history: { readonly bytes: number; readonly keys: number; readonly numbers: number };
  /** What is left in Redis once the history is deleted. */
  readonly keysLeft: { readonly count: number; readonly bytes: number };
}

/**
 * Runs one batch of `rows` generated rows as a carrier would see it: `scan --no-worker` and a separate
 * `reachscan worker`, each its own process reporting its peak RSS, on a fresh redis-server whose memory is
 * read before, during (every 250 ms) and after; the history is then measured by deleting it.
 */
export async function measureBatchMemory(options: BatchMemoryOptions): Promise<BatchMemory> {
  const dir = scratch(options.prefix);
  const file = join(dir, 'crm.csv');
  const { unique } = writeCrmFile(file, options.rows);
  const server = await startRedisServer();
  const redis = new Redis(server.url);
  try {
    const baseline = await redisInfo(redis, 'used_memory');
    const scriptingBefore = await scriptingMemory(redis);
    const env = { ...options.simulator, REDIS_URL: server.url, REACHSCAN_QUEUE_PREFIX: options.prefix };
    const samples = sampleMemory(redis);
    // Stopped however the batch ends, so no reading is left waiting on a server that is gone.
    const { scan, worker } = await runScanAndWorker(file, join(dir, 'out'), env).finally(() =>
      samples.stop(),
    );
    const during = await samples.stop();
    const peak = await redisInfo(redis, 'used_memory_peak');
    const after = await redisInfo(redis, 'used_memory');
    const history = await deleteHistory(redis, historyOptions(env, false).prefix);
    // Redis shrinks its key table in the background once most keys are gone; give it a moment.
    await sleep(2_000);
    const withoutHistory = await redisInfo(redis, 'used_memory');
    const commandStats = withoutHistory - (await usedAfterStatsReset(redis));
    const historyBytes = after - withoutHistory;
    const historyShare = { bytesPerKey: history.keys > 0 ? historyBytes / history.keys : 0, baseline };
    return {
      rows: options.rows,
      uniqueNumbers: unique,
      seconds: scan.seconds,
      scanPeakRssMb: scan.peakRssMb ?? NaN,
      workerPeakRssMb: worker.peakRssMb ?? NaN,
      redis: {
        baseline,
        peak,
        after,
        withoutHistory,
        scriptingGrowth: (await scriptingMemory(redis)) - scriptingBefore,
        commandStats,
        batchPeak: Math.max(batchShareAtPeak(during, historyShare), peak - baseline - historyBytes),
      },
      history: { bytes: historyBytes, ...history },
      keysLeft: await keysLeft(redis),
    };
  } finally {
    redis.disconnect();
    await server.stop();
    // A 5M-row file and its outputs are over a GB.
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runScanAndWorker(file: string, out: string, env: Record<string, string>) {
  const worker = startReachscan(['worker', '--concurrency', '32'], env);
  const scan = await startReachscan(['scan', file, '--out', out, '--no-worker'], env).done;
  worker.child.kill('SIGTERM');
  const workerRun = await worker.done;
  if (scan.code !== 0 && scan.code !== 1) throw new Error(`scan exited ${scan.code}: ${scan.stderr}`);
  return { scan, worker: workerRun };
}

interface MemorySample {
  readonly usedMemory: number;
  readonly keys: number;
}

/** Reads used_memory and the key count every {@link SAMPLE_EVERY_MS} until stopped. */
function sampleMemory(redis: Redis) {
  const samples: MemorySample[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const [memory, keys] = await Promise.all([redis.info('memory'), redis.dbsize()]);
      samples.push({ usedMemory: Number(/^used_memory:(\d+)/m.exec(memory)?.[1] ?? NaN), keys });
      await sleep(SAMPLE_EVERY_MS);
    }
  })();
  // A failed reading is thrown by stop(), not as an unhandled rejection while the batch runs.
  loop.catch(() => undefined);
  return {
    /** Stops the readings (again is fine) once the one under way is done, and returns them all. */
    async stop(): Promise<readonly MemorySample[]> {
      stopped = true;
      await loop;
      return samples;
    },
  };
}

/**
 * The batch's own share of Redis at its most, from the samples: memory over the baseline less the history
 * written so far, which is every key counted at that moment times what a history key was found to take. The
 * batch's own keys are counted as history keys too; they are few (one a chunk of 250 numbers, a handful a
 * batch), so they take a fraction of a percent off.
 */
function batchShareAtPeak(
  samples: readonly MemorySample[],
  history: { readonly bytesPerKey: number; readonly baseline: number },
): number {
  let most = 0;
  for (const { usedMemory, keys } of samples)
    most = Math.max(most, usedMemory - history.baseline - keys * history.bytesPerKey);
  return most;
}

/**
 * Deletes every key of the history (whatever its bucket layout), counting them and the numbers' own. Counted by
 * what DEL removed: SCAN may return a key twice while the table shrinks under it.
 */
async function deleteHistory(redis: Redis, prefix: string): Promise<{ keys: number; numbers: number }> {
  let others = 0;
  let numbers = 0;
  const pattern = historyKeyPattern(prefix);
  for await (const found of redis.scanStream({ match: pattern, count: 1000 }) as AsyncIterable<string[]>) {
    const states = found.filter((key) => parseHistoryKey(prefix, key)?.kind === 'state');
    const rest = found.filter((key) => parseHistoryKey(prefix, key)?.kind !== 'state');
    if (states.length > 0) numbers += await redis.del(...states);
    if (rest.length > 0) others += await redis.del(...rest);
  }
  return { keys: numbers + others, numbers };
}

async function keysLeft(redis: Redis): Promise<{ count: number; bytes: number }> {
  let count = 0;
  let bytes = 0;
  for await (const keys of redis.scanStream({ count: 1000 }) as AsyncIterable<string[]>) {
    for (const key of keys) {
      count++;
      bytes += Number(await redis.memory('USAGE', key)) || 0;
    }
  }
  return { count, bytes };
}

/** `used_memory` once Redis has dropped its statistics (per-command counts and latency histograms). */
async function usedAfterStatsReset(redis: Redis): Promise<number> {
  await redis.config('RESETSTAT');
  return redisInfo(redis, 'used_memory');
}

/** Memory of Redis's Lua engine and its script cache (Redis 7 fields, with the Redis 6 one as a fallback). */
async function scriptingMemory(redis: Redis): Promise<number> {
  const info = await redisInfoFields(redis, [
    'used_memory_vm_eval',
    'used_memory_lua',
    'used_memory_scripts_eval',
  ]);
  return (info.used_memory_vm_eval ?? info.used_memory_lua ?? 0) + (info.used_memory_scripts_eval ?? 0);
}

export const mb = (bytes: number) => round(bytes / 1024 ** 2, 1);

/** One batch's figures as the results file keeps them. */
export function batchMemoryFigures(m: BatchMemory): Record<string, number> {
  return {
    rows: m.rows,
    unique_numbers: m.uniqueNumbers,
    seconds: round(m.seconds, 1),
    scan_peak_rss_mb: round(m.scanPeakRssMb, 0),
    worker_peak_rss_mb: round(m.workerPeakRssMb, 0),
    redis_baseline_mb: mb(m.redis.baseline),
    redis_peak_mb: mb(m.redis.peak),
    redis_batch_peak_mb: mb(m.redis.batchPeak),
    redis_after_mb: mb(m.redis.after),
    redis_history_mb: mb(m.history.bytes),
    history_numbers: m.history.numbers,
    history_bytes_per_number: m.history.numbers > 0 ? round(m.history.bytes / m.history.numbers, 0) : 0,
    redis_after_without_history_mb: mb(m.redis.withoutHistory),
    redis_scripting_growth_mb: mb(m.redis.scriptingGrowth),
    redis_command_stats_mb: mb(m.redis.commandStats),
    keys_left: m.keysLeft.count,
    keys_left_kb: round(m.keysLeft.bytes / 1024, 1),
  };
}

/** The two log lines of one batch: its run, and what Redis holds after it. */
export function logBatchMemory(m: BatchMemory, log: (line: string) => void): void {
  log(
    `${m.rows} rows: scan ${round(m.seconds, 1)} s, scan RSS ${round(m.scanPeakRssMb, 0)} MB, worker RSS ${round(m.workerPeakRssMb, 0)} MB, Redis peak ${mb(m.redis.peak)} MB (the batch's own keys ${mb(m.redis.batchPeak)} MB at most), history ${mb(m.history.bytes)} MB for ${m.history.numbers} numbers`,
  );
  log(
    `  after: ${mb(m.redis.withoutHistory)} MB without the history = baseline ${mb(m.redis.baseline)} + Lua engine and script cache ${mb(m.redis.scriptingGrowth)} + command statistics ${mb(m.redis.commandStats)} + ${m.keysLeft.count} keys (${round(m.keysLeft.bytes / 1024, 1)} KB) + Redis's own tables`,
  );
}
