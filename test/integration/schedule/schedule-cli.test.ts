import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { nextRuns } from '../../../src/schedule/cron.js';
import { jobsFolder, listJson, reachscan, type ListedSchedule } from './cli.js';

const fleet = join(import.meta.dirname, '..', '..', '..', 'fixtures', 'iot-fleet.csv');
const nightly = { source: 'fleet.csv', cron: '0 2 * * *', timezone: 'Europe/Paris', out: '../out' };
const fast = { source: fleet, cron: '*/2 * * * * *', timezone: 'UTC', out: '../out', defaultCountry: 'GB' };

const redis = new Redis(inject('redisUrl'));
afterAll(() => redis.quit());

/** A queue prefix of its own per test, as the product's users would set REACHSCAN_QUEUE_PREFIX. */
function freshEnv() {
  const name = `schedule-${randomUUID()}`;
  return { env: { REACHSCAN_QUEUE_PREFIX: name }, prefix: `{${name}}` };
}

/** The pending jobs (next ticks) in the schedules queue, by scheduler id. */
async function pendingTicks(prefix: string): Promise<string[]> {
  const queue = new Queue('schedules', { connection: redis, prefix });
  try {
    // A tick due within the sync's own second is added as waiting rather than delayed: both are pending.
    return (await queue.getJobs(['delayed', 'wait', 'prioritized']))
      .map((job) => job.repeatJobKey ?? '?')
      .sort();
  } finally {
    await queue.close();
  }
}

/** The next run is after the sync began and is one of the pattern's ticks, and both renderings agree. */
function expectNextRunMatches(entry: ListedSchedule | undefined, since: number) {
  expect(entry).toBeDefined();
  const { next_run, next_run_local, pattern, timezone } = entry as ListedSchedule;
  const next = Date.parse(next_run ?? '');
  expect(next).toBeGreaterThan(since);
  expect(nextRuns(pattern, timezone, since, 20)).toContain(next);
  expect(Date.parse(next_run_local ?? '')).toBe(next);
}

