import { join } from 'node:path';
import pLimit from 'p-limit';
import { choosePhoneColumn } from '../../src/input/phone-column.js';
import { normalisePhone } from '../../src/input/phone.js';
import { readInput } from '../../src/input/reader.js';
import { sniffInput } from '../../src/input/sniff.js';
import { silentLogger } from '../../src/logging/logger.js';
import { createProvider } from '../../src/providers/create-provider.js';
import type { E164 } from '../../src/core/e164.js';
import { startSimulatorProcess } from '../../test/support/simulator-process.js';
import { round, scratch, simulatorEnv, startReachscan, writeCrmFile } from '../lib/harness.js';
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
      await Promise.all(numbers.map((n) => limit(() => provider.lookup(n))));
      const directSeconds = (performance.now() - started) / 1000;
      await provider.close();
      log(`direct client: ${numbers.length} numbers in ${round(directSeconds, 1)} s`);

      const env = {
        ...simulatorEnv(sim.stdout()),
        REDIS_URL: redisUrl,
        REACHSCAN_QUEUE_PREFIX: 'bench-b1',
        REACHSCAN_STATE_PREFIX: '{bench-b1-state}:',
      };
      const scan = await startReachscan(
        ['scan', file, '--out', join(dir, 'out'), '--concurrency', String(CONCURRENCY)],
        env,
      ).done;
      if (scan.code !== 1 && scan.code !== 0) throw new Error(`scan exited ${scan.code}: ${scan.stderr}`);
      log(`reachscan: ${rows} rows, ${unique} numbers in ${round(scan.seconds, 1)} s`);
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
        },
        checks: [{ name: 'ratio ≥ 0.8', pass: endToEnd / direct >= 0.8 }],
      };
    } finally {
      await sim.stop();
    }
  },
};
