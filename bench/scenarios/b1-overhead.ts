import { join } from 'node:path';
import { Redis } from 'ioredis';
import pLimit from 'p-limit';
import { choosePhoneColumn } from '../../src/input/phone-column.js';
import { normalisePhone } from '../../src/input/phone.js';
import { readInput } from '../../src/input/reader.js';
import { sniffInput } from '../../src/input/sniff.js';
import { silentLogger } from '../../src/logging/logger.js';
import { createProvider } from '../../src/providers/create-provider.js';
import type { E164 } from '../../src/core/e164.js';
import { startSimulatorProcess } from '../../test/support/simulator-process.js';
import {
  processCpuSeconds,
  redisCpuSeconds,
  round,
  scratch,
  simulatorEnv,
  startReachscan,
  writeCrmFile,
} from '../lib/harness.js';
import type { Scenario } from '../lib/scenario.js';

const CONCURRENCY = 32;

/** The numbers of a file as the scan would ask them: parsed, normalised, deduplicated. */
export async function parsedNumbers(path: string): Promise<E164[]> {
  const shape = await sniffInput(path);
  const column = choosePhoneColumn(path, shape.headers);
  const numbers = new Set<E164>();
  for await (const item of readInput(path, shape, path)) {
    if (item.kind !== 'record') continue;
    const phone = normalisePhone(item.fields[column] ?? '');
    if (phone.kind === 'valid') numbers.add(phone.e164);
  }
  return [...numbers];
}

/**
 * B1: reachscan end to end (ingest, queue, workers, finalize, every output) against a direct baseline that
 * drives the same provider client with p-limit over the same numbers, no queue. Both against one simulator in
 * its own process (no latency, no cap), one after the other in this run.
 */
export const b1Overhead: Scenario = {
  id: 'B1',
  title: 'overhead: reachscan end to end vs the direct client',
  async run({ scale, redisUrl, log }) {
    const rows = Math.round(200_000 * scale);
    const dir = scratch('b1');
    const file = join(dir, 'crm.csv');
    const { unique } = writeCrmFile(file, rows);
    const sim = await startSimulatorProcess();
    try {
      const numbers = await parsedNumbers(file);
      const provider = createProvider(sim.config(), { logger: silentLogger(), connections: CONCURRENCY });
      const limit = pLimit(CONCURRENCY);
      // Warm-up: connections, JIT, the first JWT; then the measured pass.
      await Promise.all(numbers.slice(0, 2_000).map((n) => limit(() => provider.lookup(n))));
      const started = performance.now();
      const clientCpuBefore = process.cpuUsage();
      const simCpuBefore = processCpuSeconds(sim.child.pid);
      await Promise.all(numbers.map((n) => limit(() => provider.lookup(n))));
      const directSeconds = (performance.now() - started) / 1000;
      const clientCpu = cpuSince(clientCpuBefore);
      const directSimCpu = cpuDelta(simCpuBefore, processCpuSeconds(sim.child.pid));
      await provider.close();
      log(`direct client: ${numbers.length} numbers in ${round(directSeconds, 1)} s`);

      const env = {
        ...simulatorEnv(sim.stdout()),
        REDIS_URL: redisUrl,
        REACHSCAN_QUEUE_PREFIX: 'bench-b1',
        REACHSCAN_STATE_PREFIX: '{bench-b1-state}:',
      };
      const redis = new Redis(redisUrl);
      const redisCpuBefore = await redisCpuSeconds(redis);
      const scanSimCpuBefore = processCpuSeconds(sim.child.pid);
      const scan = await startReachscan(
        ['scan', file, '--out', join(dir, 'out'), '--concurrency', String(CONCURRENCY)],
        env,
      ).done;
      const scanSimCpu = cpuDelta(scanSimCpuBefore, processCpuSeconds(sim.child.pid));
      const redisCpu = (await redisCpuSeconds(redis)) - redisCpuBefore;
      redis.disconnect();
      if (scan.code !== 1 && scan.code !== 0) throw new Error(`scan exited ${scan.code}: ${scan.stderr}`);
      log(`reachscan: ${rows} rows, ${unique} numbers in ${round(scan.seconds, 1)} s`);
      // Where the two cores went: per 1,000 numbers, CPU seconds of each process in each pass.
      const per1000 = (seconds: number | null, count: number) =>
        seconds === null ? null : round((seconds / count) * 1000, 3);
      const cpu = {
        direct: {
          client: per1000(clientCpu, numbers.length),
          simulator: per1000(directSimCpu, numbers.length),
        },
        reachscan: {
          scan: per1000(scan.cpuSeconds, unique),
          redis: per1000(redisCpu, unique),
          simulator: per1000(scanSimCpu, unique),
        },
      };
      log(
        `CPU s per 1,000 numbers: direct client ${cpu.direct.client} + simulator ${cpu.direct.simulator}; ` +
          `reachscan ${cpu.reachscan.scan} + Redis ${cpu.reachscan.redis} + simulator ${cpu.reachscan.simulator}`,
      );
      const direct = numbers.length / directSeconds;
      const endToEnd = unique / scan.seconds;
      return {
        figures: {
          rows,
          unique_numbers: unique,
          direct_numbers_per_s: round(direct, 0),
          reachscan_numbers_per_s: round(endToEnd, 0),
          reachscan_seconds: round(scan.seconds, 1),
          scan_peak_rss_mb: scan.peakRssMb === null ? null : round(scan.peakRssMb, 0),
          ratio: round(endToEnd / direct, 3),
          cpu_seconds_per_1000_numbers: cpu,
        },
        checks: [{ name: 'ratio ≥ 0.8', pass: endToEnd / direct >= 0.8 }],
      };
    } finally {
      await sim.stop();
    }
  },
};

function cpuSince(before: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1e6;
}

function cpuDelta(before: number | null, after: number | null): number | null {
  return before === null || after === null ? null : after - before;
}
