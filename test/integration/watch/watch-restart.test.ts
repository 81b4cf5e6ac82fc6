import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulatorProcess, type SimulatorProcess } from '../../support/simulator-process.js';
import {
  dropFile,
  folders,
  list,
  numbersOf,
  phoneCsv,
  reachscan,
  readResults,
  requestCount,
  startWatcher,
  timesAsked,
  watchEnv,
} from './harness.js';

let sim: SimulatorProcess;
beforeAll(async () => {
  // Slow answers, so a file is still being scanned when its watcher is stopped.
  sim = await startSimulatorProcess(['--latency-ms', '80']);
});
afterAll(async () => {
  await sim.stop();
});

const outputFolder = (stamped: string) => stamped.replace(/\.csv$/, '');

describe('reachscan watch: restarts and several watchers (subprocess)', () => {
  it(
    'a watcher killed (SIGKILL) mid-file and started again finishes the file exactly once',
    { timeout: 90_000 },
    async () => {
      const f = folders();
      const env = watchEnv(sim);
      // Lookups in a separate worker process: the watcher dies, the batch goes on, the new watcher joins it.
      // One lookup at a time (60 × 80 ms): the batch is still running when the next watcher joins it.
      const worker = reachscan(['worker', '--concurrency', '1'], env);
      const numbers = numbersOf(400_010_000, 60);
      try {
        const first = startWatcher(f, env, ['--no-worker', '--chunk-size', '5']);
        dropFile(f.inbox, 'fleet.csv', phoneCsv(400_010_000, 60));
        await first.waitFor(/taken fleet\.csv/);
        await expect
          .poll(async () => (await timesAsked(sim, numbers)).filter((n) => n > 0).length, {
            timeout: 30_000,
            interval: 50,
          })
          .toBeGreaterThan(0);
        expect(await first.stop('SIGKILL')).toBe('SIGKILL');
        const [left] = list(join(f.inbox, 'processing'));
        expect(left).toMatch(/^fleet-\d{8}T\d{6}Z\.csv$/);
        expect(list(join(f.inbox, 'done'))).toEqual([]);
        expect((await timesAsked(sim, numbers)).filter((n) => n > 0).length).toBeLessThan(60);

        // The dead watcher's lock expires (--lock-ttl 3s); the next one resumes the same file into the same folder.
        const second = startWatcher(f, env, ['--no-worker', '--chunk-size', '5']);
        try {
          await expect.poll(() => list(join(f.inbox, 'done')), { timeout: 60_000 }).toEqual([left]);
          expect(second.stderr()).toContain(`resuming fleet.csv (processing/${left})`);
          expect(second.stderr()).not.toContain('taken fleet.csv');
          expect(list(f.outbox)).toEqual([outputFolder(left as string)]);
          const rows = readResults(join(f.outbox, outputFolder(left as string)));
          expect(rows.map((r) => r.phone)).toEqual(numbers);
          // Every row has the carrier's answer (whatever it is for that number).
          expect(rows.every((r) => r.reachability_status !== '' && r.source === 'simulated')).toBe(true);
          // One batch, resumed: no number was asked twice (the simulator injects no faults, so no retries).
          expect(await timesAsked(sim, numbers)).toEqual(Array(60).fill(1));
        } finally {
          expect(await second.stop()).toBe(0);
        }
      } finally {
        await worker.stop();
      }
    },
  );

  it(
    'SIGTERM mid-file: exit 0, the file stays in processing/, the next start resumes it with no number asked twice',
    { timeout: 90_000 },
    async () => {
      const f = folders();
      const env = watchEnv(sim);
      const numbers = numbersOf(400_020_000, 40);
      const args = ['--concurrency', '2', '--chunk-size', '5'];
      const first = startWatcher(f, env, args);
      dropFile(f.inbox, 'fleet.csv', phoneCsv(400_020_000, 40));
      await first.waitFor(/taken fleet\.csv/);
      await expect
        .poll(async () => (await timesAsked(sim, numbers)).filter((n) => n > 0).length, {
          timeout: 30_000,
          interval: 50,
        })
        .toBeGreaterThan(0);
      expect(await first.stop('SIGTERM')).toBe(0);
      expect(first.stderr()).toMatch(
        /fleet\.csv stays in processing\/ \(fleet-\d{8}T\d{6}Z\.csv\) and resumes at the next start/,
      );
      const [left] = list(join(f.inbox, 'processing'));
      expect(left).toBeDefined();
      expect((await timesAsked(sim, numbers)).filter((n) => n > 0).length).toBeLessThan(40);

      // Released on a clean stop: the next watcher takes it over at once.
      const second = startWatcher(f, env, args);
      try {
        await expect.poll(() => list(join(f.inbox, 'done')), { timeout: 60_000 }).toEqual([left]);
        expect(list(f.outbox)).toEqual([outputFolder(left as string)]);
        expect(readResults(join(f.outbox, outputFolder(left as string))).map((r) => r.phone)).toEqual(
          numbers,
        );
        expect(await timesAsked(sim, numbers)).toEqual(Array(40).fill(1));
      } finally {
        expect(await second.stop()).toBe(0);
      }
    },
  );

  it(
    'two watchers on one inbox: each of several files is scanned exactly once',
    { timeout: 90_000 },
    async () => {
      const f = folders();
      const env = watchEnv(sim);
      const files = Array.from({ length: 6 }, (_, i) => ({
        name: `list-${i + 1}.csv`,
        first: 400_030_000 + i * 100,
        rows: 8 + i,
      }));
      // All there before either starts: both see every file complete at the same moment.
      for (const file of files) dropFile(f.inbox, file.name, phoneCsv(file.first, file.rows));
      const before = await requestCount(sim);
      const watchers = [startWatcher(f, env), startWatcher(f, env)];
      try {
        await expect.poll(() => list(join(f.inbox, 'done')), { timeout: 60_000 }).toHaveLength(files.length);
        const log = watchers.map((w) => w.stderr()).join('');
        for (const file of files) {
          expect(
            log.match(new RegExp(`taken ${file.name.replace('.', '\\.')} `, 'g')),
            file.name,
          ).toHaveLength(1);
          expect(
            log.match(new RegExp(`done ${file.name.replace('.', '\\.')} `, 'g')),
            file.name,
          ).toHaveLength(1);
        }
        // Both worked: files were shared out, not all taken by whichever started first.
        for (const w of watchers) expect(w.stderr()).toMatch(/taken list-\d\.csv/);
        const outputs = list(f.outbox);
        expect(outputs).toHaveLength(files.length);
        for (const file of files) {
          const folder = outputs.find((o) => o.startsWith(file.name.replace('.csv', '-'))) as string;
          const rows = readResults(join(f.outbox, folder));
          expect(rows.map((r) => r.phone)).toEqual(numbersOf(file.first, file.rows));
          expect(await timesAsked(sim, numbersOf(file.first, file.rows))).toEqual(Array(file.rows).fill(1));
        }
        const total = files.reduce((sum, file) => sum + file.rows, 0);
        expect((await requestCount(sim)) - before).toBe(total);
        expect(list(join(f.inbox, 'processing'))).toEqual([]);
        expect(list(join(f.inbox, 'failed'))).toEqual([]);
        expect(
          readFileSync(join(f.inbox, 'done', list(join(f.inbox, 'done'))[0] as string), 'utf8'),
        ).toContain('id,phone');
      } finally {
        for (const w of watchers) expect(await w.stop()).toBe(0);
      }
    },
  );
});
