import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { startFaultCase, type FaultCase } from './harness.js';
import { reasonLines } from '../support/stderr-lines.js';

const ROWS = 400;

let c: FaultCase | undefined;
let admin: Redis | undefined;
afterEach(async () => {
  admin?.disconnect();
  admin = undefined;
  await c?.close();
  c = undefined;
});

const said = reasonLines;

/** Starts a slow scan and waits until it has answers saved; returns it with its batch id. */
async function scanUnderWay(fc: FaultCase) {
  const { path } = fc.input(ROWS);
  const out = fc.out();
  const scan = fc.scan([path, '--out', out, '--chunk-size', '25', '--concurrency', '2']);
  const batchId = await fc.batchId(scan);
  await fc.until('answers saved', async () => ((await fc.progress(batchId))?.answered ?? 0) >= 20);
  admin = new Redis(fc.redis.url, { maxRetriesPerRequest: 1 });
  return { scan, batchId, out };
}

/** The advice both messages end with. */
const ADVICE =
  'run Redis with persistence (appendonly yes) and maxmemory-policy noeviction, with memory to spare (docs/operations.md#redis)';

describe('Redis loses the batch, or refuses its writes', () => {
  it('FLUSHALL mid-scan: exit 3, the batch is said to be lost (not resumable), what to do', async () => {
    c = await startFaultCase({ simArgs: ['--latency-ms', '30'] });
    const startedAt = Date.now();
    const { scan, batchId, out } = await scanUnderWay(c);
    await admin?.flushall();

    const end = await scan.done;
    expect(end.code, end.stderr).toBe(3);
    expect(said(end.stderr)).toEqual([
      `reachscan: Redis no longer has batch ${batchId} (restarted without persistence, flushed, or its keys evicted): the batch's progress and its answers are lost; start the batch again, and ${ADVICE}`,
    ]);
    // Nothing can resume it, so nothing says "resume"; and no stack trace.
    expect(said(end.stderr).join('\n')).not.toMatch(/resum/i);
    expect(end.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(out, 'results.csv'))).toBe(false);
    // Its copy of the input has no use any more.
    expect(existsSync(join(out, '.reachscan'))).toBe(false);
    c.record({
      case: 'Redis flushed mid-scan',
      rowsIn: ROWS,
      rowsOut: 0,
      duplicates: 0,
      lost: ROWS,
      ms: Date.now() - startedAt,
      notes: 'all said lost: exit 3, "start the batch again", no resume promised',
    });
  });

  it('Redis restarted without its data mid-scan: exit 3, the same true message', async () => {
    c = await startFaultCase({ simArgs: ['--latency-ms', '30'] });
    const fc = c;
    const startedAt = Date.now();
    const { scan, batchId } = await scanUnderWay(fc);
    admin?.disconnect();
    admin = undefined;
    // A Redis without persistence comes back empty: its append-only file is gone with the crash.
    await fc.redis.stop('SIGKILL');
    rmSync(join(fc.dir, 'redis'), { recursive: true, force: true });
    mkdirSync(join(fc.dir, 'redis'));
    await fc.redis.start();

    const end = await scan.done;
    expect(end.code, end.stderr).toBe(3);
    expect(said(end.stderr)).toEqual([
      `reachscan: Redis no longer has batch ${batchId} (restarted without persistence, flushed, or its keys evicted): the batch's progress and its answers are lost; start the batch again, and ${ADVICE}`,
    ]);
    expect(said(end.stderr).join('\n')).not.toMatch(/resum/i);
    expect(end.stderr).not.toMatch(/\n\s+at /);
    fc.record({
      case: 'Redis restarted empty mid-scan',
      rowsIn: ROWS,
      rowsOut: 0,
      duplicates: 0,
      lost: ROWS,
      ms: Date.now() - startedAt,
      notes: 'all said lost: exit 3, "start the batch again", no resume promised',
    });
  });

  it('maxmemory 1mb with noeviction mid-scan: exit 3, Redis is said to refuse writes (OOM), what to do', async () => {
    c = await startFaultCase({ simArgs: ['--latency-ms', '30'] });
    const startedAt = Date.now();
    const { scan, batchId } = await scanUnderWay(c);
    const used = Number(/used_memory:(\d+)/.exec(await (admin as Redis).info('memory'))?.[1]);
    // Under its use already: every write that needs memory is refused from now on.
    expect(used).toBeGreaterThan(1024 * 1024);
    await admin?.config('SET', 'maxmemory-policy', 'noeviction');
    await admin?.config('SET', 'maxmemory', '1mb');

    const end = await scan.done;
    expect(end.code, end.stderr).toBe(3);
    expect(said(end.stderr)).toEqual([
      `reachscan: Redis refuses writes: it is out of memory (used memory over maxmemory, no key it may evict): batch ${batchId} cannot save its progress or its answers, so they are lost; start the batch again once Redis takes writes, and ${ADVICE}`,
    ]);
    // Nothing can resume it, so nothing says "resume"; and no stack trace.
    expect(said(end.stderr).join('\n')).not.toMatch(/resum/i);
    expect(end.stderr).not.toMatch(/\n\s+at /);
    c.record({
      case: 'Redis refuses writes (OOM) mid-scan',
      rowsIn: ROWS,
      rowsOut: 0,
      duplicates: 0,
      lost: ROWS,
      ms: Date.now() - startedAt,
      notes: 'all said lost: exit 3, OOM named, no resume promised',
    });
  });
});
