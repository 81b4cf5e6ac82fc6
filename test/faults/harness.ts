import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'csv-parse/sync';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import './provided-context.js';
import { BATCH_QUEUE, batchKeys, bullPrefix, CHUNK_QUEUE } from '../../src/queue/keys.js';
import { startRedisServer, type RedisServerHandle } from '../../src/queue/private-redis.js';
import type { DialsPatch } from '../../src/simulator/dials.js';
import type { SimulatorStats } from '../../src/simulator/stats.js';
import { simulatorEnv, spawnReachscan, type ReachscanProcess } from '../support/reachscan-process.js';
import { startSimulatorProcess, type SimulatorProcess } from '../support/simulator-process.js';
import type { FaultFigures } from './report.js';

/**
 * Job lock of every reachscan process a case starts (REACHSCAN_JOB_LOCK_MS): a killed worker's jobs are taken
 * over within about 1.5 times this, instead of the 90 s the production default allows.
 */
export const FAULT_LOCK_MS = 4_000;

export interface FaultRedis {
  readonly url: string;
  readonly port: number;
  /** Stops Redis (signal SIGTERM = clean shutdown, SIGKILL = crash) and waits for the exit. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts it again on the same port with the same data dir (appendonly yes, appendfsync always): data survives. */
  start(): Promise<void>;
}

/** A batch's progress as a waiting scan sees it; answered counts the answers saved so far. */
export interface BatchProgress {
  readonly state: string | null;
  readonly answered: number;
  readonly unique: number;
  readonly records: number;
  readonly ingested: boolean;
}

export interface Accounting {
  readonly rowsIn: number;
  readonly rowsOut: number;
  /** Rows beyond the first for an input id. */
  readonly duplicates: number;
  /** Input ids with no row. */
  readonly lost: number;
  /** Rows whose id is not in the input at all. */
  readonly unexpected: number;
  /** The rows are exactly the input ids, in input order. */
  readonly inOrder: boolean;
  /** Rows with a non-empty `error` column. */
  readonly inError: number;
}

