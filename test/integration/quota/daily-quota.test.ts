import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { readStatus } from '../../../src/batch/state.js';
import { hashTagged } from '../../../src/core/settings.js';
import { batchKeys } from '../../../src/queue/keys.js';
import { NO_FAULTS } from '../../../src/simulator/index.js';
import { readCsv, runScan, type ScanRun } from '../../support/scan.js';
import { startTestSimulator, type TestSimulator } from '../../support/simulator.js';

/** A CSV file of `count` distinct numbers; the numbers too. */
function numbersFile(count: number, seed: number): { path: string; numbers: string[] } {
  const numbers = Array.from(
    { length: count },
    (_, i) => `+4475${String(seed * 100_000 + i).padStart(8, '0')}`,
  );
  const path = join(mkdtempSync(join(tmpdir(), 'reachscan-quota-')), 'numbers.csv');
  writeFileSync(path, ['id,msisdn', ...numbers.map((n, i) => `row${i},${n}`)].join('\n'));
  return { path, numbers };
}

/** A scan running in this process (with its own in-process worker), its stderr readable while it runs. */
function startScan(
  t: TestSimulator,
  args: readonly string[],
  env: Record<string, string>,
  clock: () => number,
  stopWhenPaused = false,
): { stderr: () => string; done: Promise<ScanRun> } {
  let seen = '';
  const done = runScan(t, args, env, {
    clock,
    stopWhen: (stderr) => {
      seen = stderr;
      return stopWhenPaused && /paused: /.test(stderr);
    },
  });
  return { stderr: () => seen, done };
}

/** Waits until a scan says its batch paused; its id and reason. */
async function pausedBatch(scan: { stderr: () => string }): Promise<{ id: string; reason: string }> {
  const found = await vi.waitFor(
    () => {
      const match = /batch ([0-9a-f]{24}) paused: (.*)/.exec(scan.stderr());
      if (match === null) throw new Error(`not paused yet:\n${scan.stderr()}`);
      return match;
    },
    { timeout: 60_000, interval: 100 },
  );
  return { id: found[1] as string, reason: found[2] as string };
}

/** `reachscan quota --json`, run in this process on the test's clock. */
async function quotaNow(
  t: TestSimulator,
  env: Record<string, string>,
  clock: () => number,
): Promise<{
  day: string;
  resets_at: string;
  providers: { provider: string; used: number; left: number | null; limit: number | null }[];
}> {
  const run = await runScan(t, ['--json'], env, { clock, command: 'quota' });
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as Awaited<ReturnType<typeof quotaNow>>;
}

