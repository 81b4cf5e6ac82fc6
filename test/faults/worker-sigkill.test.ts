import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { ReachscanProcess } from '../support/reachscan-process.js';
import { FAULT_LOCK_MS, startFaultCase, type BatchProgress, type FaultCase } from './harness.js';

const ROWS = 600;
/**
 * Lookups in flight per worker process (--concurrency). A SIGKILL costs at most twice that in repeated requests:
 * the lookups in flight and as many answers waiting for their write.
 */
const IN_FLIGHT = 4;

let c: FaultCase | undefined;
afterEach(async () => {
  await c?.close();
  c = undefined;
});

describe('worker SIGKILL', () => {
  it('a worker killed three times (mid-ingest, mid-lookups, mid-finalize) and replaced: every record once, finalized once', async () => {
    // 20 ms a lookup, 4 in flight: about 3.5 s of lookups, so each kill lands where it is meant to.
    c = await startFaultCase({ simArgs: ['--latency-ms', '20'] });
    const { path, ids, numbers } = c.input(ROWS);
    const out = c.out();
    const startedAt = Date.now();
    const scan = c.scan([path, '--out', out, '--no-worker', '--chunk-size', '25']);
    const batchId = await c.batchId(scan);
    const workers: ReachscanProcess[] = [];
    const startWorker = () => {
      const w = (c as FaultCase).worker(['--concurrency', String(IN_FLIGHT)]);
      workers.push(w);
      return w;
    };

    // Polled every 2 ms: ingest lasts ~0.4 s and finalize ~0.1 s here.
    let seen: BatchProgress | null = null;
    const killWhen = async (what: string, pred: (p: BatchProgress) => boolean) => {
      await (c as FaultCase).until(
        what,
        async () => {
          seen = await (c as FaultCase).progress(batchId);
          return seen !== null && pred(seen);
        },
        45_000,
        2,
      );
      const victim = workers.at(-1) as ReachscanProcess;
      const end = await (c as FaultCase).kill(victim, 'SIGKILL');
      expect(end.signal).toBe('SIGKILL');
      const at = seen;
      const after = await (c as FaultCase).progress(batchId);
      return { at, after };
    };

    startWorker();
    // 1: while the input is still being turned into chunk jobs.
    const k1 = await killWhen('ingest under way', (p) => p.state === 'ingesting' && p.records >= 100);
    expect(k1.after?.ingested).toBe(false);
    startWorker();
    // 2: around half the answers.
    const k2 = await killWhen('half the answers', (p) => p.answered >= ROWS / 2);
    expect(k2.after?.answered).toBeLessThan(ROWS);
    startWorker();
    // 3: while the outputs are being written.
    const k3 = await killWhen('finalize under way', (p) => p.state === 'finalizing');
    // Killed before closing the batch: its working data (the answers) is still there for the next worker.
    expect(k3.after?.state).toBe('finalizing');
    const finalizer = startWorker();

    const end = await scan.done;
    const ms = Date.now() - startedAt;
    expect(end.code, end.stderr).toBe(0);

    // The batch job is finished and gone from the queue: no finalize is left to run again.
    await c.until('the batch job to leave the queue', async () => {
      const active = await (c as FaultCase).activeJobs();
      return active !== null && active.batches === 0 && active.chunks === 0;
    });
    const results = readFileSync(join(out, 'results.csv'), 'utf8');

    const figures = c.account(out, ids);
    expect(figures).toMatchObject({ rowsIn: ROWS, rowsOut: ROWS, duplicates: 0, lost: 0, unexpected: 0 });
    expect(figures.inOrder).toBe(true);
    expect(figures.inError).toBe(0);

    // The finalize ran to its end once: the killed workers never logged it, the last one did, once.
    expect(workers.map((w) => c?.logCount([w], 'batch done'))).toEqual([0, 0, 0, 1]);
    // Outputs complete, nothing half-written left behind.
    const files = readdirSync(out);
    expect(files.filter((f) => f.endsWith('.partial'))).toEqual([]);
    expect(files).toEqual(
      expect.arrayContaining(['results.csv', 'rejects.csv', 'report.json', 'report.html']),
    );
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as {
      batch_id: string;
      rows: { total: number };
      rows_in_error: number;
    };
    expect(report).toMatchObject({ batch_id: batchId, rows: { total: ROWS }, rows_in_error: 0 });

    // Each kill costs at most the numbers asked and not yet saved: 2 × --concurrency.
    const stats = await c.stats();
    const kills = 3;
    const asked = numbers.map((n) => stats.byNumber[n] ?? 0);
    expect(asked.every((n) => n >= 1)).toBe(true);
    expect(Math.max(...asked)).toBeLessThanOrEqual(1 + kills);
    const extra = stats.requests - ROWS;
    expect(extra).toBeGreaterThanOrEqual(0);
    expect(extra).toBeLessThanOrEqual(kills * 2 * IN_FLIGHT);
    expect(Object.keys(stats.byNumber)).toHaveLength(ROWS);

    // The last worker stops cleanly, and the results did not change after the scan read them.
    expect((await c.kill(finalizer, 'SIGTERM')).code).toBe(0);
    expect(readFileSync(join(out, 'results.csv'), 'utf8')).toBe(results);

    const p = (x: BatchProgress | null) => `${x?.state}/${x?.records}rec/${x?.answered}ans`;
    c.record({
      case: 'worker SIGKILL ×3',
      ...figures,
      ms,
      notes: `kills at ${p(k1.at)}, ${p(k2.at)}, ${p(k3.at)}; extra requests ${extra} (≤ ${kills * IN_FLIGHT}); lock ${FAULT_LOCK_MS} ms`,
    });
  });

  it('a worker killed after closing the batch but before the queue heard: the next worker does not write the outputs again', async () => {
    c = await startFaultCase();
    const rows = 100;
    const startedAt = Date.now();
    let worker = c.worker(['--concurrency', '8']);
    let hit: { batchId: string; out: string; ids: string[]; round: number } | null = null;
    // The gap between closing the batch (state done, answers dropped) and BullMQ marking its job complete
    // lasts a few milliseconds: freeze the worker the moment the state says done, and kill it only if its
    // batch job is still active. A round that missed it lets the worker go on and tries again.
    for (let round = 1; round <= 8 && hit === null; round++) {
      const { path, ids } = c.input(rows, `input-${round}.csv`);
      const out = c.out(`out-${round}`);
      const scan = c.scan([path, '--out', out, '--no-worker', '--chunk-size', '25']);
      const batchId = await c.batchId(scan);
      await c.until(
        'the batch to be closed',
        async () => (await (c as FaultCase).progress(batchId))?.state === 'done',
        30_000,
        0,
      );
      worker.child.kill('SIGSTOP');
      if ((await c.activeJobs())?.batches === 1) {
        await c.kill(worker, 'SIGKILL');
        await sleep(200);
        // A completion already on its way to Redis when the worker froze counts as a miss.
        if ((await c.activeJobs())?.batches === 1) hit = { batchId, out, ids, round };
        worker = c.worker(['--concurrency', '8']);
      } else {
        worker.child.kill('SIGCONT');
      }
      const end = await scan.done;
      expect(end.code, end.stderr).toBe(0);
    }
    expect(hit, 'never caught a worker between closing a batch and completing its job').not.toBeNull();
    const { batchId, out, ids, round } = hit as NonNullable<typeof hit>;
    const results = readFileSync(join(out, 'results.csv'), 'utf8');
    const report = readFileSync(join(out, 'report.json'), 'utf8');

    // The new worker takes the dead one's batch job over (after the lock) and finishes it without rewriting.
    await c.until(
      'the batch job to be taken over and completed',
      async () => (await (c as FaultCase).activeJobs())?.batches === 0,
      30_000,
    );
    await c.until(
      'the finalize step to have run again',
      () => (c as FaultCase).logCount([worker], 'batch already finalized') === 1,
      5_000,
    );
    const ms = Date.now() - startedAt;
    expect(c.logCount([worker], 'batch done')).toBe(0);
    expect(readFileSync(join(out, 'results.csv'), 'utf8')).toBe(results);
    expect(readFileSync(join(out, 'report.json'), 'utf8')).toBe(report);
    const figures = c.account(out, ids);
    expect(figures).toMatchObject({ rowsIn: rows, rowsOut: rows, duplicates: 0, lost: 0, unexpected: 0 });
    expect(figures.inOrder).toBe(true);
    expect(figures.inError).toBe(0);
    expect(await c.progress(batchId)).toMatchObject({ state: 'done', answered: rows });
    expect((await c.kill(worker, 'SIGTERM')).code).toBe(0);

    c.record({
      case: 'worker SIGKILL after batch closed',
      ...figures,
      ms,
      notes: `caught on round ${round}; the finalize re-run by the next worker left the outputs as they were`,
    });
  });

  it('one chunk whose worker is killed twice in a row: taken over each time, its numbers all answered', async () => {
    c = await startFaultCase({ simArgs: ['--latency-ms', '20'] });
    const rows = 300;
    const { path, ids, numbers } = c.input(rows);
    const out = c.out();
    const startedAt = Date.now();
    // One chunk for the whole file: both kills land on the same chunk job.
    const scan = c.scan([path, '--out', out, '--no-worker', '--chunk-size', String(rows)]);
    const batchId = await c.batchId(scan);
    const workers = [c.worker(['--concurrency', String(IN_FLIGHT)])];
    const killedAt: number[] = [];
    for (const share of [1 / 6, 1 / 2]) {
      await c.until(
        `${Math.round(share * 100)}% of the answers`,
        async () => ((await (c as FaultCase).progress(batchId))?.answered ?? 0) >= rows * share,
        30_000,
        5,
      );
      await c.kill(workers.at(-1) as ReachscanProcess, 'SIGKILL');
      killedAt.push((await c.progress(batchId))?.answered ?? -1);
      workers.push(c.worker(['--concurrency', String(IN_FLIGHT)]));
    }
    const end = await scan.done;
    const ms = Date.now() - startedAt;
    expect(end.code, end.stderr).toBe(0);
    const figures = c.account(out, ids);
    expect(figures).toMatchObject({ rowsIn: rows, rowsOut: rows, duplicates: 0, lost: 0, unexpected: 0 });
    expect(figures.inOrder).toBe(true);
    expect(figures.inError).toBe(0);
    const stats = await c.stats();
    const asked = numbers.map((n) => stats.byNumber[n] ?? 0);
    expect(Math.min(...asked)).toBe(1);
    expect(Math.max(...asked)).toBeLessThanOrEqual(3);
    expect(stats.requests - rows).toBeLessThanOrEqual(2 * 2 * IN_FLIGHT);
    expect(workers.map((w) => c?.logCount([w], 'batch done'))).toEqual([0, 0, 1]);
    expect((await c.kill(workers.at(-1) as ReachscanProcess, 'SIGTERM')).code).toBe(0);

    c.record({
      case: 'worker SIGKILL ×2, same chunk',
      ...figures,
      ms,
      notes: `one ${rows}-number chunk, kills at ${killedAt.join(' and ')} answered; extra requests ${stats.requests - rows}`,
    });
  });
});
