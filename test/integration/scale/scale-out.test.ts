import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse } from 'csv-parse/sync';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseHistoryKey } from '../../../src/history/number-key.js';
import type { SimulatorStats } from '../../../src/simulator/stats.js';
import { startLocalCluster, type LocalCluster } from '../../support/redis-cluster.js';
import { spawnReachscan, simulatorEnv, type ReachscanProcess } from '../../support/reachscan-process.js';
import { startSimulatorProcess, type SimulatorProcess } from '../../support/simulator-process.js';

const tempDir = () => mkdtempSync(join(tmpdir(), 'reachscan-scale-'));

/** A CSV of `count` distinct UK mobile numbers with an id column, and the ids in order. */
function fleetFile(count: number, seed: number): { path: string; ids: string[] } {
  const ids = Array.from({ length: count }, (_, i) => `SIM${seed}-${i}`);
  const lines = ids.map((id, i) => `${id},+4474${String(seed * 100_000 + i).padStart(8, '0')}`);
  const path = join(tempDir(), 'fleet.csv');
  writeFileSync(path, ['sim_id,msisdn', ...lines].join('\n'));
  return { path, ids };
}

async function simStats(sim: SimulatorProcess): Promise<SimulatorStats> {
  return (await (await fetch(`${sim.url}/_sim/stats`)).json()) as SimulatorStats;
}

async function stopAll(workers: readonly ReachscanProcess[]): Promise<(number | null)[]> {
  for (const w of workers) w.child.kill('SIGTERM');
  return Promise.all(workers.map(async (w) => (await w.done).code));
}

function resultRows(outDir: string): Record<string, string>[] {
  return parse<Record<string, string>>(readFileSync(join(outDir, 'results.csv')), { columns: true });
}

describe('scale-out: several worker processes on one Redis', () => {
  it('three workers share one batch and one rate cap: every number asked once, finalized once, the carrier cap never exceeded', async () => {
    // The carrier allows 40 requests in any sliding second; reachscan is told 36 for all workers together.
    const sim = await startSimulatorProcess(['--rate-cap', '40', '--latency-ms', '15', '--jitter-ms', '5']);
    const env = {
      ...simulatorEnv(sim.stdout()),
      REDIS_URL: inject('redisUrl'),
      REACHSCAN_QUEUE_PREFIX: `scale-${randomUUID()}`,
      REACHSCAN_LOG_LEVEL: 'info',
    };
    // Each worker alone could go far faster than the cap: 6 lookups in flight at ~15 ms each.
    const workers = [0, 1, 2].map(() => spawnReachscan(['worker', '--concurrency', '6'], env));
    try {
      const { path, ids } = fleetFile(300, 1);
      const out = tempDir();
      const startedAt = Date.now();
      const scan = await spawnReachscan(
        ['scan', path, '--out', out, '--no-worker', '--rate', '36', '--chunk-size', '15'],
        env,
      ).done;
      const seconds = (Date.now() - startedAt) / 1000;
      expect(scan.code, scan.stderr).toBe(0);

      const rows = resultRows(out);
      expect(rows.map((r) => r.sim_id)).toEqual(ids);
      expect(rows.every((r) => r.error === '' && r.reachability_status !== '')).toBe(true);

      const stats = await simStats(sim);
      expect(Object.keys(stats.byNumber)).toHaveLength(300);
      expect(Object.values(stats.byNumber).every((n) => n === 1)).toBe(true);
      expect(stats.requests).toBe(300);
      // The one shared cap held: the carrier never refused, and never saw more than its 40 in a second.
      expect(stats.rateLimited).toBe(0);
      expect(stats.peakPerSecond).toBeLessThanOrEqual(40);
      expect(300 / seconds).toBeLessThanOrEqual(36);
      // All three took part: each process signs its own token and keeps it.
      expect(stats.distinctJwtIds).toBe(3);

      const exits = await stopAll(workers);
      expect(exits).toEqual([0, 0, 0]);
      // The finalize step ran once, on one of them.
      const finalized = workers.map((w) => (w.stderr().match(/"msg":"batch done"/g) ?? []).length);
      expect(finalized.reduce((a, b) => a + b, 0)).toBe(1);
    } finally {
      await stopAll(workers);
      await sim.stop();
    }
  });
  it('three workers whose event loops keep stalling never send the carrier more than --rate in any second', async () => {
    // The carrier's cap is exactly --rate: one request too many in any sliding second shows, as a 429 too.
    const sim = await startSimulatorProcess(['--rate-cap', '30', '--latency-ms', '15', '--jitter-ms', '5']);
    const stall = pathToFileURL(join(import.meta.dirname, '../../support/stall-event-loop.mjs')).href;
    const env = {
      ...simulatorEnv(sim.stdout()),
      REDIS_URL: inject('redisUrl'),
      REACHSCAN_QUEUE_PREFIX: `scale-${randomUUID()}`,
      REACHSCAN_LOG_LEVEL: 'info',
    };
    const workerEnv = { ...env, NODE_OPTIONS: `--import=${stall}` };
    const workers = [0, 1, 2].map(() => spawnReachscan(['worker', '--concurrency', '6'], workerEnv));
    try {
      const { path, ids } = fleetFile(240, 3);
      const out = tempDir();
      const scan = await spawnReachscan(
        ['scan', path, '--out', out, '--no-worker', '--rate', '30', '--chunk-size', '15'],
        env,
      ).done;
      expect(scan.code, scan.stderr).toBe(0);
      expect(resultRows(out).map((r) => r.sim_id)).toEqual(ids);
      const stats = await simStats(sim);
      expect(stats.peakPerSecond).toBeLessThanOrEqual(30);
      expect(stats.rateLimited).toBe(0);
      expect(stats.distinctJwtIds).toBe(3);
      expect(await stopAll(workers)).toEqual([0, 0, 0]);
    } finally {
      await stopAll(workers);
      await sim.stop();
    }
  }, 60_000);
});

