import { mkdtempSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RecordSource } from '../../../src/input/batch-records.js';
import { readChunks, THREAD_FROM_BYTES, type ReadChunk } from '../../../src/input/read-chunks.js';

async function all(chunks: AsyncIterable<readonly ReadChunk[]>): Promise<ReadChunk[]> {
  const out: ReadChunk[] = [];
  for await (const batch of chunks) out.push(...batch);
  return out;
}

/** A file past the thread's threshold: numbers that repeat, cells that are no number, and broken lines. */
function bigFile(): { path: string; numbers: Set<string> } {
  const dir = mkdtempSync(join(tmpdir(), 'reachscan-chunks-'));
  const path = join(dir, 'big.csv');
  const lines = ['id,name,phone'];
  let rows = 0;
  const numbers = new Set<string>();
  for (let i = 0; rows < 120_000; i++) {
    if (i % 997 === 0) lines.push(`${i},a record with too few fields`);
    else if (i % 50 === 0) lines.push(`${i},no number,call me`);
    else {
      const number = `+447911${String(i % 90_000).padStart(6, '0')}`;
      numbers.add(number);
      lines.push(`${i},Customer ${i} with a longer name,${number}`);
    }
    rows++;
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
  return { path, numbers };
}

const source = (path: string): RecordSource => ({
  path,
  shape: { delimiter: ',', headers: ['id', 'name', 'phone'], sizeBytes: 0 },
  displayName: 'big.csv',
  phoneColumn: 2,
});

describe('readChunks', () => {
  it('reads a file on its own thread into exactly the chunks it reads on this one, from any record on', async () => {
    const { path, numbers } = bigFile();
    const { size } = await import('node:fs/promises').then((fs) => fs.stat(path));
    expect(size).toBeGreaterThanOrEqual(THREAD_FROM_BYTES);
    // Node says so on `process` when a worker thread starts: the one way here runs none, the other one.
    const threads = { started: 0 };
    const counted = () => threads.started++;
    process.on('worker', counted);
    const here = await all(readChunks(source(path), 0, 250, { thread: 'never' }));
    expect(threads.started).toBe(0);
    const there = await all(readChunks(source(path), 0, 250, { thread: 'always' }));
    expect(threads.started).toBe(1);
    await all(readChunks(source(path), 0, 250));
    // By size: this file is large enough, when the machine has a core to spare.
    expect(threads.started).toBe(availableParallelism() > 1 ? 2 : 1);
    process.off('worker', counted);
    expect(there).toEqual(here);
    expect(here.length).toBeGreaterThan(400);
    expect(new Set(here.flatMap((c) => c.numbers))).toEqual(numbers);
    // A resumed ingest starts from its cursor.
    const fromHere = await all(readChunks(source(path), 50_000, 250, { thread: 'never' }));
    expect(await all(readChunks(source(path), 50_000, 250, { thread: 'always' }))).toEqual(fromHere);
    expect(fromHere.reduce((sum, c) => sum + c.records, 0)).toBe(
      here.reduce((sum, c) => sum + c.records, 0) - 50_000,
    );
  });

  it('a read that fails on the thread fails here with the same code', async () => {
    const missing = join(tmpdir(), `reachscan-missing-${process.pid}.csv`);
    await expect(all(readChunks(source(missing), 0, 250, { thread: 'always' }))).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });

  it('a loop left early stops the thread, and the file is closed', async () => {
    const { path } = bigFile();
    const openOnIt = () =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`) === path;
        } catch {
          return false;
        }
      }).length;
    for await (const batch of readChunks(source(path), 0, 250, { thread: 'always' })) {
      expect(batch.length).toBeGreaterThan(0);
      expect(openOnIt()).toBe(1);
      break;
    }
    expect(openOnIt()).toBe(0);
  });
});
