import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BatchReport } from '../../src/output/report.js';
import { startSimulatorProcess } from '../../test/support/simulator-process.js';
import {
  round,
  sampleRate,
  scratch,
  simulatorEnv,
  simulatorStats,
  spread,
  startReachscan,
  writeCrmFile,
} from '../lib/harness.js';
import type { Scenario } from '../lib/scenario.js';

const CAP = 300;
const LATENCY_MS = 40;

/** The auth modes measured, with the share of the rows each gets (CIBA costs twice the requests a number). */
const MODES = [
  { auth: 'client-credentials', rowsShare: 1 },
  { auth: 'api-key', rowsShare: 0.25 },
  { auth: 'ciba', rowsShare: 0.25 },
] as const;

/**
 * B7: `scan --provider camara` of a 20,000-row file against a simulator capped at 300 requests/s with 40 ms
 * latency, `--rate 300`: rows per second end to end, and the upstream requests each unique number cost, by
 * auth mode (counted by the simulator). The rate cap counts every request (tokens too), so rows/s is about
 * 300 × 0.98 / requests per number.
 */
export const b7Camara: Scenario = {
  id: 'B7',
  title: 'scan --provider camara, 20,000 rows, cap 300/s, 40 ms latency, by auth mode',
  async run({ scale, redisUrl, log }) {
    const dir = scratch('b7');
    const sim = await startSimulatorProcess(['--rate-cap', String(CAP), '--latency-ms', String(LATENCY_MS)]);
    const figures: Record<string, unknown> = { cap_per_s: CAP, latency_ms: LATENCY_MS };
    const checks: { name: string; pass: boolean }[] = [];
    try {
      for (const mode of MODES) {
        const rows = Math.round(20_000 * scale * mode.rowsShare);
        const file = join(dir, `${mode.auth}.csv`);
        const { unique } = writeCrmFile(file, rows);
        await fetch(`${sim.url}/_sim/reset`, { method: 'POST' });
        const sampler = sampleRate(sim.url);
        const out = join(dir, mode.auth);
        const scan = await startReachscan(
          ['scan', file, '--out', out, '--provider', 'camara', '--concurrency', '32', '--rate', String(CAP)],
          {
            ...simulatorEnv(sim.stdout()),
            CAMARA_AUTH: mode.auth,
            REDIS_URL: redisUrl,
            REACHSCAN_QUEUE_PREFIX: `bench-b7-${mode.auth}`,
            REACHSCAN_STATE_PREFIX: '{bench-b7-state}:',
          },
        ).done;
        const profile = await sampler.stop();
        if (scan.code !== 0 && scan.code !== 1) throw new Error(`scan exited ${scan.code}: ${scan.stderr}`);
        const stats = await simulatorStats(sim.url);
        const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as BatchReport;
        const lost = report.rows_in_error - report.rows.invalid;
        const steady =
          profile.length > 2 ? profile.slice(1, -1).reduce((a, b) => a + b, 0) / (profile.length - 2) : 0;
        const perNumber = stats.requests / Math.max(1, unique);
        const limited = stats.byStatus['429'] ?? 0;
        log(
          `${mode.auth}: ${rows} rows in ${round(scan.seconds, 1)} s = ${round(rows / scan.seconds, 1)} rows/s; ` +
            `${round(perNumber, 2)} requests a number, ${round(steady, 0)} requests/s steady, ${limited} 429s`,
        );
        figures[mode.auth] = {
          rows,
          unique_numbers: unique,
          seconds: round(scan.seconds, 1),
          rows_per_s: round(rows / scan.seconds, 1),
          requests: stats.requests,
          requests_per_number: round(perNumber, 3),
          requests_per_s_steady: round(steady, 1),
          profile_per_s: spread(profile),
          http_429: limited,
          rows_lost: lost,
        };
        checks.push({ name: `${mode.auth}: nothing lost`, pass: lost === 0 });
        checks.push({
          name: `${mode.auth}: ≥ 0.9 of the cap`,
          pass: steady / CAP >= 0.9,
        });
      }
      return { figures, checks };
    } finally {
      await sim.stop();
    }
  },
};
