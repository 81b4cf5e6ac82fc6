import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { inject } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { Clock } from '../../src/core/clock.js';
import type { BatchReport } from '../../src/output/report.js';
import type { TestSimulator } from './simulator.js';

export interface ScanRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly outDir: string;
  readonly prefix: string;
}

/** Runs `reachscan scan` in this process against a test simulator and the test Redis, in a fresh queue prefix. */
export async function runScan(
  t: TestSimulator,
  args: readonly string[],
  env: Record<string, string> = {},
  options: {
    readonly clock?: Clock;
    readonly command?: string;
    /** Sends the stop signal (as Ctrl-C would) once stderr passes this test: a paused scan stops waiting. */
    readonly stopWhen?: (stderr: string) => boolean;
  } = {},
): Promise<ScanRun> {
  const outDir = mkdtempSync(join(tmpdir(), 'reachscan-scan-'));
  const prefix = `test-${randomUUID()}`;
  let stdout = '';
  let stderr = '';
  let stop: (signal: string) => void = () => {};
  const stopSignal = new Promise<string>((resolve) => (stop = resolve));
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk: Buffer, _e, done) {
        append(chunk.toString());
        done();
      },
    });
  const command = options.command ?? 'scan';
  const code = await main([command, ...(command === 'scan' ? ['--out', outDir] : []), ...args], {
    stdout: sink((s) => (stdout += s)),
    stderr: sink((s) => {
      stderr += s;
      if (options.stopWhen?.(stderr) === true) stop('SIGINT');
    }),
    env: {
      PATH: process.env.PATH,
      REDIS_URL: inject('redisUrl'),
      REACHSCAN_QUEUE_PREFIX: prefix,
      REACHSCAN_RETRY_BASE_MS: '20',
      REACHSCAN_LOG_LEVEL: 'silent',
      VONAGE_APPLICATION_ID: t.app.applicationId,
      VONAGE_PRIVATE_KEY: t.app.privateKeyPem,
      VONAGE_API_BASE_URL: t.sim.url,
      ...env,
    },
    stopSignal,
    ...(options.clock !== undefined ? { clock: options.clock } : {}),
  });
  return { code, stdout, stderr, outDir, prefix };
}

export function readCsv(path: string): Record<string, string>[] {
  return parse<Record<string, string>>(readFileSync(path), { columns: true, bom: true });
}

export function readReport(outDir: string): BatchReport {
  return JSON.parse(readFileSync(join(outDir, 'report.json'), 'utf8')) as BatchReport;
}
