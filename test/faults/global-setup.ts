import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import './provided-context.js';
import { hasRedisServer, NO_REDIS_SERVER } from '../../src/queue/private-redis.js';
import { buildOnce } from '../support/build.js';
import { reportTable, type FaultFigures } from './report.js';

/**
 * Fault suite set-up: a fresh build (shared with the integration set-up when both run), a figures file for
 * this run, and at the end the table of every case's figures on stdout and as JSON (FAULT_REPORT, else
 * fault-report.json in the OS temp folder).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Every case starts its own redis-server (to stop and start it again): there is no REDIS_URL fallback.
  if (!hasRedisServer()) throw new Error(NO_REDIS_SERVER);
  await buildOnce();
  const lines = join(tmpdir(), `reachscan-faults-${process.pid}-${Date.now()}.jsonl`);
  writeFileSync(lines, '');
  project.provide('faultReportLines', lines);
  return async () => {
    const figures = existsSync(lines)
      ? readFileSync(lines, 'utf8')
          .split('\n')
          .filter((l) => l.trim() !== '')
          .map((l) => JSON.parse(l) as FaultFigures)
      : [];
    rmSync(lines, { force: true });
    const target = process.env.FAULT_REPORT || join(tmpdir(), 'fault-report.json');
    writeFileSync(
      target,
      `${JSON.stringify({ finishedAt: new Date().toISOString(), cases: figures }, null, 2)}\n`,
    );
    process.stdout.write(
      `\nFault suite (${figures.length} case${figures.length === 1 ? '' : 's'}):\n${reportTable(figures)}\n→ ${target}\n\n`,
    );
  };
}