export interface FaultCase {
  readonly redis: FaultRedis;
  readonly sim: SimulatorProcess;
  /** Simulator env (VONAGE_*), REDIS_URL, unique queue and state prefixes, info logs, quick retries, short job locks. */
  readonly env: Record<string, string>;
  /** A temp folder for this case. */
  readonly dir: string;
  /** The BullMQ prefix with its hash tag, `{<REACHSCAN_QUEUE_PREFIX>}`. */
  readonly prefix: string;
  /** Writes `id,phone` CSV of `count` distinct UK mobiles (+4474…) and returns path, ids in order, and E.164 numbers. */
  input(count: number, name?: string): { path: string; ids: string[]; numbers: string[] };
  /** A new empty folder in `dir` for a scan's outputs. */
  out(name?: string): string;
  /** Spawns `reachscan worker ...args`. */
  worker(args?: string[], env?: Record<string, string>): ReachscanProcess;
  /** Spawns `reachscan scan ...args`. */
  scan(args: string[], env?: Record<string, string>): ReachscanProcess;
  /** Spawns any reachscan command. */
  run(args: string[], env?: Record<string, string>): ReachscanProcess;
  /** PATCH ${sim.url}/_sim/dials. */
  dials(patch: DialsPatch): Promise<void>;
  /** GET ${sim.url}/_sim/stats. */
  stats(): Promise<SimulatorStats>;
  /** Reads <outDir>/results.csv and compares with the input ids: every record once, in order. */
  account(outDir: string, ids: readonly string[]): Accounting;
  /** Waits until `pred()` is true (polling every `intervalMs`), or throws after timeoutMs naming `what`. */
  until(
    what: string,
    pred: () => boolean | Promise<boolean>,
    timeoutMs?: number,
    intervalMs?: number,
  ): Promise<void>;
  /** The batch id a scan prints on stderr ("started batch <id>" / "resuming batch <id>"), once it has. */
  batchId(scan: ReachscanProcess, timeoutMs?: number): Promise<string>;
  /** The batch's progress read from Redis, or null while Redis does not answer. */
  progress(batchId: string): Promise<BatchProgress | null>;
  /** The numbers with a saved answer (the batch's answers hash), or null while Redis does not answer. */
  answeredNumbers(batchId: string): Promise<string[] | null>;
  /** Names of the connections reachscan processes hold on Redis (CLIENT LIST), sorted; null while it is down. */
  connections(): Promise<string[] | null>;
  /** Jobs held by a worker right now (BullMQ's active lists), or null while Redis does not answer. */
  activeJobs(): Promise<{ batches: number; chunks: number } | null>;
  /** Sends a signal and waits for the exit. */
  kill(
    proc: ReachscanProcess,
    signal: NodeJS.Signals,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
  /** How often a pino `msg` appears in these processes' stderr. */
  logCount(procs: readonly ReachscanProcess[], msg: string): number;
  /** Adds this case's figures to the suite's report. */
  record(figures: FaultFigures): void;
  /** Kills every process it spawned that is still running, stops simulator and Redis, removes dir. */
  close(): Promise<void>;
}

const running = (p: ReachscanProcess) => p.child.exitCode === null && p.child.signalCode === null;

export async function startFaultCase(options: { simArgs?: string[] } = {}): Promise<FaultCase> {
  const dir = mkdtempSync(join(tmpdir(), 'reachscan-fault-'));
  const redisDir = join(dir, 'redis');
  mkdirSync(redisDir);
  // appendfsync always: every acknowledged write is on disk, so even a crash loses nothing acknowledged.
  const redisOptions = { appendonly: true, appendfsync: 'always', dir: redisDir } as const;
  let server: RedisServerHandle | null = null;
  let sim: SimulatorProcess | null = null;
  try {
    [server, sim] = await Promise.all([
      startRedisServer(redisOptions),
      startSimulatorProcess(options.simArgs ?? []),
    ]);
  } catch (error) {
    await Promise.all([server?.stop(), sim?.stop()]);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const { port, url } = server;
  const theSim = sim;
  const name = `fault-${randomUUID()}`;
  const prefix = bullPrefix(name);
  const env: Record<string, string> = {
    ...simulatorEnv(theSim.stdout()),
    REDIS_URL: url,
    REACHSCAN_QUEUE_PREFIX: name,
    REACHSCAN_STATE_PREFIX: `{${name}-state}:`,
    REACHSCAN_LOG_LEVEL: 'info',
    REACHSCAN_RETRY_BASE_MS: '100',
    REACHSCAN_JOB_LOCK_MS: String(FAULT_LOCK_MS),
  };

  const redis: FaultRedis = {
    url,
    port,
    async stop(signal = 'SIGTERM') {
      const current = server;
      server = null;
      await current?.stop(signal);
    },
    async start() {
      if (server !== null) throw new Error('Redis is already running');
      server = await startRedisServer({ ...redisOptions, port });
    },
  };

  // The test's own reader: fails fast while Redis is down instead of queueing commands.
  let client: Redis | null = null;
  const reader = () => {
    if (client === null) {
      client = new Redis(url, {
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
        retryStrategy: () => 50,
        connectionName: 'fault-harness',
      });
      client.on('error', () => {});
    }
    return client;
  };

  // A failed read yields a macrotask: a caller polling in a tight loop must not starve the reconnect.
  const down = async () => {
    await new Promise((resolve) => setImmediate(resolve));
    return null;
  };

  const procs: ReachscanProcess[] = [];
  const run = (args: string[], extra: Record<string, string> = {}) => {
    const proc = spawnReachscan(args, { ...env, ...extra });
    procs.push(proc);
    return proc;
  };
  let numbersMade = 0;

  const until: FaultCase['until'] = async (what, pred, timeoutMs = 30_000, intervalMs = 25) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await pred()) return;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await sleep(intervalMs);
    }
  };

  return {
    redis,
    sim: theSim,
    env,
    dir,
    prefix,
    input(count, fileName = 'input.csv') {
      const ids: string[] = [];
      const numbers: string[] = [];
      for (let i = 0; i < count; i++) {
        numbersMade++;
        ids.push(`R${String(numbersMade).padStart(6, '0')}`);
        numbers.push(`+4474${String(numbersMade).padStart(8, '0')}`);
      }
      const path = join(dir, fileName);
      writeFileSync(path, ['id,phone', ...ids.map((id, i) => `${id},${numbers[i]}`)].join('\n') + '\n');
      return { path, ids, numbers };
    },
    out(folder = 'out') {
      const path = join(dir, folder);
      mkdirSync(path, { recursive: true });
      return path;
    },
    worker: (args = [], extra = {}) => run(['worker', ...args], extra),
    scan: (args, extra = {}) => run(['scan', ...args], extra),
    run,
    async dials(patch) {
      const res = await fetch(`${theSim.url}/_sim/dials`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(patch),
      });
      if (!res.ok) throw new Error(`PATCH /_sim/dials: ${res.status} ${await res.text()}`);
    },
    async stats() {
      return (await (await fetch(`${theSim.url}/_sim/stats`)).json()) as SimulatorStats;
    },
    account(outDir, ids) {
      const rows = parse<Record<string, string>>(readFileSync(join(outDir, 'results.csv')), {
        columns: true,
        bom: true,
      });
      const wanted = new Set(ids);
      const seen = new Set<string>();
      let duplicates = 0;
      let unexpected = 0;
      for (const row of rows) {
        const id = row.id ?? '';
        if (!wanted.has(id)) unexpected++;
        else if (seen.has(id)) duplicates++;
        seen.add(id);
      }
      return {
        rowsIn: ids.length,
        rowsOut: rows.length,
        duplicates,
        lost: ids.filter((id) => !seen.has(id)).length,
        unexpected,
        inOrder: rows.length === ids.length && rows.every((r, i) => r.id === ids[i]),
        inError: rows.filter((r) => (r.error ?? '') !== '').length,
      };
    },
    until,
    async batchId(scan, timeoutMs = 20_000) {
      let id: string | undefined;
      await until(
        'the scan to name its batch',
        () => {
          id = /(?:started|resuming) batch ([0-9a-f]+)/.exec(scan.stderr())?.[1];
          if (id === undefined && !running(scan))
            throw new Error(`scan exited before naming its batch:\n${scan.stderr()}`);
          return id !== undefined;
        },
        timeoutMs,
      );
      return id as string;
    },
    async progress(batchId) {
      const keys = batchKeys(prefix, batchId);
      try {
        const [meta, answers] = await Promise.all([reader().hgetall(keys.meta), reader().hlen(keys.answers)]);
        return {
          state: meta.state ?? null,
          // A closed batch keeps the count in its record once the answers are dropped.
          answered: meta.answered !== undefined ? Number(meta.answered) : answers,
          unique: Number(meta.unique ?? 0),
          records: Number(meta.records ?? 0),
          ingested: meta.ingested === '1',
        };
      } catch {
        return down();
      }
    },
    async answeredNumbers(batchId) {
      try {
        return await reader().hkeys(batchKeys(prefix, batchId).answers);
      } catch {
        return down();
      }
    },
    async connections() {
      try {
        const list = (await reader().client('LIST')) as string;
        return list
          .split('\n')
          .filter((line) => line.trim() !== '')
          .map((line) => /(?:^| )name=(\S*)/.exec(line)?.[1] || '(unnamed)')
          .filter((n) => n !== 'fault-harness')
          .sort();
      } catch {
        return down();
      }
    },
    async activeJobs() {
      try {
        const [batches, chunks] = await Promise.all([
          reader().llen(`${prefix}:${BATCH_QUEUE}:active`),
          reader().llen(`${prefix}:${CHUNK_QUEUE}:active`),
        ]);
        return { batches, chunks };
      } catch {
        return down();
      }
    },
    async kill(proc, signal) {
      const at = Date.now();
      if (running(proc)) proc.child.kill(signal);
      const end = await proc.done;
      return { code: end.code, signal: end.signal, ms: Date.now() - at };
    },
    logCount(list, msg) {
      const needle = `"msg":${JSON.stringify(msg)}`;
      return list.reduce((sum, p) => sum + p.stderr().split(needle).length - 1, 0);
    },
    record(figures) {
      const file = inject('faultReportLines');
      // Outside the faults project (no report file), the figures are only printed.
      if (typeof file === 'string' && file !== '') appendFileSync(file, `${JSON.stringify(figures)}\n`);
      else process.stdout.write(`${JSON.stringify(figures)}\n`);
    },
    async close() {
      for (const p of procs) if (running(p)) p.child.kill('SIGKILL');
      await Promise.all(procs.map((p) => p.done));
      client?.disconnect();
      await theSim.stop();
      await redis.stop('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
