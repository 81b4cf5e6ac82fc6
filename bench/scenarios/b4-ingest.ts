import { createReadStream, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Job, Queue } from 'bullmq';
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify';
import { Redis } from 'ioredis';
import { normalisePhone } from '../../src/input/phone.js';
import { sniffInput } from '../../src/input/sniff.js';
import { ingest } from '../../src/batch/ingest.js';
import { batchJobHandle } from '../../src/queue/batch-job.js';
import type { BatchJobData } from '../../src/queue/job-data.js';
import { BATCH_QUEUE, batchKeys, CHUNK_QUEUE } from '../../src/queue/keys.js';
import { round, scratch, writeCrmFile } from '../lib/harness.js';
import type { Scenario } from '../lib/scenario.js';

const PHONE_COLUMN = 2;

/**
 * B4: reachscan's ingest (parse, normalise, dedupe in Redis, enqueue chunk jobs) on a 1M-row file, next to a
 * floor doing only the unavoidable work on the same file (csv-parse and libphonenumber-js on the phone column),
 * and a plain csv-parse → csv-stringify pass-through for context. Chunk jobs are taken by a worker that does
 * nothing (in its own process, as lookups would be), so ingest never waits on lookups.
 */
export const b4Ingest: Scenario = {
  id: 'B4',
  title: 'ingest: parse + normalise + dedupe + enqueue vs the floor',
  async run({ scale, redisUrl, log }) {
    const rows = Math.round(1_000_000 * scale);
    const dir = scratch('b4');
    const file = join(dir, 'crm.csv');
    writeCrmFile(file, rows);

    let started = performance.now();
    await pipeline(createReadStream(file), parse(), stringify(), createWriteStream('/dev/null'));
    const passThrough = rows / ((performance.now() - started) / 1000);

    started = performance.now();
    let valid = 0;
    for await (const record of createReadStream(file).pipe(parse({ from_line: 2 })) as AsyncIterable<
      string[]
    >) {
      if (normalisePhone(record[PHONE_COLUMN] ?? '').kind === 'valid') valid++;
    }
    const floor = rows / ((performance.now() - started) / 1000);
    log(
      `floor: ${round(floor, 0)} rows/s (${valid} valid); csv pass-through ${round(passThrough, 0)} rows/s`,
    );

    const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const prefix = '{bench-b4}';
    const batchQueue = new Queue(BATCH_QUEUE, { connection: redis, prefix });
    const chunkQueue = new Queue(CHUNK_QUEUE, { connection: redis, prefix });
    const drainer = await startDrainer(redisUrl, prefix);
    try {
      const shape = await sniffInput(file);
      const data: BatchJobData = {
        batchId: 'bench-b4',
        inputPath: file,
        displayName: 'crm.csv',
        outDir: join(dir, 'out'),
        provider: 'identity-insights',
        delimiter: shape.delimiter,
        headers: shape.headers,
        phoneColumn: PHONE_COLUMN,
        defaultCountry: null,
        chunkSize: 250,
        staleDays: 60,
        ratePerSecond: 0,
        history: { prefix: '{bench-b4-state}:', retentionDays: 400 },
        maxAgeMs: 0,
        formulaGuard: true,
        bom: false,
        retryBaseMs: 1000,
        submittedAt: new Date().toISOString(),
        step: 'ingest',
        cursor: { records: 0, chunks: 0 },
      };
      await batchQueue.add('batch', data, { jobId: data.batchId });
      const job = (await Job.fromId(batchQueue, data.batchId)) as Job;
      started = performance.now();
      const done = await ingest(data, {
        redis,
        keys: batchKeys(prefix, data.batchId),
        job: batchJobHandle(job, '', chunkQueue),
        stopping: new AbortController().signal,
      });
      const ingestRate = rows / ((performance.now() - started) / 1000);
      log(`reachscan ingest: ${round(ingestRate, 0)} rows/s, ${done.cursor.chunks} chunk jobs`);
      return {
        figures: {
          rows,
          csv_pass_through_rows_per_s: round(passThrough, 0),
          floor_rows_per_s: round(floor, 0),
          ingest_rows_per_s: round(ingestRate, 0),
          ratio: round(ingestRate / floor, 3),
          chunk_jobs: done.cursor.chunks,
        },
        checks: [{ name: 'ingest ≥ 0.8 × floor', pass: ingestRate / floor >= 0.8 }],
      };
    } finally {
      await drainer.stop();
      await Promise.all([batchQueue.obliterate({ force: true }), chunkQueue.obliterate({ force: true })]);
      await batchQueue.close();
      await chunkQueue.close();
      redis.disconnect();
    }
  },
};

/** Starts bench/lib/drain-chunks.mjs and waits until its worker takes jobs. */
async function startDrainer(redisUrl: string, prefix: string): Promise<{ stop(): Promise<void> }> {
  const child = spawn(
    process.execPath,
    [join(import.meta.dirname, '../lib/drain-chunks.mjs'), redisUrl, prefix, CHUNK_QUEUE],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const [first] = (await once(child.stdout, 'data')) as [Buffer];
  if (!first.toString().startsWith('ready')) throw new Error(`chunk drainer: ${first.toString()}`);
  return {
    async stop() {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}
