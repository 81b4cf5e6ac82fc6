import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { startFaultCase, type FaultCase } from './harness.js';

const ROWS = 600;
const DOWN_MS = 3_000;

let c: FaultCase | undefined;
afterEach(async () => {
  await c?.close();
  c = undefined;
});

describe('Redis restart mid-batch', () => {
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    const how = signal === 'SIGTERM' ? 'a clean shutdown' : 'a crash';
    it(`Redis stopped (${how}, ${signal}) for ${DOWN_MS / 1000} s mid-batch: every process reconnects, every record once`, async () => {
      // 2 workers × 4 lookups in flight, 30 ms each: a couple of seconds of lookups around the outage.
      c = await startFaultCase({ simArgs: ['--latency-ms', '30'] });
      const { path, ids, numbers } = c.input(ROWS);
      const out = c.out();
      const startedAt = Date.now();
      const workers = [0, 1].map(() => (c as FaultCase).worker(['--concurrency', '4']));
      const scan = c.scan([path, '--out', out, '--no-worker', '--chunk-size', '25']);
      const batchId = await c.batchId(scan);

      let answeredBefore = 0;
      await c.until(
        'a third of the answers',
        async () => {
          answeredBefore = (await (c as FaultCase).progress(batchId))?.answered ?? 0;
          return answeredBefore >= ROWS / 3;
        },
        30_000,
        5,
      );
      const connected = await c.connections();
      expect(connected).not.toBeNull();
      await c.redis.stop(signal);
      const stoppedAt = Date.now();
      // Everyone saved what they could before the stop; nothing more lands while Redis is down.
      const answeredAtStop = answeredBefore;
      await sleep(DOWN_MS);
      await c.redis.start();
      const downMs = Date.now() - stoppedAt;

      // appendfsync always: nothing Redis acknowledged is lost, even to a crash.
      let after = await c.progress(batchId);
      await c.until('Redis to answer again', async () => {
        after = await (c as FaultCase).progress(batchId);
        return after !== null;
      });
      expect(after?.answered).toBeGreaterThanOrEqual(answeredAtStop);
      // Every process (scan, both workers, each with its BullMQ connections) is back on the same Redis.
      await c.until(
        'every connection to come back',
        async () => {
          const now = await (c as FaultCase).connections();
          return now !== null && JSON.stringify(now) === JSON.stringify(connected);
        },
        30_000,
        100,
      );
      const reconnectMs = Date.now() - stoppedAt - downMs;

      const end = await scan.done;
      const ms = Date.now() - startedAt;
      expect(end.code, end.stderr).toBe(0);
      const figures = c.account(out, ids);
      expect(figures).toMatchObject({ rowsIn: ROWS, rowsOut: ROWS, duplicates: 0, lost: 0, unexpected: 0 });
      expect(figures.inOrder).toBe(true);
      expect(figures.inError).toBe(0);

      const stats = await c.stats();
      const asked = numbers.map((n) => stats.byNumber[n] ?? 0);
      expect(asked.every((n) => n >= 1)).toBe(true);
      expect(Math.max(...asked)).toBeLessThanOrEqual(2);
      const twice = asked.filter((n) => n === 2).length;

      // Both workers lived through it and stop cleanly; the finalize ran once.
      for (const w of workers) expect(w.child.exitCode).toBeNull();
      const exits = await Promise.all(workers.map((w) => (c as FaultCase).kill(w, 'SIGTERM')));
      expect(exits.map((e) => e.code)).toEqual([0, 0]);
      expect(c.logCount(workers, 'batch done')).toBe(1);

      c.record({
        case: `Redis ${signal} + restart`,
        ...figures,
        ms,
        notes: `stopped at ${answeredAtStop}/${ROWS} answered, down ${(downMs / 1000).toFixed(1)} s, all reconnected ${(reconnectMs / 1000).toFixed(1)} s after; ${twice} numbers asked twice`,
      });
    });
  }
});
