import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startFaultCase, type FaultCase } from './harness.js';
import { reasonLines } from '../support/stderr-lines.js';

const ROWS = 200;

let c: FaultCase | undefined;
const mounts: string[] = [];
afterEach(async () => {
  // Lazily: a process still holding a file there (a crashed run's) must not leave the mount behind.
  for (const dir of mounts.splice(0)) execFileSync('umount', ['-l', dir]);
  await c?.close();
  c = undefined;
});

/**
 * A real full disk: a tmpfs of 32 KiB, where the input's copy (kept in the data folder, elsewhere) is not, and
 * results.csv of 200 rows (about 60 KB) does not fit. Null when this machine cannot mount one.
 */
function smallDisk(dir: string): string | null {
  mkdirSync(dir);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=32k,mode=0755', 'tmpfs', dir], { stdio: 'pipe' });
  } catch {
    return null;
  }
  mounts.push(dir);
  return dir;
}

const said = reasonLines;

describe('the disk fills up while the outputs are written', () => {
  it('ENOSPC: exit 3 with one line naming the folder, no process dies, finalize tried 3 times, no file left', async (ctx) => {
    c = await startFaultCase();
    const fc = c;
    const outA = smallDisk(join(fc.dir, 'full-a'));
    const outB = smallDisk(join(fc.dir, 'full-b'));
    if (outA === null || outB === null) {
      ctx.skip('cannot mount a tmpfs here (needs root and mount rights): the full-disk case is not run');
      return;
    }
    const startedAt = Date.now();
    // The copies of the inputs live in the data folder, on the big disk; only the outputs meet the full one.
    const env = { REACHSCAN_DATA_DIR: join(fc.dir, 'data') };
    const a = fc.input(ROWS, 'a.csv');
    const b = fc.input(ROWS, 'b.csv');
    // One scan with its in-process worker, one done by two separate worker processes.
    const workers = [fc.worker([], env), fc.worker([], env)];
    const inProcess = fc.scan([a.path, '--out', outA], env);
    const separate = fc.scan([b.path, '--out', outB, '--no-worker'], env);
    const ids = [await fc.batchId(inProcess), await fc.batchId(separate)];

    for (const [scan, out, id] of [
      [inProcess, outA, ids[0]],
      [separate, outB, ids[1]],
    ] as const) {
      const end = await scan.done;
      expect(end.code, end.stderr).toBe(3);
      expect(said(end.stderr)).toEqual([
        `reachscan: batch ${id} stopped: cannot write to ${out}: no space left on the device (ENOSPC)`,
      ]);
      expect(end.stderr).not.toMatch(/\n\s+at /);
      // Nothing under a final name, and no partial file either.
      expect(readdirSync(out)).toEqual([]);
    }
    // Every worker process is still up, with no stack trace: the disk error failed the batch, not the process.
    for (const w of workers) {
      expect(w.child.exitCode, w.stderr()).toBeNull();
      expect(w.stderr()).not.toMatch(/\n\s+at /);
    }
    // Finalize was tried three times per batch, then given up.
    const procs = [inProcess, separate, ...workers];
    for (const id of ids) {
      const attempts = procs
        .flatMap((p) => p.stderr().split('\n'))
        .filter((l) => l.includes('"msg":"batch attempt failed"') && l.includes(id));
      expect(attempts, id).toHaveLength(3);
    }
    // The data folder's copies went with the failed batches.
    expect(readdirSync(join(fc.dir, 'data', 'inputs'))).toEqual([]);
    fc.record({
      case: 'disk full at finalize (ENOSPC)',
      rowsIn: 2 * ROWS,
      rowsOut: 0,
      duplicates: 0,
      lost: 0,
      ms: Date.now() - startedAt,
      notes:
        'both batches failed with one line, exit 3; 3 finalize attempts each; no worker died; no file left',
    });
  });

  it('no room for the batch’s copy of its input: refused before anything is asked, exit 3, one line', async (ctx) => {
    c = await startFaultCase();
    const fc = c;
    const out = smallDisk(join(fc.dir, 'full'));
    if (out === null) {
      ctx.skip('cannot mount a tmpfs here (needs root and mount rights): the full-disk case is not run');
      return;
    }
    const startedAt = Date.now();
    // About 44 KB: more than the 32 KiB disk where the copy would go (<out>/.reachscan/, no data folder).
    const { path } = fc.input(2_000);
    const end = await fc.scan([path, '--out', out]).done;
    expect(end.code, end.stderr).toBe(3);
    expect(said(end.stderr)).toEqual([
      `reachscan: cannot write to ${join(out, '.reachscan')}: no space left on the device (ENOSPC)`,
    ]);
    expect(end.stderr).not.toMatch(/\n\s+at /);
    expect((await fc.stats()).requests).toBe(0);
    expect(readdirSync(out)).toEqual([]);
    fc.record({
      case: 'disk full at intake (ENOSPC)',
      rowsIn: 2_000,
      rowsOut: 0,
      duplicates: 0,
      lost: 0,
      ms: Date.now() - startedAt,
      notes: 'refused before any lookup, exit 3, one line',
    });
  });
});
