import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { inject } from 'vitest';
import { readProcessReport } from '../../../bench/lib/harness.js';
import { BIN } from '../../support/simulator-process.js';

export const fixture = (name: string) =>
  join(import.meta.dirname, '..', '..', '..', 'fixtures', 'bad-input', name);

/** Writes its peak RSS (KB) and CPU time to REACHSCAN_BENCH_RSS_FILE when the process exits. */
const RSS_PRELOAD = join(import.meta.dirname, '..', '..', '..', 'bench', 'lib', 'report-rss.mjs');

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stderr lines, without the `reachscan: ` prefix, the simulator line and progress lines. */
  readonly said: readonly string[];
  readonly outDir: string;
  /** Peak resident memory of the reachscan process, MB. */
  readonly peakMb: number;
}

/**
 * Runs the real program (`node bin/reachscan.js …`) against the test Redis, in a fresh queue prefix and a fresh
 * history, and measures its peak RSS.
 */
export async function reachscan(
  args: readonly string[],
  options: { readonly nodeFlags?: readonly string[]; readonly env?: Readonly<Record<string, string>> } = {},
): Promise<CliRun> {
  const outDir = mkdtempSync(join(tmpdir(), 'reachscan-bad-input-'));
  const rssFile = join(outDir, '.peak-rss');
  const flags = [...(options.nodeFlags ?? []), '--import', RSS_PRELOAD];
  const child = spawn(process.execPath, [...flags, BIN, ...args], {
    env: {
      PATH: process.env.PATH ?? '',
      REDIS_URL: inject('redisUrl'),
      REACHSCAN_QUEUE_PREFIX: `bad-input-${randomUUID()}`,
      REACHSCAN_STATE_PREFIX: `{bad-input-state-${randomUUID()}}:`,
      REACHSCAN_BENCH_RSS_FILE: rssFile,
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const said = stderr
    .split('\n')
    // The lines every run starts with (which carrier, which Redis) are checked elsewhere.
    .filter(
      (l) =>
        l.startsWith('reachscan: ') &&
        !l.includes('using the built-in simulator') &&
        !l.startsWith('reachscan: using Redis at '),
    )
    .map((l) => l.slice('reachscan: '.length));
  return {
    code,
    stdout,
    stderr,
    said,
    outDir,
    peakMb: readProcessReport(rssFile)?.peakRssMb ?? Number.NaN,
  };
}

/** `reachscan scan <file> --out <dir> --simulate --default-country GB`, as an operator would run it. */
export async function scan(file: string, ...extra: string[]): Promise<CliRun> {
  const out = mkdtempSync(join(tmpdir(), 'reachscan-bad-input-out-'));
  const run = await reachscan([
    'scan',
    file,
    '--out',
    out,
    '--simulate',
    '--default-country',
    'GB',
    ...extra,
  ]);
  return { ...run, outDir: out };
}

export function readCsv(path: string): Record<string, string>[] {
  return parse<Record<string, string>>(readFileSync(path), { columns: true, bom: true });
}

/** Rows of a CSV as arrays (results.csv may repeat a header name, which `columns: true` would merge). */
export function readRows(path: string): string[][] {
  const rows: string[][] = parse(readFileSync(path), { bom: true });
  return rows.slice(1);
}
