import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, request as httpRequest, Agent, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { BIN } from '../../support/simulator-process.js';

/** Every child runs under this umask: permissive, so modes that rely on a strict one show up as too wide. */
export const PERMISSIVE_UMASK = '002';

/** What one process said: the text a leak search reads, labelled so an offence names its source. */
export interface CapturedProcess {
  readonly label: string;
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly exited: Promise<number | string>;
  /** Resolves once stdout or stderr matches; rejects when the process exits first or after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/**
 * Runs the real program (`node bin/reachscan.js …`) with exactly `env`, under a permissive umask set by the
 * shell (the test process's own umask stays as it is), keeping every byte of both streams.
 */
export function runReachscan(
  label: string,
  args: readonly string[],
  env: Record<string, string>,
  all: CapturedProcess[],
): CapturedProcess {
  const child = spawn(
    '/bin/sh',
    ['-c', `umask ${PERMISSIVE_UMASK} && exec "$@"`, 'sh', process.execPath, BIN, ...args],
    { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
    for (const l of listeners) l();
  });
  child.stderr?.on('data', (c: Buffer) => {
    err += c.toString();
    for (const l of listeners) l();
  });
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  const captured: CapturedProcess = {
    label,
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor: (pattern, timeoutMs = 30_000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (pattern.test(out) || pattern.test(err)) finish(resolve);
        };
        const finish = (then: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          then();
        };
        const timer = setTimeout(
          () =>
            finish(() =>
              reject(new Error(`${label}: no ${pattern} within ${timeoutMs} ms:\n${out}\n${err}`)),
            ),
          timeoutMs,
        );
        listeners.add(check);
        void exited.then((code) =>
          finish(() =>
            pattern.test(out) || pattern.test(err)
              ? resolve()
              : reject(new Error(`${label} exited (${code}) before ${pattern}:\n${out}\n${err}`)),
          ),
        );
        check();
      }),
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  all.push(captured);
  return captured;
}

/** One request that went through the recording proxy, with what the carrier answered. */
export interface Exchange {
  readonly path: string;
  readonly authorization: string | undefined;
  readonly requestBody: string;
  readonly status: number | 'dropped';
  readonly responseBody: string;
}

export interface RecordingProxy {
  readonly url: string;
  readonly exchanges: Exchange[];
  close(): Promise<void>;
}

/**
 * A pass-through HTTP proxy in front of the simulator process: it keeps every Authorization header sent and
 * every body answered, so the exact JWTs, access tokens and auth_req_ids can be searched for afterwards.
 */
export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true });
  const exchanges: Exchange[] = [];
  const server: Server = createServer((req, res) => {
    res.on('error', () => {});
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const requestBody = Buffer.concat(chunks).toString('utf8');
      const record = (status: number | 'dropped', responseBody: string) =>
        exchanges.push({
          path: req.url ?? '',
          authorization: req.headers.authorization,
          requestBody,
          status,
          responseBody,
        });
      const forwarded = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: upstream.host },
          agent,
        },
        (answer) => {
          const body: Buffer[] = [];
          answer.on('data', (c: Buffer) => body.push(c));
          answer.on('error', () => {
            record('dropped', Buffer.concat(body).toString('utf8'));
            req.socket.destroy();
          });
          answer.on('end', () => {
            const bytes = Buffer.concat(body);
            record(answer.statusCode ?? 0, bytes.toString('utf8'));
            const headers = { ...answer.headers };
            delete headers['transfer-encoding'];
            headers['content-length'] = String(bytes.length);
            res.writeHead(answer.statusCode ?? 502, headers);
            res.end(bytes);
          });
        },
      );
      // The simulator dropped the connection: so does the proxy, and the client sees the same fault.
      forwarded.on('error', () => {
        record('dropped', '');
        req.socket.destroy();
      });
      forwarded.end(requestBody);
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}

/** Something searchable: a name saying where it came from (file, process stream, Redis key) and its text. */
export interface Source {
  readonly name: string;
  readonly text: string;
}

/**
 * Every value under keys matching `pattern`, seen in snapshots taken while the runs go on (jobs come and go:
 * BullMQ removes finished ones) plus a last one at the end, and every command MONITOR saw touching them.
 */
export class RedisRecorder {
  /** `key (type)` → distinct values seen. */
  readonly values = new Map<string, Set<string>>();
  /** Job hashes seen (a hash with `name` and `data`): queue key → job data as stored. */
  readonly jobs = new Map<string, { name: string; data: string }>();
  readonly monitored: string[] = [];
  private readonly client: Redis;
  private monitor: { disconnect(): void } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();

