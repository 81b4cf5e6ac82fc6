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

/**
 * B2: a simulator capped at 300 requests/s with 40 ms latency. With `--rate 300` reachscan should run just under
 * the cap; without it, it learns the cap from 429s and Retry-After. Accepted answers are counted per second
 * from the simulator's own counters.
 */
export const b2RateCap: Scenario = {
  id: 'B2',
  title: 'rate-cap utilisation (cap 300/s, 40 ms latency)',
  async run({ scale, redisUrl, log }) {
    const rows = Math.round(30_000 * scale);
    const dir = scratch('b2');
    const file = join(dir, 'fleet.csv');
    writeCrmFile(file, rows);
    const sim = await startSimulatorProcess(['--rate-cap', String(CAP), '--latency-ms', '40']);
    const figures: Record<string, unknown> = { rows, cap_per_s: CAP };
    const checks: { name: string; pass: boolean }[] = [];
    try {
      for (const mode of ['with --rate 300', 'without --rate'] as const) {
        await fetch(`${sim.url}/_sim/reset`, { method: 'POST' });
        const sampler = sampleRate(sim.url);
        const out = join(dir, mode.startsWith('with ') ? 'rated' : 'unrated');
        const scan = await startReachscan(
          [
            'scan',
            file,
            '--out',
            out,
            '--concurrency',
            '32',
            ...(mode.startsWith('with ') ? ['--rate', String(CAP)] : []),
          ],
          {
            ...simulatorEnv(sim.stdout()),
            REDIS_URL: redisUrl,
            REACHSCAN_QUEUE_PREFIX: `bench-b2-${mode.startsWith('with ') ? 'rated' : 'unrated'}`,
            REACHSCAN_STATE_PREFIX: '{bench-b2-state}:',
          },
        ).done;
        const profile = await sampler.stop();
        if (scan.code !== 0 && scan.code !== 1) throw new Error(`scan exited ${scan.code}: ${scan.stderr}`);
        const stats = await simulatorStats(sim.url);
        const peak = stats.peakPerSecond;
        const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as BatchReport;
        const accepted = stats.byStatus['200'] ?? 0;
        const limited = stats.byStatus['429'] ?? 0;
        // The steady part: whole seconds between the first and the last answer.
        const achieved =
          profile.length > 2 ? profile.slice(1, -1).reduce((a, b) => a + b, 0) / (profile.length - 2) : 0;
        const lost = report.rows_in_error - report.rows.invalid;
        const key = mode.startsWith('with ') ? 'rated' : 'unrated';
        log(
          `${mode}: ${accepted} answers, ${limited} 429s, ${round(achieved, 0)}/s steady, peak ${peak} in a second, ${round(scan.seconds, 1)} s`,
        );
        figures[key] = {
          seconds: round(scan.seconds, 1),
          answers: accepted,
          requests: stats.requests,
          http_429: limited,
          share_429: round(limited / Math.max(1, stats.requests), 4),
          achieved_per_s: round(achieved, 1),
          utilisation: round(achieved / CAP, 3),
          // The simulator's own count: the most requests it saw in any sliding second.
          peak_in_any_second: peak,
          profile_per_s: spread(profile),
          rows_lost: lost,
        };
        if (key === 'rated') {
          checks.push({ name: 'rated: utilisation ≥ 0.97', pass: achieved / CAP >= 0.97 });
          checks.push({ name: 'rated: no second over the cap', pass: peak <= CAP });
          checks.push({
            name: 'rated: 429s ≤ 0.5% of requests',
            pass: limited / Math.max(1, stats.requests) <= 0.005,
          });
        } else {
          checks.push({ name: 'unrated: utilisation ≥ 0.93', pass: achieved / CAP >= 0.93 });
        }
        checks.push({ name: `${key}: nothing lost`, pass: lost === 0 });
      }
      return { figures, checks };
    } finally {
      await sim.stop();
    }
  },
};
