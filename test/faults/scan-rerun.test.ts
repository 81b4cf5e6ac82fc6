import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { FAULT_LOCK_MS, startFaultCase, type FaultCase } from './harness.js';

const ROWS = 600;
/** --concurrency: lookups in flight. A kill costs at most twice that: those and as many answers not yet written. */
const IN_FLIGHT = 4;

let c: FaultCase | undefined;
afterEach(async () => {
  await c?.close();
  c = undefined;
});

describe('scan SIGKILL and rerun', () => {
  it('a scan with its in-process worker killed mid-batch: the same command resumes the batch, asking again only what was asked and not yet saved', async () => {
    c = await startFaultCase({ simArgs: ['--latency-ms', '20'] });
    const { path, ids, numbers } = c.input(ROWS);
    const out = c.out();
    const args = [path, '--out', out, '--chunk-size', '25', '--concurrency', String(IN_FLIGHT)];
    const startedAt = Date.now();
    const first = c.scan(args);
    const batchId = await c.batchId(first);
    expect(first.stderr()).toContain(`started batch ${batchId}`);

    await c.until(
      'a third of the answers',
      async () => ((await (c as FaultCase).progress(batchId))?.answered ?? 0) >= ROWS / 3,
      30_000,
      5,
    );
    expect((await c.kill(first, 'SIGKILL')).signal).toBe('SIGKILL');
    // Requests the dead process wrote just before dying may still sit in the simulator's socket buffers.
    await sleep(200);
    // What the dead process had paid for and saved, and what it had asked without saving (in flight, or
    // answered and waiting for the write).
    const saved = new Set((await c.answeredNumbers(batchId)) ?? []);
    const askedByFirst = (await c.stats()).byNumber;
    const unsaved = Object.keys(askedByFirst).filter((n) => !saved.has(n));
    expect(saved.size).toBeGreaterThanOrEqual(ROWS / 3);
    expect(saved.size).toBeLessThan(ROWS);
    expect(unsaved.length).toBeLessThanOrEqual(2 * IN_FLIGHT);

    const rerunAt = Date.now();
    const second = c.scan(args);
    const end = await second.done;
    const ms = Date.now() - startedAt;
    expect(end.code, end.stderr).toBe(0);
    expect(end.stderr).toContain(`resuming batch ${batchId}`);
    expect(end.stderr).not.toContain('started batch');

    const figures = c.account(out, ids);
    expect(figures).toMatchObject({ rowsIn: ROWS, rowsOut: ROWS, duplicates: 0, lost: 0, unexpected: 0 });
    expect(figures.inOrder).toBe(true);
    expect(figures.inError).toBe(0);

    const stats = await c.stats();
    const asked = (n: string) => stats.byNumber[n] ?? 0;
    expect(numbers.every((n) => asked(n) >= 1)).toBe(true);
    // Saved answers are never paid for again; only the numbers unsaved at the kill may be asked twice.
    for (const n of saved) expect(asked(n), n).toBe(1);
    const twice = numbers.filter((n) => asked(n) === 2);
    expect(numbers.every((n) => asked(n) <= 2)).toBe(true);
    for (const n of twice) expect(unsaved, n).toContain(n);
    expect(stats.requests).toBe(ROWS + twice.length);

    c.record({
      case: 'scan SIGKILL + rerun',
      ...figures,
      ms,
      notes: `killed at ${saved.size} answered, ${unsaved.length} unsaved; rerun ${((Date.now() - rerunAt) / 1000).toFixed(1)} s (dead worker's chunks after the ${FAULT_LOCK_MS} ms lock); ${twice.length} asked twice`,
    });
  });
});
