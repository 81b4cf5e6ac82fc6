// A throwaway redis-server for one run (the `scan` fallback when no Redis answers) or one test run: free
// port, loopback only, no persistence unless asked, `noeviction` as BullMQ requires.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisServerHandle {
  readonly url: string;
  readonly port: number;
  /** SIGTERM (default) is Redis's clean shutdown; SIGKILL a crash. Waits for the exit. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
}

export const NO_REDIS_SERVER =
  'redis-server not found on PATH: install it (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) or set REDIS_URL to a running Redis';

/** Asks the OS for a free port by binding a throwaway server to port 0 (Redis itself treats --port 0 as "no TCP"). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

export function hasRedisServer(): boolean {
  const probe = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
  return probe.error === undefined && probe.status === 0;
}

/** Starts a private redis-server on a free port; retries on a lost port race. */
export async function startRedisServer(
  options: {
    appendonly?: boolean;
    extraArgs?: (port: number) => Promise<string[]>;
    /** A given port (to start a Redis again where clients expect it); otherwise a free one. */
    port?: number;
    /** A data folder of the caller's, kept on stop, so a Redis started again there finds its data. */
    dir?: string;
    /** With appendonly: when the AOF is fsynced (Redis's default is everysec). */
    appendfsync?: 'always' | 'everysec' | 'no';
  } = {},
): Promise<RedisServerHandle> {
  if (!hasRedisServer()) throw Object.assign(new Error(NO_REDIS_SERVER), { stack: NO_REDIS_SERVER });
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = options.port ?? (await freePort());
    const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'reachscan-redis-'));
    const removeDir = () => {
      if (options.dir === undefined) rmSync(dir, { recursive: true, force: true });
    };
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        options.appendonly ? 'yes' : 'no',
        '--dir',
        dir,
        '--maxmemory-policy',
        'noeviction',
        ...(options.appendfsync !== undefined ? ['--appendfsync', options.appendfsync] : []),
        ...((await options.extraArgs?.(port)) ?? []),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      await waitForReady(child);
      return {
        url: `redis://127.0.0.1:${port}`,
        port,
        stop: async (signal = 'SIGTERM') => {
          await stopChild(child, signal);
          removeDir();
        },
      };
    } catch (error) {
      lastError = error;
      await stopChild(child);
      removeDir();
    }
  }
  throw lastError instanceof Error ? lastError : new Error('redis-server did not start');
}

function waitForReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(
      () => reject(new Error(`redis-server did not become ready:\n${output}`)),
      10_000,
    );
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}:\n${output}`));
    });
  });
}

async function stopChild(child: ChildProcess, signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
