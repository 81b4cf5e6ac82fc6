import { startSimulatorProcess } from '../../test/support/simulator-process.js';
import {
  batchMemoryFigures,
  logBatchMemory,
  measureBatchMemory,
  type BatchMemory,
} from '../lib/batch-memory.js';
import { round, simulatorEnv } from '../lib/harness.js';
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
    const runs: BatchMemory[] = [];
    try {
      for (const rows of sizes) {
        const run = await measureBatchMemory({
          rows,
          simulator: simulatorEnv(sim.stdout()),
          prefix: 'bench-b3',
        });
        logBatchMemory(run, log);
        figures[`rows_${rows}`] = batchMemoryFigures(run);
        runs.push(run);
      }
    } finally {
      await sim.stop();
    }
    const [small, large] = runs;
    if (!small || !large) return { figures, checks: [] };
    figures.scan_rss_ratio = round(large.scanPeakRssMb / small.scanPeakRssMb, 2);
    figures.worker_rss_ratio = round(large.workerPeakRssMb / small.workerPeakRssMb, 2);
    const { redis } = large;
    const checks = [
      { name: 'Redis peak ≤ 400 MB (largest file)', pass: redis.peak / 1024 ** 2 <= 400 },
      {
        name: 'Redis back to baseline (+1 MB) without the history, Lua engine and command statistics',
        pass: redis.withoutHistory - redis.scriptingGrowth - redis.commandStats - redis.baseline <= 1024 ** 2,
      },
      { name: 'scan RSS: large ≤ 1.3 × small', pass: large.scanPeakRssMb <= 1.3 * small.scanPeakRssMb },
      { name: 'worker RSS: large ≤ 1.3 × small', pass: large.workerPeakRssMb <= 1.3 * small.workerPeakRssMb },
      {
        name: 'scan and worker RSS ≤ 300 MB',
        pass: Math.max(large.scanPeakRssMb, large.workerPeakRssMb) <= 300,
      },
    ];
    return { figures, checks };
  },
};