/** Waits until the simulator's count stops moving (requests in flight at the pause have landed). */
async function settledRequests(t: TestSimulator): Promise<number> {
  let last = -1;
  for (;;) {
    const now = t.sim.stats().requests;
    if (now === last) return now;
    last = now;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

describe('the daily quota, on a moved clock', () => {
  // 23:59:20 on 5 April 2025 in Auckland (NZDT, UTC+13): the quota day ends 40 s into the test. That night
  // DST ends, so the next quota day lasts 25 hours. In UTC it is still the 5th after the reset.
  const BEFORE_MIDNIGHT = Date.parse('2025-04-05T10:59:20Z');
  const MIDNIGHT = Date.parse('2025-04-05T11:00:00Z');
  let fake = { base: BEFORE_MIDNIGHT, real: Date.now() };
  const clock = () => fake.base + (Date.now() - fake.real);
  let t: TestSimulator;
  let redis: Redis;

  beforeAll(async () => {
    t = await startTestSimulator({ clock });
    t.sim.setDials({ faults: NO_FAULTS, rateCapPerSecond: 0, latencyMs: 0, authPendingShare: 0 });
    redis = new Redis(inject('redisUrl'));
  });
  afterAll(async () => {
    await redis.quit();
    await t.close();
  });

  it('pauses every batch at exactly the quota, then resumes them by itself after midnight in Pacific/Auckland', async () => {
    const queuePrefix = `quota-${randomUUID()}`;
    const env = {
      REACHSCAN_QUEUE_PREFIX: queuePrefix,
      REACHSCAN_DAILY_QUOTA: 'identity-insights=100',
      REACHSCAN_QUOTA_TZ: 'Pacific/Auckland',
    };
    const a = numbersFile(150, 1);
    const b = numbersFile(30, 2);
    fake = { base: BEFORE_MIDNIGHT, real: Date.now() };

    // Batch A: 150 numbers, one request each, against a quota of 100. Its scan stops waiting once it is paused
    // (its in-process worker goes with it): the batch must go on without the worker that paused it.
    const scanA = startScan(t, [a.path, '--chunk-size', '20'], env, clock, true);
    const pausedA = await pausedBatch(scanA);
    expect(pausedA.reason).toMatch(
      /^daily quota reached: 100 of 100 requests for identity-insights today \(resets at 00:00 Pacific\/Auckland, in \d+ s\)$/,
    );
    expect(scanA.stderr()).toContain('goes on by itself at the reset');
    // Batch B, queued while the quota is used up, pauses at its first request with the same reason.
    const scanB = startScan(t, [b.path, '--chunk-size', '20'], env, clock);
    const pausedB = await pausedBatch(scanB);
    expect(pausedB.reason).toMatch(/^daily quota reached: 100 of 100 requests for identity-insights today/);
    expect(clock(), 'both batches must pause before the moved midnight: too slow a machine?').toBeLessThan(
      MIDNIGHT,
    );

    // Exactly the quota reached the carrier, every worker together; the batches say why they wait.
    expect(await settledRequests(t)).toBe(100);
    expect(Object.keys(t.sim.stats().answeredByNumber)).toHaveLength(100);
    for (const paused of [pausedA, pausedB]) {
      const status = await readStatus(redis, batchKeys(hashTagged(queuePrefix), paused.id));
      expect(status.state).toBe('paused');
      expect(status.paused).toBe(paused.reason);
      expect(status.pausedUntil).toBe(MIDNIGHT);
    }
    const before = await quotaNow(t, env, clock);
    expect(before.day).toBe('2025-04-05');
    expect(before.resets_at).toBe('2025-04-05T11:00:00.000Z');
    expect(before.providers[0]).toEqual({ provider: 'identity-insights', used: 100, left: 0, limit: 100 });
    expect(before.providers[1]).toEqual({ provider: 'device-status', used: 0, left: null, limit: null });

    // After midnight in Auckland both batches go on by themselves: B's scan ends, A is finished by B's worker.
    const runB = await scanB.done;
    expect(runB.code, runB.stderr).toBe(0);
    expect(runB.stderr).toContain(`batch ${pausedB.id} resumed`);
    expect(clock()).toBeGreaterThanOrEqual(MIDNIGHT);
    const runA = await scanA.done;
    await vi.waitFor(
      async () => {
        const status = await readStatus(redis, batchKeys(hashTagged(queuePrefix), pausedA.id));
        expect(status.state).toBe('done');
      },
      { timeout: 30_000, interval: 200 },
    );

    // Every number asked exactly once, over two quota days: 100 on the first, 80 on the second.
    const stats = t.sim.stats();
    expect(stats.requests).toBe(180);
    const answered = Object.values(stats.answeredByNumber);
    expect(answered).toHaveLength(180);
    expect(answered.every((n) => n === 1)).toBe(true);
    for (const [run, file] of [
      [runA, a],
      [runB, b],
    ] as const) {
      const rows = readCsv(join(run.outDir, 'results.csv'));
      expect(rows.map((r) => r.phone_e164)).toEqual(file.numbers);
      expect(rows.every((r) => r.error === '' && r.reachability_status !== '')).toBe(true);
    }
    const after = await quotaNow(t, env, clock);
    expect(after.day).toBe('2025-04-06');
    // The day DST ends in New Zealand lasts 25 hours: it resets at midnight NZST, 12:00 UTC.
    expect(after.resets_at).toBe('2025-04-06T12:00:00.000Z');
    expect(after.providers[0]).toEqual({ provider: 'identity-insights', used: 80, left: 20, limit: 100 });
  }, 120_000);

  it('counts auth requests: device-status stops at exactly the quota of requests, token calls included', async () => {
    fake = { base: Date.parse('2025-07-01T09:00:00Z'), real: Date.now() };
    t.sim.reset();
    t.sim.setDials({ faults: NO_FAULTS, rateCapPerSecond: 0, latencyMs: 0, authPendingShare: 0 });
    const queuePrefix = `quota-${randomUUID()}`;
    const env = {
      REACHSCAN_QUEUE_PREFIX: queuePrefix,
      // Every provider 1,000 a day, but device-status 50.
      REACHSCAN_DAILY_QUOTA: '1000,device-status=50',
      REACHSCAN_QUOTA_TZ: 'America/New_York',
    };
    const file = numbersFile(40, 3);
    const scan = startScan(
      t,
      [file.path, '--provider', 'device-status', '--chunk-size', '10'],
      env,
      clock,
      true,
    );
    const paused = await pausedBatch(scan);
    // 05:00 in New York (EDT): the day resets in 19 hours.
    expect(paused.reason).toBe(
      'daily quota reached: 50 of 50 requests for device-status today (resets at 00:00 America/New_York, in 19 h)',
    );
    await scan.done;
    expect(await settledRequests(t)).toBe(50);
    const byPath = t.sim.stats().byPath;
    expect(byPath['/oauth2/bc-authorize']).toBeGreaterThan(0);
    expect(byPath['/oauth2/token']).toBeGreaterThan(0);
    const quota = await quotaNow(t, env, clock);
    expect(quota.providers.map((p) => [p.provider, p.used, p.left, p.limit])).toEqual([
      ['identity-insights', 0, 1000, 1000],
      ['device-status', 50, 0, 50],
      ['camara', 0, 1000, 1000],
    ]);
  }, 60_000);
});
