import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadVonageConfig, type VonageConfig } from '../../src/config/vonage.js';

export const BIN = join(import.meta.dirname, '..', '..', 'bin', 'reachscan.js');

export interface SimulatorProcess {
  readonly url: string;
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Configuration for a client in this process, from the key file the simulator wrote. */
  config(overrides?: Partial<VonageConfig>): VonageConfig;
  /** SIGTERM and wait; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Runs `reachscan simulate` as its own process, as a user would, and waits for it to listen. */
export async function startSimulatorProcess(args: readonly string[] = []): Promise<SimulatorProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'reachscan-simproc-'));
  const keyFile = join(dir, 'private.key');
  const applicationId = randomUUID();
  const child = spawn(
    process.execPath,
    [BIN, 'simulate', '--port', '0', '--application-id', applicationId, '--key-out', keyFile, ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`simulator did not start:\n${out}\n${err}`)), 15_000);
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`simulator exited with ${code}:\n${out}\n${err}`));
    });
  });
  return {
    url,
    child,
    stdout: () => out,
    stderr: () => err,
    config: (overrides = {}) => ({
      ...loadVonageConfig({
        VONAGE_APPLICATION_ID: applicationId,
        VONAGE_PRIVATE_KEY_PATH: keyFile,
        VONAGE_API_BASE_URL: url,
      }),
      ...overrides,
    }),
    stop: async () => {
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      if (child.exitCode === null) child.kill('SIGTERM');
      const code = child.exitCode ?? (await exited);
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}
