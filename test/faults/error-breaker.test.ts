import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { startFaultCase, type FaultCase } from './harness.js';

let fc: FaultCase | null = null;
afterEach(async () => {
  await fc?.close();
  fc = null;
});

describe('the error-ratio breaker', () => {
  it('pauses a batch whose calls mostly fail, says why, stops calling, and goes on after reachscan resume', async () => {
    fc = await startFaultCase({ simArgs: ['--latency-ms', '5'] });
    await fc.dials({ faults: { http503: 0.8 } });
    const { path, ids } = fc.input(600);
    const out = join(fc.dir, 'out');
    const started = Date.now();
    // A worker process of its own, as in production; scan only queues and waits.
    const worker = fc.worker(['--concurrency', '16']);
    const scan = fc.scan([path, '--out', out, '--no-worker', '--chunk-size', '25', '--error-window', '100']);

    await fc.until('the batch paused', () => scan.stderr().includes(' paused: '), 20_000);
    const batchId = /batch ([0-9a-f]{24}) paused: /.exec(scan.stderr())?.[1] ?? '';
    expect(scan.stderr()).toMatch(
      /paused: \d+% of the last 100 carrier calls failed \(mostly HTTP 503\); paused to save the quota: fix the cause, then run reachscan resume [0-9a-f]{24}/,
    );
    // One warning in the worker's log, with the figures, not a line per failed call.
    await fc.until('the worker logged the pause', () => worker.stderr().includes('batch paused'));
    expect(worker.stderr().match(/"msg":"batch paused: too many carrier calls fail"/g)).toHaveLength(1);

    // The quota is saved: once the chunks in flight have handed back, no call goes out.
    await sleep(1_500);
    const atPause = (await fc.stats()).requests;
    await sleep(3_000);
    const later = await fc.stats();
    expect(later.requests).toBe(atPause);
    expect(atPause).toBeLessThan(400); // far fewer than the 600 numbers × 5 attempts it would have burnt

    // The carrier recovers; one command resumes.
    await fc.dials({ faults: { http503: 0 } });
    const resume = await fc.run(['resume', batchId]).done;
    expect(resume.code, resume.stderr).toBe(0);
    expect(resume.stdout).toMatch(
      new RegExp(`resumed batch ${batchId} \\(it was paused: \\d+% of the last 100`),
    );
    const done = await scan.done;
    const ms = Date.now() - started;
    expect(done.code, done.stderr).toBe(0);
    expect(done.stderr).toContain(`batch ${batchId} resumed`);

    // Nothing lost, and the failures during the pause were not written down as the rows' answers.
    const figures = fc.account(out, ids);
    expect(figures).toMatchObject({ rowsIn: 600, rowsOut: 600, duplicates: 0, lost: 0, inOrder: true });
    const rows = parse<Record<string, string>>(readFileSync(join(out, 'results.csv')), { columns: true });
    expect(rows.filter((r) => r.error !== '')).toEqual([]);
    const stats = await fc.stats();
    // Resuming again: not paused any more.
    const again = await fc.run(['resume', batchId]).done;
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/not paused: nothing to resume/);

    worker.child.kill('SIGTERM');
    expect((await worker.done).code).toBe(0);
    fc.record({
      case: 'breaker: 80% 503s → pause, resume',
      ...figures,
      ms,
      notes: `paused after ${atPause} requests (no call while paused), ${stats.requests} in all`,
    });
  });

  it('does not pause at the ordinary failure rates retries are for', async () => {
    fc = await startFaultCase();
    await fc.dials({ faults: { http503: 0.3 } });
    const { path, ids } = fc.input(300);
    const out = join(fc.dir, 'out');
    const started = Date.now();
    // With the default window of 200 calls, 30% failing never looks like more than half.
    const scan = await fc.scan([path, '--out', out, '--chunk-size', '25']).done;
    expect([0, 1]).toContain(scan.code);
    expect(scan.stderr).not.toContain('paused');
    const figures = fc.account(out, ids);
    expect(figures).toMatchObject({ rowsIn: 300, rowsOut: 300, duplicates: 0, lost: 0, inOrder: true });
    fc.record({ case: 'breaker: 30% 503s, no pause', ...figures, ms: Date.now() - started });
  });
});
