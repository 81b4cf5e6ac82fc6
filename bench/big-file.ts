/**
 * A multi-gigabyte CSV through the real ingest path: generates a CRM-like file of the given size in a temp dir
 * (deleted afterwards), runs `reachscan plan <file> --json` on it in a child process (sniff with its whole-file
 * encoding check, then stream, parse, normalise and dedupe every record; no carrier is called), and prints rows,
 * seconds and peak RSS. With `--compare-mb`, a small file of the same shape and the same pool of numbers goes
 * first, so the two peaks show whether memory follows the file's size.
 *
 *   npm run build && npx tsx bench/big-file.ts [--gb 2] [--unique 200000] [--compare-mb 50]
 *
 * What `plan` holds: one record at a time, plus the set of distinct numbers it has seen (to count them). So its
 * memory is flat in the file's size and grows with the distinct numbers only; `--unique` sets their pool.
 * `scan`'s ingest keeps that set in Redis instead (the batch's owners hash), one chunk at a time in the process.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readProcessReport } from './lib/harness.js';

const { values } = parseArgs({
  options: {
    gb: { type: 'string', default: '2' },
    unique: { type: 'string', default: '200000' },
    'compare-mb': { type: 'string', default: '50' },
  },
});
const root = join(import.meta.dirname, '..');
const BIN = join(root, 'bin', 'reachscan.js');
const RSS_PRELOAD = join(root, 'bench', 'lib', 'report-rss.mjs');
const unique = Number(values.unique);

/** Writes `bytes` of CSV (about 110 bytes a row) with backpressure; numbers cycle through a pool of `unique`. */
async function generate(path: string, bytes: number): Promise<number> {
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  const segments = ['gold', 'silver', 'bronze'];
  let written = 0;
  let rows = 0;
  let block: string[] = [];
  const write = async (text: string) => {
    written += Buffer.byteLength(text);
    if (!out.write(text)) await once(out, 'drain');
  };
  await write('customer_id,name,email,segment,phone,notes\n');
  while (written < bytes) {
    const n = rows % unique;
    block.push(
      `C${rows},Customer ${rows},c${rows}@example.com,${segments[rows % 3]},+44 7400 ${String(n).padStart(6, '0')},` +
        `"renewal due, call before noon"\n`,
    );
    rows++;
    if (block.length === 1000) {
      await write(block.join(''));
      block = [];
    }
  }
  if (block.length > 0) await write(block.join(''));
  out.end();
  await once(out, 'finish');
  return rows;
}

async function planRun(
  file: string,
  dir: string,
): Promise<{ rows: number; seconds: number; peakMb: number }> {
  const rssFile = join(dir, `rss-${Date.now()}`);
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', RSS_PRELOAD, BIN, 'plan', file, '--json'], {
    env: { PATH: process.env.PATH ?? '', REACHSCAN_BENCH_RSS_FILE: rssFile },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`reachscan plan exited ${code}`);
  const plan = JSON.parse(stdout) as { rows: number; unique: number };
  if (plan.unique !== Math.min(unique, plan.rows))
    throw new Error(`expected ${unique} unique numbers, got ${plan.unique}`);
  return { rows: plan.rows, seconds, peakMb: readProcessReport(rssFile)?.peakRssMb ?? Number.NaN };
}

const dir = mkdtempSync(join(tmpdir(), 'reachscan-bench-big-'));
try {
  const sizes = [
    ...(Number(values['compare-mb']) > 0 ? [Number(values['compare-mb']) * 1024 * 1024] : []),
    Number(values.gb) * 1024 ** 3,
  ];
  for (const bytes of sizes) {
    const file = join(dir, `big-${bytes}.csv`);
    const genStarted = performance.now();
    const generated = await generate(file, bytes);
    const size = statSync(file).size;
    console.log(
      `generated ${(size / 1024 ** 2).toFixed(0)} MiB, ${generated} rows, in ${((performance.now() - genStarted) / 1000).toFixed(1)} s`,
    );
    const run = await planRun(file, dir);
    if (run.rows !== generated) throw new Error(`plan counted ${run.rows} rows, the file has ${generated}`);
    console.log(
      `plan: ${run.rows} rows (${unique} distinct numbers) in ${run.seconds.toFixed(1)} s ` +
        `(${(size / 1024 ** 2 / run.seconds).toFixed(1)} MiB/s), peak RSS ${run.peakMb.toFixed(0)} MB`,
    );
    rmSync(file);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
