import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterEach, describe, expect, inject, it, vi } from 'vitest';
import { dayAnchor, deviceStateFor } from '../../../src/simulator/index.js';
import type { SimulatorStats } from '../../../src/simulator/stats.js';
import { spawnReachscan, simulatorEnv, type ReachscanProcess } from '../../support/reachscan-process.js';
import { startSimulatorProcess, type SimulatorProcess } from '../../support/simulator-process.js';

const tempDir = () => mkdtempSync(join(tmpdir(), 'reachscan-budget-'));

function numbers(count: number, seed: number): string[] {
  return Array.from({ length: count }, (_, i) => `+4475${String(seed * 100_000 + i).padStart(8, '0')}`);
}

function numbersFile(count: number, seed: number): string {
  const lines = Array.from(
    { length: count },
    (_, i) => `row${i},+4475${String(seed * 100_000 + i).padStart(8, '0')}`,
  );
  const path = join(tempDir(), 'numbers.csv');
  writeFileSync(path, ['id,msisdn', ...lines].join('\n'));
  return path;
}

async function simStats(sim: SimulatorProcess): Promise<SimulatorStats> {
  return (await (await fetch(`${sim.url}/_sim/stats`)).json()) as SimulatorStats;
}

let cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(cleanup.map((stop) => stop()));
  cleanup = [];
});

/** A simulator whose carrier caps requests per second (429s in bursts), three workers, and their environment. */
async function setUp(extraEnv: Record<string, string>) {
  const sim = await startSimulatorProcess(['--rate-cap', '400']);
  const env = {
    ...simulatorEnv(sim.stdout()),
    REDIS_URL: inject('redisUrl'),
    REACHSCAN_QUEUE_PREFIX: `budget-${randomUUID()}`,
    REACHSCAN_LOG_LEVEL: 'info',
    ...extraEnv,
  };
  const workers = [0, 1, 2].map(() => spawnReachscan(['worker', '--concurrency', '8'], env));
  cleanup.push(async () => {
    for (const w of workers) w.child.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.done));
    await sim.stop();
  });
  return { sim, env };
}

/** Waits until the waiting scan says the batch paused; its id and reason. */
async function pausedBatch(scan: ReachscanProcess): Promise<{ id: string; reason: string }> {
  let found: RegExpExecArray | null = null;
  await vi.waitFor(
    () => {
      found = /batch ([0-9a-f]{24}) paused: (.*)/.exec(scan.stdout() + scan.stderr());
      if (found === null) throw new Error(`not paused yet:\n${scan.stdout()}\n${scan.stderr()}`);
    },
    { timeout: 120_000, interval: 200 },
  );
  const match = found as unknown as RegExpExecArray;
  return { id: match[1] as string, reason: match[2] as string };
}