describe('Redis Cluster', () => {
  let cluster: LocalCluster;
  let sim: SimulatorProcess;
  beforeAll(async () => {
    [cluster, sim] = await Promise.all([startLocalCluster(3), startSimulatorProcess()]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([cluster?.stop(), sim?.stop()]);
  });

  it('a batch runs through a 3-master cluster with two workers, the history spread over every master and working across runs', async () => {
    const client = new Cluster(cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })));
    // The slot map (and so the list of masters) is known once the client is ready.
    await new Promise((resolve) => client.once('ready', resolve));
    expect(client.nodes('master')).toHaveLength(3);
    // Queues and the history's own slot (its layout record) on different masters, so commands for both from one
    // process must be routed apart.
    const nodeOf = async (key: string) => client.slots[Number(await client.cluster('KEYSLOT', key))]?.[0];
    let name = `cluster-${randomUUID()}`;
    while ((await nodeOf(`{${name}}`)) === (await nodeOf(`{${name}-state}`)))
      name = `cluster-${randomUUID()}`;
    const env = {
      ...simulatorEnv(sim.stdout()),
      REDIS_URL: cluster.url,
      REACHSCAN_QUEUE_PREFIX: name,
      REACHSCAN_LOG_LEVEL: 'info',
    };
    const workers = [0, 1].map(() => spawnReachscan(['worker', '--concurrency', '8'], env));
    try {
      const { path, ids } = fleetFile(120, 2);
      const first = tempDir();
      const scan = await spawnReachscan(
        ['scan', path, '--out', first, '--no-worker', '--chunk-size', '10', '--rate', '500'],
        env,
      ).done;
      expect(scan.code, scan.stderr).toBe(0);
      expect(resultRows(first).map((r) => r.sim_id)).toEqual(ids);
      expect(scan.stdout).toContain('changes: none of these numbers had been checked before');

      // The same list again: every number is compared with the state the first run left in the cluster.
      const second = tempDir();
      const again = await spawnReachscan(['scan', path, '--out', second, '--no-worker'], env).done;
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toMatch(/changed since the previous check: 0 of 120 rows/);
      const stats = await simStats(sim);
      expect(Object.values(stats.byNumber).filter((n) => n === 2)).toHaveLength(120);

      // The queues keep one slot; the history's numbers are spread over its 64 buckets, and so over every
      // master: each holds a share of them.
      {
        const keysByNode = await Promise.all(
          client.nodes('master').map(async (node) => {
            const found: string[] = [];
            for await (const keys of node.scanStream({ match: `{${name}*`, count: 1000 }) as AsyncIterable<
              string[]
            >)
              found.push(...keys);
            return found;
          }),
        );
        const statesByNode = keysByNode.map((keys) =>
          keys.filter((k) => parseHistoryKey(`{${name}-state}:`, k)?.kind === 'state'),
        );
        expect(statesByNode.flat()).toHaveLength(120);
        expect(statesByNode.flat().every((k) => /^\{[^}]+-state:\d+\}:\+\d+$/.test(k))).toBe(true);
        // 120 numbers over 3 masters: about 40 each; a master with under 12 would not be holding its share.
        for (const states of statesByNode) expect(states.length).toBeGreaterThanOrEqual(12);
        expect(keysByNode.flat().some((k) => k.startsWith(`{${name}}:`))).toBe(true);
      }
      expect(await stopAll(workers)).toEqual([0, 0]);
    } finally {
      await stopAll(workers);
      client.disconnect();
    }
  });
});
