import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { expect, inject } from 'vitest';
import { BIN, type SimulatorProcess } from '../../support/simulator-process.js';

/** Fast settings for tests: the defaults (1 s poll, 5 s settle, 30 s lock) are for people. */
export const FAST = ['--poll', '0.2s', '--settle', '1s', '--lock-ttl', '3s'] as const;

export interface Folders {
  readonly root: string;
  readonly inbox: string;
  readonly outbox: string;
}

export function folders(): Folders {
  const root = mkdtempSync(join(tmpdir(), 'reachscan-watch-'));
  const inbox = join(root, 'inbox');
  mkdirSync(inbox);
  return { root, inbox, outbox: join(root, 'out') };
}

/** The environment `reachscan simulate` prints, for a client of that simulator. */
export function simulatorEnv(sim: SimulatorProcess): Record<string, string> {
  return Object.fromEntries(
    [...sim.stdout().matchAll(/export (\w+)=(\S+)/g)].map((m) => [m[1] as string, m[2] as string]),
  );
}

/** A fresh queue prefix and the simulator's credentials: one test's world on the shared test Redis. */
export function watchEnv(sim: SimulatorProcess): Record<string, string> {
  return {
    ...simulatorEnv(sim),
    REACHSCAN_QUEUE_PREFIX: `watch-${randomUUID()}`,
    REACHSCAN_RETRY_BASE_MS: '20',
    REACHSCAN_LOG_LEVEL: 'silent',
  };
}

export interface RunningProcess {
  readonly child: ChildProcess;
  readonly stderr: () => string;
  readonly stdout: () => string;
  /** Resolves with the exit code (or the signal's name) once the process is gone. */
  readonly exited: Promise<number | string>;
  /** Waits until stderr matches. */
  waitFor(pattern: RegExp, timeout?: number): Promise<void>;
  /** Sends the signal and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/** Runs the real program (`node bin/reachscan.js …`) as a child process. */
export function reachscan(args: readonly string[], env: Record<string, string>): RunningProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', REDIS_URL: inject('redisUrl'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  return {
    child,
    stderr: () => err,
    stdout: () => out,
    exited,
    async waitFor(pattern, timeout = 30_000) {
      await expect.poll(() => pattern.test(err), { timeout, interval: 100 }).toBe(true);
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export function startWatcher(
  f: Folders,
  env: Record<string, string>,
  extra: readonly string[] = [],
): RunningProcess {
  return reachscan(['watch', f.inbox, '--out', f.outbox, ...FAST, ...extra], env);
}

/** A CSV with `rows` distinct UK mobile numbers from `first` on (9 digits after +447). */
export function phoneCsv(first: number, rows: number): string {
  const lines = Array.from({ length: rows }, (_, i) => `R${i + 1},+447${String(first + i).padStart(9, '0')}`);
  return `${['id,phone', ...lines].join('\n')}\n`;
}

export function numbersOf(first: number, rows: number): string[] {
  return Array.from({ length: rows }, (_, i) => `+447${String(first + i).padStart(9, '0')}`);
}

/** Drops a file as a careful producer does: written under a hidden name, then renamed in. */
export function dropFile(inbox: string, name: string, content: string | Buffer): void {
  const hidden = join(inbox, `.${name}.writing`);
  writeFileSync(hidden, content);
  renameSync(hidden, join(inbox, name));
}

export const list = (path: string): string[] => {
  try {
    return readdirSync(path).sort();
  } catch {
    return [];
  }
};

export function readResults(outDir: string): Record<string, string>[] {
  return parse<Record<string, string>>(readFileSync(join(outDir, 'results.csv')), {
    columns: true,
    bom: true,
  });
}

/** Requests the simulator received per number, as sent. */
export async function askedPerNumber(sim: SimulatorProcess): Promise<Record<string, number>> {
  const stats = (await (await fetch(`${sim.url}/_sim/stats`)).json()) as { byNumber: Record<string, number> };
  return stats.byNumber;
}

export async function requestCount(sim: SimulatorProcess): Promise<number> {
  return ((await (await fetch(`${sim.url}/_sim/stats`)).json()) as { requests: number }).requests;
}

/** How often each number was asked, for the numbers given (0 when never). */
export async function timesAsked(sim: SimulatorProcess, numbers: readonly string[]): Promise<number[]> {
  const asked = await askedPerNumber(sim);
  return numbers.map((n) => asked[n] ?? asked[n.slice(1)] ?? 0);
}
