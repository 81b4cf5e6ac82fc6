import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startRedisServer } from '../../../src/queue/private-redis.js';
import { startSimulatorProcess, type SimulatorProcess } from '../../support/simulator-process.js';
import { dropFile, folders, list, phoneCsv, readResults, startWatcher, watchEnv } from './harness.js';

let sim: SimulatorProcess;
beforeAll(async () => {
  sim = await startSimulatorProcess();
});
afterAll(async () => {
  await sim.stop();
});

describe('reachscan watch: Redis away (subprocess)', () => {
  it(
    'while Redis does not answer, files stay where they are (never failed/); when it is back they are taken',
    { timeout: 90_000 },
    async () => {
      const port = await freePort();
      // Our own redis-server on a port of its own, so it can be stopped and started again there.
      let redis = await startRedisServer({ port });
      const f = folders();
      const watcher = startWatcher(f, { ...watchEnv(sim), REDIS_URL: `redis://127.0.0.1:${port}` });
      try {
        await watcher.waitFor(/watching /);
        await redis.stop();
        dropFile(f.inbox, 'while-down.csv', phoneCsv(400_040_000, 10));
        await watcher.waitFor(/Redis is not answering/);
        // Proving that nothing happens takes a while: ten more polls while Redis stays away, the file complete.
        await new Promise((resolve) => setTimeout(resolve, 2_000));
        expect(list(f.inbox)).toContain('while-down.csv');
        expect(list(join(f.inbox, 'failed'))).toEqual([]);
        expect(list(join(f.inbox, 'processing'))).toEqual([]);
        expect(watcher.stderr().match(/Redis is not answering/g)).toHaveLength(1);
        expect(watcher.child.exitCode).toBeNull();

        redis = await startRedisServer({ port });
        await expect.poll(() => list(join(f.inbox, 'done')), { timeout: 60_000 }).toHaveLength(1);
        expect(watcher.stderr()).toContain('Redis answers again; taking files');
        const [filed] = list(join(f.inbox, 'done'));
        expect(readResults(join(f.outbox, (filed as string).replace(/\.csv$/, '')))).toHaveLength(10);
      } finally {
        expect(await watcher.stop()).toBe(0);
        await redis.stop();
      }
    },
  );
});
