import { randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCsv } from '../../support/scan.js';
import { startSimulatorProcess } from '../../support/simulator-process.js';
import { jobsFolder, listJson, reachscan, spawnReachscan } from './cli.js';

const fixture = join(import.meta.dirname, '..', '..', '..', 'fixtures', 'iot-fleet.csv');

/** The environment `reachscan simulate` prints for pointing reachscan at it. */
function simEnv(stdout: string): Record<string, string> {
  return Object.fromEntries(
    [...stdout.matchAll(/export (\w+)=(\S+)/g)].map((m) => [m[1] as string, m[2] as string]),
  );
}

/** Run folders of a schedule that hold finished outputs (each written under a temporary name and renamed; report.html last). */
function finishedRuns(outDir: string, id: string): string[] {
  if (!existsSync(outDir)) return [];
  return readdirSync(outDir)
    .filter((name) => name.startsWith(`${id}-`) && existsSync(join(outDir, name, 'report.html')))
    .sort();
}

describe('scheduled scans on reachscan worker processes', () => {
  it(
    'two workers run every tick of a 2-second schedule exactly once, into <out>/<id>-<tick>/ with every row; a bad source fails its tick without stopping them; SIGTERM exits 0',
    { timeout: 90_000 },
    async () => {
      const sim = await startSimulatorProcess();
      const jobs = jobsFolder();
      copyFileSync(fixture, join(jobs.root, 'fleet.csv'));
      const outDir = join(jobs.root, 'out');
      jobs.write('fleet', {
        source: '../fleet.csv',
        cron: '*/2 * * * * *',
        timezone: 'Europe/Paris',
        out: '../out',
        column: 'msisdn',
        defaultCountry: 'GB',
      });
      jobs.write('lost', {
        source: '../no-such-export.csv',
        cron: '*/2 * * * * *',
        timezone: 'UTC',
        out: '../out',
      });
      const env = {
        ...simEnv(sim.stdout()),
        REACHSCAN_QUEUE_PREFIX: `schedule-e2e-${randomUUID()}`,
        REACHSCAN_RETRY_BASE_MS: '20',
      };
      const workers = [
        spawnReachscan(['worker', '--concurrency', '4'], env),
        spawnReachscan(['worker', '--concurrency', '4'], env),
      ];
      try {
        const sync = await reachscan(['schedule', 'sync', '--dir', jobs.dir], env);
        expect(sync.code, sync.stderr).toBe(0);

        await expect
          .poll(() => finishedRuns(outDir, 'fleet').length, { timeout: 45_000, interval: 250 })
          .toBeGreaterThanOrEqual(3);
        await expect
          .poll(async () => (await listJson(env)).find((s) => s.id === 'lost')?.last_run?.error ?? null, {
            timeout: 20_000,
            interval: 250,
          })
          .toBe(`${join(jobs.root, 'no-such-export.csv')}: no such file`);

        // Stop the ticks (a sync from an empty folder removes every scheduler), then let the runs in hand finish.
        rmSync(join(jobs.dir, 'fleet.json'));
        rmSync(join(jobs.dir, 'lost.json'));
        const stop = await reachscan(['schedule', 'sync', '--dir', jobs.dir], env);
        expect(stop.stdout).toContain('2 removed');
        let settled: string[] = [];
        await expect
          .poll(
            () => {
              const folders = existsSync(outDir)
                ? readdirSync(outDir).filter((n) => n.startsWith('fleet-'))
                : [];
              settled = finishedRuns(outDir, 'fleet');
              return folders.length > 0 && settled.length === folders.length;
            },
            { timeout: 30_000, interval: 250 },
          )
          .toBe(true);

        const input = readCsv(join(jobs.root, 'fleet.csv'));
        for (const run of settled) {
          // The folder is named after its tick, an even second (the pattern), UTC.
          expect(run).toMatch(/^fleet-\d{8}T\d{4}[0-5][02468]Z$/);
          const rows = readCsv(join(outDir, run, 'results.csv'));
          expect(rows.map((r) => r.device_id)).toEqual(input.map((r) => r.device_id));
          expect(rows.every((r) => r.phone_e164 !== '' && r.reachability_status !== '')).toBe(true);
          expect(rows.find((r) => r.msisdn === '07400 300111')?.phone_e164).toBe('+447400300111');
          const report = JSON.parse(readFileSync(join(outDir, run, 'report.json'), 'utf8')) as {
            rows: { total: number };
            rows_in_error: number;
          };
          expect(report.rows.total).toBe(30);
          expect(report.rows_in_error).toBe(0);
        }

        // Each tick was started by one worker only, and each of its numbers was asked once.
        const started = workers.flatMap((w) =>
          w
            .stderr()
            .split('\n')
            .filter((l) => l.includes('"msg":"scheduled scan fleet started'))
            .map((l) => (JSON.parse(l) as { tick: string }).tick),
        );
        expect(started.length).toBe(settled.length);
        expect(new Set(started).size).toBe(started.length);
        const stats = (await (await fetch(`${sim.url}/_sim/stats`)).json()) as {
          byNumber: Record<string, number>;
        };
        expect(Object.keys(stats.byNumber)).toHaveLength(30);
        expect(Object.values(stats.byNumber).every((n) => n === settled.length)).toBe(true);

        // The bad source: one clear line in a worker's log, and both workers still alive until told to stop.
        const logs = workers.map((w) => w.stderr()).join('');
        expect(logs).toMatch(/"msg":"scheduled scan lost not started: \S+no-such-export\.csv: no such file"/);
        expect(workers.every((w) => w.child.exitCode === null)).toBe(true);
      } finally {
        for (const w of workers) w.child.kill('SIGTERM');
        const ends = await Promise.all(workers.map((w) => w.done));
        await sim.stop();
        expect(ends.map((e) => e.code)).toEqual([0, 0]);
        for (const end of ends) expect(end.stderr).toContain('SIGTERM, finishing the jobs in hand');
      }
    },
  );
});