/** Waits until the simulator's count stops moving (requests in flight at the pause have landed). */
async function settledStats(sim: SimulatorProcess): Promise<SimulatorStats> {
  let last = -1;
  for (;;) {
    const stats = await simStats(sim);
    if (stats.requests === last) return stats;
    last = stats.requests;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

describe('budgets across three worker processes', () => {
  it('--budget 237: no more than 237 requests reach the carrier, the batch pauses, resume --budget 2000 completes it', async () => {
    const { sim, env } = await setUp({});
    const input = numbersFile(1_000, 3);
    const out = tempDir();
    const scan = spawnReachscan(
      ['scan', input, '--out', out, '--no-worker', '--chunk-size', '20', '--budget', '237'],
      env,
    );
    cleanup.push(async () => {
      scan.child.kill('SIGINT');
      await scan.done;
    });
    const paused = await pausedBatch(scan);
    expect(paused.reason).toBe('budget reached: 237 of 237 requests spent');
    const atPause = await settledStats(sim);
    expect(atPause.requests).toBeLessThanOrEqual(237);
    expect(atPause.requests).toBeGreaterThan(200);

    const resume = await spawnReachscan(['resume', paused.id, '--budget', '2000'], env).done;
    expect(resume.code, resume.stderr).toBe(0);
    expect(resume.stdout).toContain('budget reached: 237 of 237 requests spent');
    const done = await scan.done;
    expect(done.code, done.stderr).toBe(0);

    const stats = await simStats(sim);
    expect(stats.requests).toBeLessThanOrEqual(2000);
    const answered = Object.values(stats.answeredByNumber);
    expect(answered).toHaveLength(1_000);
    expect(answered.every((n) => n === 1)).toBe(true);
    const rows = parse<Record<string, string>>(readFileSync(join(out, 'results.csv')), { columns: true });
    expect(rows).toHaveLength(1_000);
    expect(rows.every((r) => r.error === '' && r.reachability_status !== '')).toBe(true);
    // The report counts what was really sent: every request the carrier received, 429s included.
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as {
      cost: { requests: number; budget: string };
    };
    expect(report.cost.requests).toBe(stats.requests);
    expect(report.cost.budget).toBe('2000 requests');
  }, 300_000);

  it('a money budget with prices for device-status auth calls: the spend at the carrier stays under it, resume completes', async () => {
    const prices = {
      currency: 'EUR',
      'device-status': { token: 0.001, 'bc-authorize': 0.002, connectivity: 0.01, roaming: 0.01 },
    };
    const { sim, env } = await setUp({ REACHSCAN_PRICES: JSON.stringify(prices) });
    const input = numbersFile(1_000, 4);
    const out = tempDir();
    const scan = spawnReachscan(
      [
        'scan',
        input,
        '--out',
        out,
        '--no-worker',
        '--provider',
        'device-status',
        '--chunk-size',
        '20',
        '--budget',
        '2.37EUR',
      ],
      env,
    );
    cleanup.push(async () => {
      scan.child.kill('SIGINT');
      await scan.done;
    });
    const paused = await pausedBatch(scan);
    expect(paused.reason).toMatch(/^budget reached: 2\.3\d+ of 2\.37 EUR spent$/);
    const atPause = await settledStats(sim);
    const cost = (stats: SimulatorStats) => {
      let micros = 0;
      for (const [path, count] of Object.entries(stats.byPath)) {
        const kind = path.split('/').pop() as string;
        const price = (prices['device-status'] as Record<string, number>)[kind];
        expect(price, `a request the price table does not name: ${path}`).toBeDefined();
        micros += Math.round((price as number) * 1e6) * count;
      }
      return micros / 1e6;
    };
    expect(cost(atPause)).toBeLessThanOrEqual(2.37);
    expect(atPause.byPath['/oauth2/bc-authorize']).toBeGreaterThan(0);

    const resume = await spawnReachscan(['resume', paused.id, '--budget', '100EUR'], env).done;
    expect(resume.code, resume.stderr).toBe(0);
    const done = await scan.done;
    expect(done.code, done.stderr).toBe(0);
    const stats = await simStats(sim);
    // Every number answered: Device Status answers twice (/connectivity, /roaming) for numbers on a supported
    // network; the others get their answer at the back-channel auth.
    const anchor = dayAnchor(Date.now());
    const onNetwork = numbers(1_000, 4).filter(
      (n) => deviceStateFor(n, 'reachscan', anchor).kind === 'device',
    );
    expect(Object.keys(stats.answeredByNumber).sort()).toEqual([...onNetwork].sort());
    const counts = Object.values(stats.answeredByNumber);
    // Both calls answered for every number; a call is asked again when its lookup was cut short by the budget or
    // its partner call met a 429 (the lookup is retried whole), so a few numbers see more.
    expect(counts.every((n) => n >= 2)).toBe(true);
    expect(counts.filter((n) => n > 2).length).toBeLessThanOrEqual(100);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as {
      cost: { requests: number; amount: number; currency: string };
      lookups_failed: number;
      rows: { total: number };
    };
    expect(report.rows.total).toBe(1_000);
    expect(report.lookups_failed).toBe(0);
    expect(report.cost.requests).toBe(stats.requests);
    expect(report.cost.amount).toBeCloseTo(cost(stats), 6);
    expect(report.cost.currency).toBe('EUR');
  }, 400_000);
});
