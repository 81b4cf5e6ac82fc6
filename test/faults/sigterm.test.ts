import { afterEach, describe, expect, it } from 'vitest';
import { startFaultCase, type FaultCase } from './harness.js';

const ROWS = 600;
const IN_FLIGHT = 4;

let c: FaultCase | undefined;
afterEach(async () => {
  await c?.close();
  c = undefined;
});

describe('worker SIGTERM', () => {
  it('a worker told SIGTERM mid-batch finishes its lookups in flight, hands its jobs back, exits 0; another finishes the batch', async () => {
    c = await startFaultCase({ simArgs: ['--latency-ms', '20'] });
    // The production job lock (60 s): a job not handed back would hold the batch up for a minute.
    const env = { REACHSCAN_JOB_LOCK_MS: '60000' };
    const { path, ids, numbers } = c.input(ROWS);
    const out = c.out();
    const startedAt = Date.now();
    const scan = c.scan([path, '--out', out, '--no-worker', '--chunk-size', '25']);
    const batchId = await c.batchId(scan);
    const first = c.worker(['--concurrency', String(IN_FLIGHT)], env);

    await c.until(
      'a third of the answers',
      async () => ((await (c as FaultCase).progress(batchId))?.answered ?? 0) >= ROWS / 3,
      30_000,
      5,
    );
    const askedAtSignal = (await c.stats()).requests;
    const stop = await c.kill(first, 'SIGTERM');
    expect(stop.code, first.stderr()).toBe(0);
    expect(stop.ms).toBeLessThan(5_000);
    expect(first.stderr()).toContain('SIGTERM, finishing the jobs in hand');

    // Every lookup the carrier answered was saved before the exit (those in flight finished first)…
    const atExit = await c.progress(batchId);
    const askedAtExit = (await c.stats()).requests;
    expect(atExit?.answered).toBe(askedAtExit);
    // …no new ones were started after the signal beyond a race of a few…
    expect(askedAtExit - askedAtSignal).toBeLessThanOrEqual(IN_FLIGHT);
    // …and it holds no job: everything went back to the queue, nothing waits for a lock to expire.
    expect(await c.activeJobs()).toEqual({ batches: 0, chunks: 0 });
    expect(atExit?.answered).toBeLessThan(ROWS);

    const secondAt = Date.now();
    const second = c.worker(['--concurrency', String(IN_FLIGHT)], env);
    const end = await scan.done;
    const ms = Date.now() - startedAt;
    expect(end.code, end.stderr).toBe(0);
    // Well under the 60 s lock: the second worker had nothing to wait for.
    expect(Date.now() - secondAt).toBeLessThan(20_000);

    const figures = c.account(out, ids);
    expect(figures).toMatchObject({ rowsIn: ROWS, rowsOut: ROWS, duplicates: 0, lost: 0, unexpected: 0 });
    expect(figures.inOrder).toBe(true);
    expect(figures.inError).toBe(0);
    const stats = await c.stats();
    expect(numbers.map((n) => stats.byNumber[n] ?? 0)).toEqual(Array(ROWS).fill(1));
    expect(stats.requests).toBe(ROWS);

    expect(c.logCount([first], 'batch done')).toBe(0);
    expect(c.logCount([second], 'batch done')).toBe(1);
    expect((await c.kill(second, 'SIGTERM')).code).toBe(0);

    c.record({
      case: 'worker SIGTERM',
      ...figures,
      ms,
      notes: `SIGTERM at ${askedAtSignal} asked, exit 0 in ${stop.ms} ms with ${atExit?.answered} answered; each number asked once; lock 60 s`,
    });
  });
});
