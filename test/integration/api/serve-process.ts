import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { request } from 'undici';
import { inject } from 'vitest';
import { BIN } from '../../support/simulator-process.js';
import type { TestSimulator } from '../../support/simulator.js';

export interface Child {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** Runs `node bin/reachscan.js <args>` as its own process, as an operator would. */
export function reachscan(args: readonly string[], env: Record<string, string>): Child {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

export interface ServeProcess extends Child {
  readonly url: string;
  readonly token: string;
  readonly dataDir: string;
  readonly prefix: string;
  /** The environment it runs with (for a `reachscan worker` beside it). */
  readonly env: Record<string, string>;
}

/** The environment pointing reachscan at the test Redis (a fresh queue prefix) and the test simulator. */
export function testEnv(t: TestSimulator, extra: Record<string, string> = {}): Record<string, string> {
  return {
    REDIS_URL: inject('redisUrl'),
    REACHSCAN_QUEUE_PREFIX: `api-${randomUUID()}`,
    REACHSCAN_RETRY_BASE_MS: '20',
    REACHSCAN_LOG_LEVEL: 'silent',
    VONAGE_APPLICATION_ID: t.app.applicationId,
    VONAGE_PRIVATE_KEY: t.app.privateKeyPem,
    VONAGE_API_BASE_URL: t.sim.url,
    ...extra,
  };
}

/** `reachscan serve --port 0` with a fresh token, data folder and queue prefix; resolves once it listens. */
export async function startServe(
  t: TestSimulator,
  args: readonly string[] = ['--worker', '--concurrency', '4'],
  extraEnv: Record<string, string> = {},
): Promise<ServeProcess> {
  const token = randomBytes(24).toString('hex');
  const dataDir = mkdtempSync(join(tmpdir(), 'reachscan-api-'));
  const env = testEnv(t, { REACHSCAN_API_TOKEN: token, REACHSCAN_DATA_DIR: dataDir, ...extraEnv });
  const serve = reachscan(['serve', '--port', '0', ...args], env);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${serve.stderr()}`)), 20_000);
    serve.child.stdout?.on('data', () => {
      const match = /listening on (http:\/\/\S+)/.exec(serve.stdout());
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    void serve.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}:\n${serve.stderr()}`));
    });
  });
  return { ...serve, url, token, dataDir, prefix: env.REACHSCAN_QUEUE_PREFIX as string, env };
}

export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  /** The body as sent (undici's text() would drop a BOM). */
  readonly bytes: Buffer;
  readonly text: string;
  json<T = Record<string, unknown>>(): T;
}

/** One request through undici; the body is read whole (test files are small). */
export async function call(
  url: string,
  options: {
    method?: 'GET' | 'POST' | 'DELETE';
    token?: string | null;
    headers?: Record<string, string>;
    body?: string | Buffer | FormData;
  } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.token !== undefined && options.token !== null)
    headers.authorization = `Bearer ${options.token}`;
  if (options.body instanceof FormData) {
    const res = await fetch(url, { method: options.method ?? 'POST', headers, body: options.body });
    const bytes = Buffer.from(await res.arrayBuffer());
    const text = bytes.toString('utf8');
    return {
      status: res.status,
      headers: headersOf(res.headers),
      bytes,
      text,
      json: <T>() => JSON.parse(text) as T,
    };
  }
  const res = await request(url, {
    method: options.method ?? 'GET',
    headers,
    ...(options.body !== undefined ? { body: options.body } : {}),
  });
  const bytes = Buffer.from(await res.body.arrayBuffer());
  const text = bytes.toString('utf8');
  return { status: res.statusCode, headers: res.headers, bytes, text, json: <T>() => JSON.parse(text) as T };
}

/** A small CSV of GB mobile numbers (distinct per `seed`, so batches of different tests never coincide). */
export function fleetCsv(rows: number, seed: number, extra: readonly string[] = []): string {
  const lines = Array.from({ length: rows }, (_, i) => `C${i},${phone(seed, i)},site-${i % 3}`);
  return ['customer,msisdn,site', ...lines, ...extra].join('\n') + '\n';
}

export function phone(seed: number, i: number): string {
  return `+4474${String(seed).padStart(3, '0')}${String(i).padStart(5, '0')}`;
}

export function csvRows(text: string): Record<string, string>[] {
  return parse<Record<string, string>>(text, { columns: true, bom: true });
}

export function writeTemp(name: string, content: string | Buffer): string {
  const path = join(mkdtempSync(join(tmpdir(), 'reachscan-api-in-')), name);
  writeFileSync(path, content);
  return path;
}

function headersOf(headers: Headers): Record<string, string> {
  const flat: Record<string, string> = {};
  headers.forEach((value, name) => (flat[name] = value));
  return flat;
}
