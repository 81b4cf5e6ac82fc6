import { appendFileSync, existsSync, readdirSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startFaultCase, type FaultCase } from './harness.js';
import { reasonLines } from '../support/stderr-lines.js';

const ROWS = 200;

let c: FaultCase | undefined;
afterEach(async () => {
  await c?.close();
  c = undefined;
});

/** What the user does to their file while its scan runs. */
const CHANGES: Record<string, (path: string) => void> = {
  truncated: (path) => truncateSync(path, 0),
  rewritten: (path) => writeFileSync(path, 'id,phone\nX000001,+447400000001\nX000002,+447400000002\n'),
  'replaced by rename': (path) => {
    writeFileSync(`${path}.new`, 'id,phone\nY000001,+447400000003\n');
    renameSync(`${path}.new`, path);
  },
  appended: (path) => appendFileSync(path, 'Z000001,+447400000004\nZ000002,+447400000005\n'),
};

const args = (path: string, out: string) => [path, '--out', out, '--chunk-size', '25', '--concurrency', '4'];

describe('the user changes the input file while its scan runs', () => {
  it('truncated, rewritten, replaced by rename or appended mid-scan: the outputs are the file as it was taken, exit 0', async () => {
    c = await startFaultCase({ simArgs: ['--latency-ms', '20'] });
    const fc = c;
    const startedAt = Date.now();
    // The four scans run side by side on one Redis and one simulator.
    const runs = Object.entries(CHANGES).map(([name, change]) => {
      const input = fc.input(ROWS, `${name.replaceAll(' ', '-')}.csv`);
      const out = fc.out(name.replaceAll(' ', '-'));
      return { name, change, input, out, scan: fc.scan(args(input.path, out)) };
    });
    for (const run of runs) {
      const batchId = await fc.batchId(run.scan);
      // Changed once the batch is under way: its file is read, and answers are coming in.
      await fc.until(`${run.name}: answers`, async () => ((await fc.progress(batchId))?.answered ?? 0) > 0);
      run.change(run.input.path);
    }
    for (const run of runs) {
      const end = await run.scan.done;
      expect(end.code, `${run.name}: ${end.stderr}`).toBe(0);
      const figures = fc.account(run.out, run.input.ids);
      expect(figures, run.name).toMatchObject({
        rowsIn: ROWS,
        rowsOut: ROWS,
        duplicates: 0,
        lost: 0,
        unexpected: 0,
        inError: 0,
      });
      expect(figures.inOrder, run.name).toBe(true);
      // The batch's copy went with the finished batch.
      expect(existsSync(join(run.out, '.reachscan')), run.name).toBe(false);
      fc.record({ case: `input ${run.name} mid-scan`, ...figures, ms: Date.now() - startedAt });
    }
  });

  it('the batch’s own copy changed under it: the batch fails with one line, and writes no results', async () => {
    c = await startFaultCase({ simArgs: ['--latency-ms', '20'] });
    const fc = c;
    const startedAt = Date.now();
    const { path, ids } = fc.input(ROWS);
    const out = fc.out();
    const scan = fc.scan(args(path, out));
    const batchId = await fc.batchId(scan);
    // Read into chunks from an intact copy; the outputs are built from it later.
    await fc.until('the file read, answers coming', async () => {
      const progress = await fc.progress(batchId);
      return progress !== null && progress.ingested && progress.answered > 0;
    });
    const copies = readdirSync(join(out, '.reachscan'));
    expect(copies).toEqual([`${batchId}.csv`]);
    appendFileSync(join(out, '.reachscan', `${batchId}.csv`), 'Q000001,+447400000009\n');

    const end = await scan.done;
    expect(end.code, end.stderr).toBe(3);
    const said = reasonLines(end.stderr);
    expect(said).toEqual([
      `reachscan: input.csv: the batch's copy of its input is ${
        // The appended line: 22 bytes.
        String(Number(readCopySize(ids)) + 22)
      } bytes, not the ${readCopySize(ids)} read at intake; the batch stops rather than write wrong rows (scan the file again)`,
    ]);
    expect(end.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(out, 'results.csv'))).toBe(false);
    fc.record({
      case: 'batch copy changed',
      rowsIn: ROWS,
      rowsOut: 0,
      duplicates: 0,
      lost: 0,
      ms: Date.now() - startedAt,
      notes: 'refused with one line, exit 3, no results',
    });
  });
});

/** The size of the harness's input of these ids: `id,phone` then one `R000001,+447400000001` line each. */
function readCopySize(ids: readonly string[]): string {
  return String('id,phone\n'.length + ids.length * 'R000001,+447400000001\n'.length);
}
