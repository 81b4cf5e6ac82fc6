import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { startRedisServer } from '../../src/queue/private-redis.js';
import { startSimulatorProcess } from '../../test/support/simulator-process.js';
import {
  redisInfo,
  redisInfoFields,
  round,
  scratch,
  simulatorEnv,
  startReachscan,
  writeCrmFile,
} from '../lib/harness.js';
import type { Scenario } from '../lib/scenario.js';

/**
 * B3: peak RSS of the scan process and of a separate worker, and Redis's peak memory, for a 100k and a 1M-row
 * file (each on a fresh redis-server, so its peak is the batch's). After the batch Redis should be back to its
 * baseline, but for the history the batch leaves on purpose (measured apart).
 */
export const b3Memory: Scenario = {
  id: 'B3',
  title: 'memory: 100k vs 1M rows',
  async run({ scale, log }) {
    const sizes = [100_000, 1_000_000].map((n) => Math.round(n * scale));
    const sim = await startSimulatorProcess();
    const figures: Record<string, unknown> = {};
    const runs: { rows: number; scanMb: number; workerMb: number }[] = [];
    const checks: { name: string; pass: boolean }[] = [];
    try {
      for (const rows of sizes) {
        const dir = scratch('b3');
        const file = join(dir, 'crm.csv');
        const { unique } = writeCrmFile(file, rows);
        const server = await startRedisServer();
        const redis = new Redis(server.url);
        try {
          const baseline = await redisInfo(redis, 'used_memory');
          const scriptingBefore = await scriptingMemory(redis);
          const env = {
            ...simulatorEnv(sim.stdout()),
            REDIS_URL: server.url,
            REACHSCAN_QUEUE_PREFIX: 'bench-b3',
          };
          const worker = startReachscan(['worker', '--concurrency', '32'], env);
          const scan = await startReachscan(['scan', file, '--out', join(dir, 'out'), '--no-worker'], env)
            .done;
          worker.child.kill('SIGTERM');
          const workerRun = await worker.done;
          if (scan.code !== 0 && scan.code !== 1) throw new Error(`scan exited ${scan.code}: ${scan.stderr}`);
          const peak = await redisInfo(redis, 'used_memory_peak');
          const after = await redisInfo(redis, 'used_memory');
          let history = 0;
          for await (const keys of redis.scanStream({
            match: '{bench-b3-state}:*',
            count: 1000,
          }) as AsyncIterable<string[]>) {
            history += keys.length;
            if (keys.length > 0) await redis.del(...keys);
          }
          // Redis shrinks its key table in the background once most keys are gone; give it a moment.
          await sleep(2_000);
          const withoutHistory = await redisInfo(redis, 'used_memory');
          // Redis 7 counts its Lua engine and script cache in used_memory: they grow with the scripts BullMQ and
          // reachscan run (not with the batch's size) and stay until SCRIPT FLUSH. Measured apart from the data.
          const scripting = (await scriptingMemory(redis)) - scriptingBefore;
          let keysLeft = 0;
          let keysLeftBytes = 0;
          for await (const keys of redis.scanStream({ count: 1000 }) as AsyncIterable<string[]>) {
            for (const key of keys) {
              keysLeft++;
              keysLeftBytes += Number(await redis.memory('USAGE', key)) || 0;
            }
          }
          const mb = (bytes: number) => round(bytes / 1024 ** 2, 1);
          log(
            `${rows} rows: scan ${round(scan.seconds, 1)} s, scan RSS ${round(scan.peakRssMb ?? 0, 0)} MB, worker RSS ${round(workerRun.peakRssMb ?? 0, 0)} MB, Redis peak ${mb(peak)} MB`,
          );
          figures[`rows_${rows}`] = {
            unique_numbers: unique,
            seconds: round(scan.seconds, 1),
            scan_peak_rss_mb: round(scan.peakRssMb ?? NaN, 0),
            worker_peak_rss_mb: round(workerRun.peakRssMb ?? NaN, 0),
            redis_baseline_mb: mb(baseline),
            redis_peak_mb: mb(peak),
            redis_after_mb: mb(after),
            redis_history_mb: mb(after - withoutHistory),
            history_numbers: history,
            redis_after_without_history_mb: mb(withoutHistory),
            redis_scripting_growth_mb: mb(scripting),
            keys_left: keysLeft,
            keys_left_kb: round(keysLeftBytes / 1024, 1),
          };
          log(
            `  after: ${mb(withoutHistory)} MB without the history = baseline ${mb(baseline)} + Lua engine and script cache ${mb(scripting)} + ${keysLeft} keys (${round(keysLeftBytes / 1024, 1)} KB) + Redis's own tables`,
          );
          runs.push({ rows, scanMb: scan.peakRssMb ?? NaN, workerMb: workerRun.peakRssMb ?? NaN });
          if (rows === sizes.at(-1)) {
            checks.push({ name: 'Redis peak ≤ 400 MB (largest file)', pass: peak / 1024 ** 2 <= 400 });
            checks.push({
              name: 'Redis back to baseline (+1 MB) without the history and Lua engine',
              pass: withoutHistory - scripting - baseline <= 1024 ** 2,
            });
          }
        } finally {
          redis.disconnect();
          await server.stop();
        }
      }
      const [small, large] = runs;
      if (small && large) {
        figures.scan_rss_ratio = round(large.scanMb / small.scanMb, 2);
        figures.worker_rss_ratio = round(large.workerMb / small.workerMb, 2);
        checks.push({ name: 'scan RSS: large ≤ 1.3 × small', pass: large.scanMb <= 1.3 * small.scanMb });
        checks.push({
          name: 'worker RSS: large ≤ 1.3 × small',
          pass: large.workerMb <= 1.3 * small.workerMb,
        });
        checks.push({
          name: 'scan and worker RSS ≤ 300 MB',
          pass: Math.max(large.scanMb, large.workerMb) <= 300,
        });
      }
      return { figures, checks };
    } finally {
      await sim.stop();
    }
  },
};

/** Memory of Redis's Lua engine and its script cache (Redis 7 fields, with the Redis 6 one as a fallback). */
async function scriptingMemory(redis: Redis): Promise<number> {
  const info = await redisInfoFields(redis, [
    'used_memory_vm_eval',
    'used_memory_lua',
    'used_memory_scripts_eval',
  ]);
  return (info.used_memory_vm_eval ?? info.used_memory_lua ?? 0) + (info.used_memory_scripts_eval ?? 0);
}
