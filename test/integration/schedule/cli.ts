import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { BIN } from '../../support/simulator-process.js';

export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Running {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly done: Promise<Run>;
}

/** Starts the real program (`node bin/reachscan.js …`) on the test Redis. */
export function spawnReachscan(args: readonly string[], env: Record<string, string>): Running {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', REDIS_URL: inject('redisUrl'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<Run>((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
  return { child, stdout: () => stdout, stderr: () => stderr, done };
}

export const reachscan = (args: readonly string[], env: Record<string, string>): Promise<Run> =>
  spawnReachscan(args, env).done;

/** A fresh folder with a `jobs/` inside, and a writer for job files in it. */
export function jobsFolder(): { root: string; dir: string; write: (id: string, fields: unknown) => void } {
  const root = mkdtempSync(join(tmpdir(), 'reachscan-schedule-'));
  const dir = join(root, 'jobs');
  mkdirSync(dir);
  return {
    root,
    dir,
    write: (id, fields) =>
      writeFileSync(
        join(dir, `${id}.json`),
        typeof fields === 'string' ? fields : JSON.stringify(fields, null, 2),
      ),
  };
}

/** `schedule list --json`'s shape. */
export interface ListedSchedule {
  id: string;
  description: string | null;
  pattern: string;
  timezone: string;
  next_run: string | null;
  next_run_local: string | null;
  source: string | null;
  out: string | null;
  provider: string | null;
  job_file: string | null;
  last_run: {
    tick: string;
    at: string;
    batch_id: string | null;
    out_dir: string | null;
    error: string | null;
    batch_state: string | null;
    exit_code: number | null;
    failure: string | null;
  } | null;
}

export async function listJson(env: Record<string, string>): Promise<ListedSchedule[]> {
  const r = await reachscan(['schedule', 'list', '--json'], env);
  if (r.code !== 0) throw new Error(`schedule list exited ${r.code}: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { schedules: ListedSchedule[] }).schedules;
}
