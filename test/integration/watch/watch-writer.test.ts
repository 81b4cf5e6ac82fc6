import { closeSync, existsSync, openSync, readdirSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulatorProcess, type SimulatorProcess } from '../../support/simulator-process.js';
import { folders, list, phoneCsv, readResults, startWatcher, watchEnv } from './harness.js';

/** Slow answers: the writer has time to write again before the batch writes its outputs. */
let sim: SimulatorProcess;
beforeAll(async () => {
  sim = await startSimulatorProcess(['--latency-ms', '200']);
});
afterAll(async () => {
  await sim.stop();
});

describe('reachscan watch: a writer that goes on writing after the file was taken', () => {
  it(
    'the outputs are the file as it was taken: the batch read its own copy, not the file the writer still holds',
    { timeout: 60_000 },
    async () => {
      const f = folders();
      const watcher = startWatcher(f, watchEnv(sim));
      // The writer keeps its descriptor: after the rename into processing/, it writes to the same inode.
      const fd = openSync(join(f.inbox, 'crm.csv'), 'w');
      try {
        writeSync(fd, phoneCsv(400_100_000, 40));
        // Taken once unchanged for --settle; once the carrier is being asked, the file has been read.
        const requests = async () =>
          ((await (await fetch(`${sim.url}/_sim/stats`)).json()) as { requests: number }).requests;
        await expect.poll(requests, { timeout: 30_000, interval: 20 }).toBeGreaterThan(0);
        writeSync(fd, 'LATE1,+447400199001\nLATE2,+447400199002\n');
        closeSync(fd);

        await expect.poll(() => list(join(f.inbox, 'done')), { timeout: 30_000 }).toHaveLength(1);
        const [outName] = readdirSync(f.outbox);
        const rows = readResults(join(f.outbox, outName as string));
        expect(rows.map((r) => r.id)).toEqual(Array.from({ length: 40 }, (_, i) => `R${i + 1}`));
        expect(rows.every((r) => r.error === '')).toBe(true);
        // The copy went with the finished batch.
        expect(existsSync(join(f.outbox, outName as string, '.reachscan'))).toBe(false);
      } finally {
        expect(await watcher.stop()).toBe(0);
      }
    },
  );
});