describe('reachscan schedule sync / list (subprocesses)', () => {
  it(
    'sync adds one scheduler per job file; list shows next runs that follow each pattern; a second sync changes nothing',
    { timeout: 60_000 },
    async () => {
      const { env } = freshEnv();
      const jobs = jobsFolder();
      jobs.write('nightly', nightly);
      jobs.write('fast', fast);
      const since = Date.now();
      const sync = await reachscan(['schedule', 'sync', '--dir', jobs.dir], env);
      expect(sync.code, sync.stderr).toBe(0);
      const lines = sync.stdout.trim().split('\n');
      expect(lines[0]).toMatch(/^added +fast +"\*\/2 \* \* \* \* \*" UTC, next \S+Z \(\S+\+00:00\)$/);
      expect(lines[1]).toMatch(
        /^added +nightly +"0 2 \* \* \*" Europe\/Paris, next \S+Z \(\S+T02:00:00\+0[12]:00\)$/,
      );
      expect(lines[2]).toBe(
        `schedules from ${jobs.dir} on {${env.REACHSCAN_QUEUE_PREFIX}}: 2 added, 0 updated, 0 unchanged, 0 removed, 0 disabled`,
      );
      // The nightly job's export does not exist yet: said, not refused.
      expect(sync.stderr.trim()).toBe(
        `reachscan: warning: ${jobs.dir}/nightly.json: "source": ${jobs.dir}/fleet.csv does not exist yet; runs fail until it does\nreachscan schedule: using Redis at ${inject('redisUrl')} (already running)`,
      );

      const listed = await listJson(env);
      expect(listed.map((s) => s.id).sort()).toEqual(['fast', 'nightly']);
      const byId = new Map(listed.map((s) => [s.id, s]));
      expectNextRunMatches(byId.get('fast'), since);
      expectNextRunMatches(byId.get('nightly'), since);
      expect(byId.get('nightly')).toMatchObject({
        pattern: '0 2 * * *',
        timezone: 'Europe/Paris',
        source: join(jobs.dir, 'fleet.csv'),
        out: join(jobs.root, 'out'),
        provider: 'identity-insights',
        job_file: join(jobs.dir, 'nightly.json'),
        last_run: null,
      });
      expect(byId.get('nightly')?.next_run_local).toMatch(/T02:00:00\+0[12]:00$/);

      // The table: a header, then one row per schedule with both renderings of its next run.
      const table = await reachscan(['schedule', 'list'], env);
      expect(table.code).toBe(0);
      const [header, ...rows] = table.stdout.trim().split('\n');
      expect(header?.split(/ {2,}/)).toEqual([
        'id',
        'pattern',
        'time zone',
        'next run (UTC)',
        'next run (local)',
        'source',
        'last run',
      ]);
      const nightlyRow = rows.find((r) => r.startsWith('nightly '))?.split(/ {2,}/);
      expect(nightlyRow?.slice(0, 3)).toEqual(['nightly', '0 2 * * *', 'Europe/Paris']);
      expect(Date.parse(nightlyRow?.[3] ?? '')).toBe(Date.parse(byId.get('nightly')?.next_run ?? ''));
      expect(Date.parse(nightlyRow?.[4] ?? '')).toBe(Date.parse(byId.get('nightly')?.next_run ?? ''));
      expect(nightlyRow?.slice(5)).toEqual([join(jobs.dir, 'fleet.csv'), '-']);

      const again = await reachscan(['schedule', 'sync', '--dir', jobs.dir], env);
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(/^unchanged +fast /m);
      expect(again.stdout).toMatch(/^unchanged +nightly /m);
      expect(again.stdout).toContain('0 added, 0 updated, 2 unchanged, 0 removed, 0 disabled');
      const after = await listJson(env);
      expect(after.find((s) => s.id === 'nightly')?.next_run).toBe(byId.get('nightly')?.next_run);
    },
  );

  it(
    'editing a file updates its scheduler; a deleted or disabled file loses its scheduler and its pending tick',
    { timeout: 60_000 },
    async () => {
      const { env, prefix } = freshEnv();
      const jobs = jobsFolder();
      jobs.write('nightly', nightly);
      jobs.write('fast', fast);
      expect((await reachscan(['schedule', 'sync', '--dir', jobs.dir], env)).code).toBe(0);
      expect(await pendingTicks(prefix)).toEqual(['fast', 'nightly']);

      jobs.write('fast', { ...fast, cron: '*/5 * * * * *', timezone: 'Asia/Kolkata', staleDays: 30 });
      const since = Date.now();
      const edited = await reachscan(['schedule', 'sync', '--dir', jobs.dir], env);
      expect(edited.code, edited.stderr).toBe(0);
      expect(edited.stdout).toMatch(
        /^updated +fast +"\*\/5 \* \* \* \* \*" Asia\/Kolkata, next .*\+05:30\)$/m,
      );
      expect(edited.stdout).toMatch(/^unchanged +nightly /m);
      const fastNow = (await listJson(env)).find((s) => s.id === 'fast');
      expect(fastNow).toMatchObject({ pattern: '*/5 * * * * *', timezone: 'Asia/Kolkata' });
      expectNextRunMatches(fastNow, since);
      expect(new Date(fastNow?.next_run ?? '').getUTCSeconds() % 5).toBe(0);
      // Still one pending tick per schedule: the edit replaced fast's, it did not add one.
      expect(await pendingTicks(prefix)).toEqual(['fast', 'nightly']);

      rmSync(join(jobs.dir, 'fast.json'));
      const removed = await reachscan(['schedule', 'sync', '--dir', jobs.dir], env);
      expect(removed.code).toBe(0);
      expect(removed.stdout).toMatch(/^removed +fast +\(its job file is gone\)$/m);
      expect(removed.stdout).toContain('0 added, 0 updated, 1 unchanged, 1 removed, 0 disabled');
      expect((await listJson(env)).map((s) => s.id)).toEqual(['nightly']);
      expect(await pendingTicks(prefix)).toEqual(['nightly']);

      jobs.write('nightly', { ...nightly, enabled: false });
      const disabled = await reachscan(['schedule', 'sync', '--dir', jobs.dir], env);
      expect(disabled.stdout).toMatch(/^disabled +nightly +\("enabled": false\)$/m);
      expect(await listJson(env)).toEqual([]);
      expect(await pendingTicks(prefix)).toEqual([]);
      const empty = await reachscan(['schedule', 'list'], env);
      expect(empty.stdout).toBe(
        `no schedules on ${prefix}: add job files to jobs/ and run reachscan schedule sync\n`,
      );
    },
  );

  it(
    'invalid job files: every problem named with its file and field, exit 2, nothing changed',
    { timeout: 60_000 },
    async () => {
      const { env, prefix } = freshEnv();
      const jobs = jobsFolder();
      jobs.write('nightly', nightly);
      jobs.write('fast', fast);
      expect((await reachscan(['schedule', 'sync', '--dir', jobs.dir], env)).code).toBe(0);
      const before = await listJson(env);

      // A good edit, a removal and a new file that would all apply, next to two bad files.
      jobs.write('nightly', { ...nightly, cron: '0 3 * * *' });
      rmSync(join(jobs.dir, 'fast.json'));
      jobs.write('added', fast);
      jobs.write('typos', { ...nightly, timezone: 'Europe/Pari', tiemzone: 'UTC', maxAge: '1 week' });
      jobs.write('broken', '{"source": "a.csv",');
      const r = await reachscan(['schedule', 'sync', '--dir', jobs.dir], env);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(new RegExp(`^reachscan: ${jobs.dir}/broken\\.json: not valid JSON \\(.+\\)$`)),
        `reachscan: ${jobs.dir}/typos.json: "tiemzone": unknown field (the fields are description, source, provider, cron, timezone, out, staleDays, maxAge, column, defaultCountry, rate, enabled, idColumns, label, purpose, sheet, xlsx, webhook, budget)`,
        `reachscan: ${jobs.dir}/typos.json: "timezone": unknown time zone "Europe/Pari"`,
        `reachscan: ${jobs.dir}/typos.json: "maxAge": must be a duration such as 90s, 30m, 24h or 7d, or "0" (got "1 week")`,
        'reachscan: schedule sync: nothing changed (4 problems above)',
      ]);
      const after = await listJson(env);
      expect(after).toEqual(before);
      expect(await pendingTicks(prefix)).toEqual(['fast', 'nightly']);
    },
  );

  it(
    'usage and infrastructure errors are one line each, with their exit codes',
    { timeout: 60_000 },
    async () => {
      const { env } = freshEnv();
      const cases: [string[], Record<string, string>, number, RegExp][] = [
        [
          ['schedule', 'sync', '--dir', '/nonexistent/jobs'],
          env,
          2,
          /^reachscan: --dir \/nonexistent\/jobs: no such folder$/,
        ],
        [
          ['schedule', 'frobnicate'],
          env,
          2,
          /^reachscan: schedule: unknown subcommand "frobnicate" \(sync or list\)$/,
        ],
        [
          ['schedule', 'list', 'extra'],
          env,
          2,
          /^reachscan: schedule list takes no arguments \(got "extra"\)$/,
        ],
        [['schedule', 'list', '--dir', 'jobs'], env, 2, /^reachscan: Unknown option '--dir'/],
        [
          ['schedule', 'list'],
          { ...env, REDIS_URL: 'redis://127.0.0.1:1' },
          3,
          /^reachscan: Redis at redis:\/\/127\.0\.0\.1:1 is not answering/,
        ],
      ];
      for (const [args, caseEnv, code, line] of cases) {
        const r = await reachscan(args, caseEnv);
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(code);
        expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
        expect(r.stderr.trim()).toMatch(line);
      }
      const help = await reachscan(['help', 'schedule'], env);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain('reachscan schedule sync [--dir DIR]');
    },
  );
});
