import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { spawnReachscan, simulatorEnv, type ReachscanProcess } from '../support/reachscan-process.js';
import { BIN, startSimulatorProcess } from '../support/simulator-process.js';

const run = promisify(execFile);

/** Runs `reachscan` as a user would; never throws on a non-zero exit. */
async function reachscan(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('reachscan lookup', () => {
  it('looks numbers up against the built-in simulator (exit 0)', async () => {
    const r = await reachscan([
      'lookup',
      '--simulate',
      '+990123400',
      '+990123444',
      '07400 123456',
      '--default-country',
      'gb',
    ]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^phone_e164\s+reachable\s+connectivity\s+last_status_at\s+roaming/);
    expect(lines[1]).toMatch(/^\+990123400\s+true\s+DATA;SMS\s+\S+Z\s+true\s+GB\s+OK\s+OK$/);
    expect(lines[2]).toMatch(/^\+990123444\s+false\s+\S+Z\s+true\s+GB\s+OK\s+OK$/);
    expect(lines[3]).toMatch(/^\+447400123456\s+/);
    expect(r.stderr).toContain('built-in simulator');
  });

  it('prints JSON lines and exits 1 when a number is invalid or failed', async () => {
    const r = await reachscan(['lookup', '--simulate', '--json', '+990123400', 'call me maybe']);
    expect(r.code).toBe(1);
    const rows = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, string>);
    expect(rows[0]).toMatchObject({
      phone_e164: '+990123400',
      reachable: 'true',
      roaming_countries: 'GB',
      error: '',
    });
    expect(rows[1]).toMatchObject({ input: 'call me maybe', reachability_status: 'INVALID_NUMBER_FORMAT' });
  });

  it('names every missing setting in one line each and exits 3, with no stack trace', async () => {
    const r = await reachscan(['lookup', '+990123400']);
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split('\n')).toEqual([
      'reachscan: VONAGE_APPLICATION_ID is not set (the Vonage application UUID)',
      'reachscan: VONAGE_PRIVATE_KEY (PEM text) or VONAGE_PRIVATE_KEY_PATH (a .key file) must be set',
    ]);
  });

  it('exits 2 with one line for usage mistakes', async () => {
    const bad = await reachscan(['lookup', '--frobnicate', '+990123400']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain("Unknown option '--frobnicate'");
    expect((await reachscan(['lookup'])).code).toBe(2);
    expect((await reachscan(['lookup', '+990123400', '--default-country', 'Britain'])).code).toBe(2);
    expect((await reachscan(['teleport'])).stderr).toBe(
      'reachscan: unknown command "teleport" (try: reachscan help)\n',
    );
    expect((await reachscan([])).code).toBe(2);
    const help = await reachscan(['help', 'lookup']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: reachscan lookup');
  });
});

describe('reachscan simulate', () => {
  it('prints the environment that points reachscan at it, and that environment works', async () => {
    const sim = await startSimulatorProcess(['--seed', 'demo']);
    try {
      const env = Object.fromEntries(
        [...sim.stdout().matchAll(/export (\w+)=(\S+)/g)].map((m) => [m[1] as string, m[2] as string]),
      );
      expect(
        Object.keys(env)
          .filter((k) => k.startsWith('VONAGE_'))
          .sort(),
      ).toEqual(['VONAGE_API_BASE_URL', 'VONAGE_APPLICATION_ID', 'VONAGE_PRIVATE_KEY_PATH']);
      // The CAMARA operator's settings follow (checked in scan-cli.test.ts); nothing else is exported.
      expect(Object.keys(env).every((k) => k.startsWith('VONAGE_') || k.startsWith('CAMARA_'))).toBe(true);
      expect(statSync(env.VONAGE_PRIVATE_KEY_PATH as string).mode & 0o777).toBe(0o600);
      expect(sim.stdout()).not.toContain('PRIVATE KEY');
      const r = await reachscan(['lookup', '+990123422'], env);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/\+990123422\s+true\s+DATA;SMS/);
    } finally {
      expect(await sim.stop()).toBe(0);
    }
  });

  it('a lookup signed with a key the simulator does not know exits 3 with one clear line', async () => {
    const sim = await startSimulatorProcess();
    const other = await startSimulatorProcess();
    try {
      const env = Object.fromEntries(
        [...other.stdout().matchAll(/export (\w+)=(\S+)/g)].map((m) => [m[1] as string, m[2] as string]),
      );
      const numbers = Array.from({ length: 40 }, (_, i) => `+4474000${String(i).padStart(5, '0')}`);
      const r = await reachscan(['lookup', ...numbers], { ...env, VONAGE_API_BASE_URL: sim.url });
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(
        /^reachscan: the carrier refused our credentials: HTTP 401: Unauthorized: Invalid token: unknown application_id\.\n$/,
      );
      expect(r.stdout).toBe('');
      // It stops at the first refusal: only the calls already in flight (8 at a time) were made.
      const stats = (await (await fetch(`${sim.url}/_sim/stats`)).json()) as { requests: number };
      expect(stats.requests).toBeLessThanOrEqual(8);
    } finally {
      await sim.stop();
      await other.stop();
    }
  });

  it('refuses a port in use with one line (exit 2)', async () => {
    const sim = await startSimulatorProcess();
    try {
      const port = new URL(sim.url).port;
      const r = await reachscan(['simulate', '--port', port]);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(
        `reachscan: port ${port} is in use; pick another with --port (0 = any free port)\n`,
      );
    } finally {
      await sim.stop();
    }
  });

  it('keeps the key pair already at --key-out when it starts again, so clients holding it are still accepted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'reachscan-keyout-'));
    const keyFile = join(dir, 'keys', 'private.key');
    const args = ['simulate', '--port', '0', '--application-id', randomUUID(), '--key-out', keyFile];
    try {
      const first = spawnReachscan(args, {});
      await listening(first);
      const env = simulatorEnv(first.stdout());
      const key = readFileSync(keyFile, 'utf8');
      expect(first.stdout()).not.toContain('Reusing');
      first.child.kill('SIGTERM');
      expect((await first.done).code).toBe(0);

      // A restart (Docker's restart policy, say): same file, same key, and the first run's client still works.
      const second = spawnReachscan(args, {});
      try {
        const url = await listening(second);
        expect(second.stdout()).toContain(`Reusing the key pair in ${keyFile}`);
        expect(second.stdout()).not.toContain('PRIVATE KEY');
        expect(readFileSync(keyFile, 'utf8')).toBe(key);
        expect(statSync(keyFile).mode & 0o777).toBe(0o600);
        expect(simulatorEnv(second.stdout()).VONAGE_PRIVATE_KEY_PATH).toBe(keyFile);
        const r = await reachscan(['lookup', '+990123422'], { ...env, VONAGE_API_BASE_URL: url });
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
      } finally {
        second.child.kill('SIGTERM');
        expect((await second.done).code).toBe(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a --key-out file that holds no private key with one line naming it (exit 3), and leaves it as it is', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'reachscan-keyout-'));
    try {
      const publicOnly = join(dir, 'public.pem');
      const { publicKey } = generateKeyPairSync('rsa', {
        modulusLength: 2048,
        publicKeyEncoding: { type: 'spki', format: 'pem' },
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      });
      writeFileSync(publicOnly, publicKey);
      const garbage = join(dir, 'garbage.key');
      writeFileSync(garbage, '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n');
      for (const file of [publicOnly, garbage, dir]) {
        const before = statSync(file).isFile() ? readFileSync(file, 'utf8') : null;
        const r = await reachscan(['simulate', '--port', '0', '--key-out', file]);
        expect(r.code, r.stderr).toBe(3);
        expect(r.stdout).toBe('');
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stderr).toMatch(new RegExp(`^reachscan: --key-out ${escapeRegExp(file)}\\b`));
        expect(r.stderr).not.toContain('BEGIN');
        expect(r.stderr).not.toContain('bm90IGEga2V5');
        if (before !== null) expect(readFileSync(file, 'utf8')).toBe(before);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Waits until `reachscan simulate` says where it listens; its URL. */
async function listening(p: ReachscanProcess): Promise<string> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const match = /listening on (http:\/\/\S+)/.exec(p.stdout());
    if (match?.[1]) return match[1];
    if (p.child.exitCode !== null || Date.now() > deadline)
      throw new Error(`simulator did not start:\n${p.stdout()}\n${p.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