  constructor(
    url: string,
    private readonly pattern: string,
    private readonly marker: string,
  ) {
    this.client = new Redis(url, { maxRetriesPerRequest: 3 });
    this.client.on('error', () => {});
  }

  async start(intervalMs: number): Promise<void> {
    const monitor = await this.client.monitor();
    monitor.on('error', () => {});
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (args.some((a) => a.includes(this.marker))) this.monitored.push(args.join(' '));
    });
    this.monitor = monitor;
    this.timer = setInterval(() => {
      this.running = this.running.then(() => this.snapshot()).catch(() => undefined);
    }, intervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
    await this.snapshot();
    this.monitor?.disconnect();
  }

  async snapshot(): Promise<void> {
    const stream = this.client.scanStream({ match: this.pattern, count: 500 });
    for await (const keys of stream as AsyncIterable<string[]>) {
      for (const key of keys) await this.dump(key);
    }
  }

  private keep(key: string, type: string, value: string): void {
    const name = `${key} (${type})`;
    let seen = this.values.get(name);
    if (!seen) this.values.set(name, (seen = new Set()));
    seen.add(value);
  }

  private async dump(key: string): Promise<void> {
    const type = await this.client.type(key);
    if (type === 'string') {
      const value = await this.client.get(key);
      if (value !== null) this.keep(key, type, value);
    } else if (type === 'hash') {
      const fields = await this.client.hgetall(key);
      for (const [field, value] of Object.entries(fields)) this.keep(key, type, `${field}=${value}`);
      if (typeof fields.name === 'string' && typeof fields.data === 'string')
        this.jobs.set(key, { name: fields.name, data: fields.data });
    } else if (type === 'list') {
      for (const value of await this.client.lrange(key, 0, -1)) this.keep(key, type, value);
    } else if (type === 'set') {
      for (const value of await this.client.smembers(key)) this.keep(key, type, value);
    } else if (type === 'zset') {
      for (const value of await this.client.zrange(key, 0, -1)) this.keep(key, type, value);
    } else if (type === 'stream') {
      for (const [id, fields] of await this.client.xrange(key, '-', '+'))
        this.keep(key, type, `${id} ${fields.join(' ')}`);
    }
  }

  sources(): Source[] {
    return [
      ...[...this.values].map(([name, values]) => ({ name: `redis ${name}`, text: [...values].join('\n') })),
      { name: 'redis MONITOR', text: this.monitored.join('\n') },
    ];
  }

  async removeKeys(): Promise<void> {
    const stream = this.client.scanStream({ match: this.pattern, count: 500 });
    for await (const keys of stream as AsyncIterable<string[]>)
      if (keys.length > 0) await this.client.del(...keys);
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }
}

export interface FileEntry {
  readonly path: string;
  readonly kind: 'file' | 'dir' | 'other';
  /** Permission bits. */
  readonly mode: number;
}

/** Everything under `root` (root included), without following links. */
export function walk(root: string): FileEntry[] {
  const stats = lstatSync(root);
  const kind = stats.isDirectory() ? 'dir' : stats.isFile() ? 'file' : 'other';
  const entries: FileEntry[] = [{ path: root, kind, mode: stats.mode & 0o777 }];
  if (kind === 'dir') for (const name of readdirSync(root).sort()) entries.push(...walk(join(root, name)));
  return entries;
}

export function fileSources(root: string, skip: (path: string) => boolean = () => false): Source[] {
  return walk(root)
    .filter((e) => e.kind === 'file' && !skip(e.path))
    .map((e) => ({ name: e.path, text: readFileSync(e.path, 'utf8') }));
}

/** A thing that must not appear, and where it must not. */
export interface Forbidden {
  readonly what: string;
  readonly test: (line: string) => boolean;
}

export const literal = (what: string, value: string): Forbidden => ({
  what,
  test: (line) => line.includes(value),
});

export const pattern = (what: string, regex: RegExp): Forbidden => ({
  what,
  test: (line) => regex.test(line),
});

/** `file:line: what` for every line of every source holding something forbidden. */
export function offences(sources: readonly Source[], forbidden: readonly Forbidden[]): string[] {
  const found: string[] = [];
  for (const source of sources) {
    source.text.split(/\r\n|\n|\r/).forEach((line, i) => {
      for (const f of forbidden) {
        if (f.test(line))
          found.push(
            `${source.name}:${i + 1}: ${f.what}: ${line.length > 300 ? `${line.slice(0, 300)}…` : line}`,
          );
      }
    });
  }
  return found;
}

export function lineCount(sources: readonly Source[]): number {
  return sources.reduce((n, s) => n + s.text.split(/\r\n|\n|\r/).length, 0);
}
