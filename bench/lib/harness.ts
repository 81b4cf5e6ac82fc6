import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, freemem, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { BIN } from '../../test/support/simulator-process.js';

/** A scratch folder for one scenario's files. */
export function scratch(name: string): string {
  return mkdtempSync(join(tmpdir(), `reachscan-bench-${name}-`));
}

/**
 * A CRM-like file: `rows` records, about 1% repeats of an earlier number and 2% cells that are no number,
 * as real exports have. Returns the count of unique valid numbers.
 */
export function writeCrmFile(path: string, rows: number): { unique: number } {
  const lines = ['id,name,phone,segment'];
  let unique = 0;
  for (let i = 0; i < rows; i++) {
    let phone: string;
    if (i % 50 === 7) phone = 'n/a';
    else if (i % 100 === 3 && i > 0) phone = `+4474${String(i - 1).padStart(8, '0')}`;
    else {
      phone = `+4474${String(i).padStart(8, '0')}`;
      unique++;
    }
    lines.push(`${i},Customer ${i},${phone},${i % 3 === 0 ? 'gold' : 'silver'}`);
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
  return { unique };
}

export interface RunResult {
  readonly code: number | null;
  readonly seconds: number;
  /** Peak resident set size of the process, MB (from the process itself, at exit). */
  readonly peakRssMb: number | null;
  /** CPU time the process used, user + system, seconds. */
  readonly cpuSeconds: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** What report-rss.mjs wrote when its process exited ("<peak RSS KB> <CPU µs>"), or null if nothing was. */
export function readProcessReport(file: string): { peakRssMb: number; cpuSeconds: number } | null {
  if (!existsSync(file)) return null;
  const [rss, cpu] = readFileSync(file, 'utf8').split(' ');
  return { peakRssMb: Number(rss) / 1024, cpuSeconds: Number(cpu) / 1e6 };
}

/** Starts `reachscan <args>` as its own process, reporting its peak RSS when it exits. */
export function startReachscan(args: readonly string[], env: Record<string, string | undefined>) {
  const rssFile = join(scratch('rss'), 'rss');
  const started = performance.now();
  const profileDir = process.env.REACHSCAN_BENCH_CPU_PROF;
  const profile = profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir];
  const child = spawn(
    process.execPath,
    [...profile, '--import', join(import.meta.dirname, 'report-rss.mjs'), BIN, ...args],
    {
      env: { PATH: process.env.PATH, ...env, REACHSCAN_BENCH_RSS_FILE: rssFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<RunResult>((resolve) =>
    child.once('exit', (code) => {
      // null when it was killed before it could say
      const { peakRssMb, cpuSeconds } = readProcessReport(rssFile) ?? { peakRssMb: null, cpuSeconds: null };
      resolve({ code, seconds: (performance.now() - started) / 1000, peakRssMb, cpuSeconds, stdout, stderr });
    }),
  );
  return { child, done };
}

/** CPU time (user + system, seconds) another process has used so far, from /proc; null where there is none. */
export function processCpuSeconds(pid: number | undefined): number | null {
  try {
    // Fields after the command name: utime and stime are the 12th and 13th, in clock ticks (100 a second).
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** Every process started below `root`, children's children too, from /proc (empty where there is none). */
export function descendants(root: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of existsSync('/proc') ? readdirSync('/proc') : []) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // ended meanwhile
    }
  }
  const found: number[] = [];
  for (let frontier = new Set([root]); frontier.size > 0;) {
    const next = new Set<number>();
    for (const [pid, ppid] of parentOf) if (frontier.has(ppid)) next.add(pid);
    found.push(...next);
    frontier = next;
  }
  return found;
}

/**
 * A benchmark stopped by a signal stops what it started too: the simulator, reachscan processes and private
 * redis-servers would otherwise go on running (and holding ports and memory) after it.
 */
export function stopDescendantsOnSignal(): void {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      for (const pid of descendants(process.pid)) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // ended meanwhile
        }
      }
      process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
    });
  }
}

/** CPU time (user + system, seconds) a Redis server has used so far, from INFO cpu. */
export async function redisCpuSeconds(redis: Redis): Promise<number> {
  const section = await redis.info('cpu');
  const read = (field: string) => Number(new RegExp(`^${field}:([\\d.]+)`, 'm').exec(section)?.[1] ?? NaN);
  return read('used_cpu_user') + read('used_cpu_sys');
}

/** Redis INFO fields as numbers; a field the server does not report is left out. */
export async function redisInfoFields(
  redis: Redis,
  fields: readonly string[],
): Promise<Record<string, number>> {
  const section = await redis.info();
  const found: Record<string, number> = {};
  for (const field of fields) {
    const match = new RegExp(`^${field}:(\\d+)`, 'm').exec(section);
    if (match) found[field] = Number(match[1]);
  }
  return found;
}

/** A Redis INFO field as a number. */
export async function redisInfo(redis: Redis, field: string): Promise<number> {
  return (await redisInfoFields(redis, [field]))[field] ?? NaN;
}

export function machineInfo(redisVersion: string) {
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memory_gb: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    free_memory_gb: Math.round((freemem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    redis: redisVersion,
    platform: `${process.platform} ${process.arch}`,
  };
}

/** min / median / max of a list, for rate profiles. */
export function spread(values: readonly number[]): { min: number; median: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    min: sorted[0] ?? 0,
    median: sorted[Math.floor(sorted.length / 2)] ?? 0,
    max: sorted.at(-1) ?? 0,
  };
}

export const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

/** The environment `reachscan simulate` printed (its `export NAME=value` lines), to point a scan at it. */
export function simulatorEnv(stdout: string): Record<string, string> {
  return Object.fromEntries(
    [...stdout.matchAll(/export (\w+)=(\S+)/g)].map((m) => [m[1] as string, m[2] as string]),
  );
}

interface SimStats {
  requests: number;
  byStatus: Record<string, number>;
  /** The most requests the simulator saw in any sliding second. */
  peakPerSecond: number;
  /** Requests refused with a 429 by the simulator's cap. */
  rateLimited: number;
}

/** Samples the simulator's counters once a second until stopped: answers accepted (200) per second. */
export function sampleRate(url: string) {
  const perSecond: number[] = [];
  let last: number | null = null;
  let stopped = false;
  const read = async () =>
    ((await (await fetch(`${url}/_sim/stats/counters`)).json()) as SimStats).byStatus['200'] ?? 0;
  const loop = (async () => {
    let next = performance.now();
    while (!stopped) {
      const ok = await read();
      if (last !== null) perSecond.push(ok - last);
      last = ok;
      next += 1000;
      await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
    }
  })();
  return {
    async stop(): Promise<number[]> {
      stopped = true;
      await loop;
      // Seconds before the first answer and after the last are not the scan's pace.
      const first = perSecond.findIndex((n) => n > 0);
      const lastActive = perSecond.length - 1 - [...perSecond].reverse().findIndex((n) => n > 0);
      return first === -1 ? [] : perSecond.slice(first, lastActive + 1);
    },
  };
}

export async function simulatorStats(url: string): Promise<SimStats> {
  return (await (await fetch(`${url}/_sim/stats/counters`)).json()) as SimStats;
}
