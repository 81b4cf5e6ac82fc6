import { randomUUID } from 'node:crypto';
import { appendFileSync, copyFileSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitForBatch } from '../../../src/batch/wait.js';
import { silentLogger } from '../../../src/logging/logger.js';
import { createRedis } from '../../../src/queue/connection.js';
import type { BatchJobData } from '../../../src/queue/job-data.js';
import { BATCH_QUEUE, queueOptions } from '../../../src/queue/keys.js';
import { startWorkers } from '../../../src/batch/worker.js';
import { parseJobFile } from '../../../src/schedule/job-file.js';
import { ScheduledRunError, startScheduledRun, type RunDeps } from '../../../src/schedule/start-run.js';
import { providerFor, startTestSimulator, type TestSimulator } from '../../support/simulator.js';

const fixture = join(import.meta.dirname, '..', '..', '..', 'fixtures', 'iot-fleet.csv');
const redis = createRedis(inject('redisUrl'), 'client');
let t: TestSimulator;
beforeAll(async () => {
  t = await startTestSimulator();
});
afterAll(async () => {
  await t.close();
  await redis.quit();
});

function setUp(fields: Record<string, unknown> = {}) {
  const root = mkdtempSync(join(tmpdir(), 'reachscan-start-run-'));
  copyFileSync(fixture, join(root, 'fleet.csv'));
  const result = parseJobFile({
    label: 'jobs/fleet.json',
    fileName: 'fleet.json',
    baseDir: root,
    text: JSON.stringify({
      source: 'fleet.csv',
      cron: '0 2 * * *',
      timezone: 'Europe/Paris',
      out: 'out',
      defaultCountry: 'GB',
      ...fields,
    }),
  });
  if (!result.ok) throw new Error(result.problems.join('\n'));
  const prefix = `{schedule-run-${randomUUID()}}`;
  const deps: RunDeps = {
    redis,
    prefix,
    history: { prefix: `{schedule-run-state-${randomUUID()}}:`, retentionDays: 400 },
    retryBaseMs: 20,
    copyRoot: null,
    clock: () => Date.now(),
  };
  return { root, definition: result.definition, deps };
}

const tick = Date.parse('2026-11-25T01:00:00Z');

describe('starting the batch of a tick', () => {
  it(
    'a tick starts one batch however often its job runs: retries join it, and after it is done nothing starts again',
    { timeout: 60_000 },
    async () => {
      const { root, definition, deps } = setUp();
      const first = await startScheduledRun(deps, definition, tick);
      expect(first).toMatchObject({
        kind: 'submitted',
        how: 'new',
        outDir: join(root, 'out', 'fleet-20261125T010000Z'),
      });
      // The same tick again while its batch waits for a worker (a retried job): it joins the batch.
      const retried = await startScheduledRun(deps, definition, tick);
      expect(retried).toEqual({ ...first, how: 'resumed' });

      const workers = startWorkers({
        redisUrl: inject('redisUrl'),
        prefix: deps.prefix,
        concurrency: 4,
        provider: (name) => providerFor(t, silentLogger(), {}, name as 'identity-insights'),
        logger: silentLogger(),
        clock: () => Date.now(),
        stateSecret: null,
        defaultPurpose: () => 'FraudPreventionAndDetection',
      });
      try {
        t.sim.reset();
        const end = await waitForBatch(redis, deps.prefix, first.batchId);
        expect(end).toMatchObject({ kind: 'finished', status: { state: 'done', exitCode: 0 } });
        expect(existsSync(join(first.outDir, 'results.csv'))).toBe(true);

        // Finished: the tick does not run again, not even when the source has changed since.
        expect(await startScheduledRun(deps, definition, tick)).toEqual({
          kind: 'already-started',
          batchId: first.batchId,
          outDir: first.outDir,
        });
        appendFileSync(join(root, 'fleet.csv'), 'NEW-0001,Oslo,+4791234567,home-no\n');
        expect(await startScheduledRun(deps, definition, tick)).toMatchObject({
          kind: 'already-started',
          batchId: first.batchId,
        });
        const asked = t.sim.stats().byNumber;
        expect(Object.keys(asked)).toHaveLength(30);
        expect(Object.values(asked).every((n) => n === 1)).toBe(true);

        // The next night is a run of its own, in its own folder.
        const next = await startScheduledRun(deps, definition, tick + 86_400_000);
        expect(next).toMatchObject({
          kind: 'submitted',
          how: 'new',
          outDir: join(root, 'out', 'fleet-20261126T010000Z'),
        });
        expect(next.batchId).not.toBe(first.batchId);
        await waitForBatch(redis, deps.prefix, next.batchId);
      } finally {
        await workers.close();
      }
    },
  );

  it(
    'a run that cannot start says why in one line naming the file (and is not claimed, so a fixed file runs)',
    { timeout: 60_000 },
    async () => {
      const missing = setUp({ source: 'gone.csv' });
      const error = await startScheduledRun(missing.deps, missing.definition, tick).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ScheduledRunError);
      expect((error as Error).message).toBe(`${join(missing.root, 'gone.csv')}: no such file`);
      expect(existsSync(join(missing.root, 'out'))).toBe(false);
      copyFileSync(fixture, join(missing.root, 'gone.csv'));
      expect(await startScheduledRun(missing.deps, missing.definition, tick)).toMatchObject({
        kind: 'submitted',
      });

      const noColumn = setUp({ column: 'imei' });
      const noColumnError = await startScheduledRun(noColumn.deps, noColumn.definition, tick).catch(
        (e: unknown) => e,
      );
      expect(noColumnError).toBeInstanceOf(ScheduledRunError);
      expect(
        (noColumnError as Error).message.startsWith(
          `${join(noColumn.root, 'fleet.csv')}: no column named "imei"`,
        ),
      ).toBe(true);

      const blocked = setUp();
      writeFileSync(join(blocked.root, 'out'), 'a file where the out folder should be');
      await expect(startScheduledRun(blocked.deps, blocked.definition, tick)).rejects.toThrow(
        /^jobs\/fleet\.json: "out": cannot create \S+\/out\/fleet-20261125T010000Z \(ENOTDIR\)$/,
      );
    },
  );

  it('runs carry the trend label (the schedule id unless the job file names one) and the id columns', async () => {
    const batchData = async (deps: RunDeps, batchId: string) => {
      const queue = new Queue(BATCH_QUEUE, queueOptions(redis, deps.prefix));
      try {
        return (await queue.getJob(batchId))?.data as BatchJobData;
      } finally {
        await queue.close();
      }
    };
    const plain = setUp();
    const run = await startScheduledRun(plain.deps, plain.definition, tick);
    // device_id,site,msisdn,sim_profile: the first two that are not the phone column.
    expect(await batchData(plain.deps, run.batchId)).toMatchObject({ label: 'fleet', idColumns: [0, 1] });

    const named = setUp({ label: 'IoT fleet', idColumns: ['sim_profile', 'device_id'] });
    const namedRun = await startScheduledRun(named.deps, named.definition, tick);
    expect(await batchData(named.deps, namedRun.batchId)).toMatchObject({
      label: 'IoT fleet',
      idColumns: [3, 0],
    });

    const unknown = setUp({ idColumns: 'device_id,imei' });
    await expect(startScheduledRun(unknown.deps, unknown.definition, tick)).rejects.toThrow(
      new ScheduledRunError(
        `jobs/fleet.json: "idColumns": ${join(unknown.root, 'fleet.csv')} has no column named "imei"; its columns are "device_id", "site", "msisdn", "sim_profile"`,
      ),
    );
  });
});
