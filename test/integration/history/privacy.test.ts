import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { historyKeyPattern, numberKey, parseHistoryKey } from '../../../src/history/number-key.js';
import { startRedisServer, type RedisServerHandle } from '../../../src/queue/private-redis.js';
import { NO_FAULTS } from '../../../src/simulator/index.js';
import { readReport, runScan } from '../../support/scan.js';
import { startTestSimulator, type TestSimulator } from '../../support/simulator.js';
import { call, startServe } from '../api/serve-process.js';

/*
 * The history with REACHSCAN_STATE_SECRET set, on a Redis of this file's own (so every key in it is one of
 * these runs'): after a scan and its cleanup no key name and no value holds a number in any form; `history`,
 * `forget` and `history migrate` through the CLI, `POST /history` and `POST /forget` through the API.
 */

const SECRET = 'privacy-test-secret-0123456789';
/** Runs in a fresh queue prefix each: the history is named once for all of them. */
const STATE = { REACHSCAN_STATE_PREFIX: '{privacy-state}:' };
/** GB mobiles: E.164, and the forms people write them in. */
const FLEET = ['+447400310001', '+447400310002', '+447400310003', '+447400310004'];
const national = (e164: string) => `0${e164.slice(3)}`;
const digits = (e164: string) => e164.slice(1);

let t: TestSimulator;
let own: RedisServerHandle;
let redis: Redis;
let dir: string;

beforeAll(async () => {
  t = await startTestSimulator();
  t.sim.setDials({ faults: NO_FAULTS, rateCapPerSecond: 0, latencyMs: 0, authPendingShare: 0 });
  own = await startRedisServer();
  redis = new Redis(own.url);
  dir = mkdtempSync(join(tmpdir(), 'reachscan-privacy-'));
}, 30_000);
afterAll(async () => {
  await redis?.quit();
  await own?.stop();
  await t?.close();
});

function fleetFile(name: string, numbers: readonly string[]): string {
  const path = join(dir, name);
  // Every form a CRM writes: national, international with spaces, E.164.
  const cells = numbers.map((n, i) => (i % 3 === 0 ? national(n) : i % 3 === 1 ? `+44 ${n.slice(3)}` : n));
  writeFileSync(path, ['id,phone', ...cells.map((c, i) => `D${i},${c}`)].join('\n'));
  return path;
}

const env = (extra: Record<string, string> = {}) => ({ REDIS_URL: own.url, ...STATE, ...extra });

/** `reachscan <args>` through the CLI's entry point: exit code and what it printed. */
async function cli(args: string[], extra: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk: Buffer, _e, done) {
        append(chunk.toString());
        done();
      },
    });
  const code = await main(args, {
    stdout: sink((s) => (stdout += s)),
    stderr: sink((s) => (stderr += s)),
    env: { PATH: process.env.PATH, REACHSCAN_LOG_LEVEL: 'silent', ...env(extra) },
    stopSignal: new Promise<string>(() => {}),
  });
  return { code, stdout, stderr };
}

/** Every key of the Redis, and every value of every type, as text. */
async function dumpRedis(): Promise<{ names: string[]; values: string[] }> {
  const names: string[] = [];
  const values: string[] = [];
  for await (const batch of redis.scanStream({ count: 1000 }) as AsyncIterable<string[]>) {
    for (const key of batch) {
      names.push(key);
      const type = await redis.type(key);
      if (type === 'string') values.push((await redis.getBuffer(key))?.toString('latin1') ?? '');
      else if (type === 'hash') values.push(...Object.entries(await redis.hgetall(key)).flat());
      else if (type === 'list') values.push(...(await redis.lrange(key, 0, -1)));
      else if (type === 'set') values.push(...(await redis.smembers(key)));
      else if (type === 'zset') values.push(...(await redis.zrange(key, 0, -1, 'WITHSCORES')));
      else if (type === 'stream')
        values.push(...(await redis.xrange(key, '-', '+')).flatMap(([id, fields]) => [id, ...fields]));
      else if (type !== 'none') values.push(`unread type ${type} of ${key}`);
    }
  }
  return { names, values };
}

function formsOf(numbers: readonly string[]): string[] {
  return numbers.flatMap((n) => [n, national(n), digits(n), n.slice(3)]);
}

describe('privacy of the history (REACHSCAN_STATE_SECRET)', () => {
  it('after a scan and its cleanup, no Redis key name or value holds a number in any form', async () => {
    const file = fleetFile('fleet.csv', FLEET);
    const run = await runScan(
      t,
      [file, '--default-country', 'GB', '--purpose', 'NetworkReachabilityCheck'],
      env({ REACHSCAN_STATE_SECRET: SECRET }),
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toContain('REACHSCAN_STATE_SECRET');
    expect(readReport(run.outDir).purpose).toBe('NetworkReachabilityCheck');
    const { names, values } = await dumpRedis();
    expect(names.length).toBeGreaterThan(0);
    // One entry per number, each in its bucket, and no other name for it.
    const entries = names.filter((n) => parseHistoryKey(STATE.REACHSCAN_STATE_PREFIX, n)?.kind === 'state');
    expect(entries).toHaveLength(FLEET.length);
    expect(entries.every((n) => /^\{privacy-state:\d+\}:[\w-]{22}$/.test(n))).toBe(true);
    const text = [...names, ...values].join('\n');
    for (const form of formsOf(FLEET)) expect(text, `${form} in Redis`).not.toContain(form);

    // What is held about one number, written by that scan: its purpose and answer, through the CLI.
    const shown = await cli(['history', national(FLEET[0] as string), '--default-country', 'GB', '--json'], {
      REACHSCAN_STATE_SECRET: SECRET,
    });
    expect(shown.code, shown.stderr).toBe(0);
    const held = JSON.parse(shown.stdout) as Record<string, unknown>;
    expect(held).toMatchObject({ number: FLEET[0], held: true, purpose: 'NetworkReachabilityCheck' });
    expect(held.last_answer).toMatchObject({ reachability_status: expect.any(String) as string });
    expect(typeof held.written_at).toBe('string');
    expect(typeof held.expires_at).toBe('string');
    const readable = await cli(['history', FLEET[1] as string], { REACHSCAN_STATE_SECRET: SECRET });
    expect(readable.stdout).toContain('purpose                NetworkReachabilityCheck');
    // Without the secret the same Redis says nothing about it: the key is not the number's.
    expect((await cli(['history', FLEET[1] as string])).stdout).toBe(`${FLEET[1]}: nothing held\n`);

    // forget, by argument and by file: says how many were there, and they are gone.
    const list = join(dir, 'forget.txt');
    writeFileSync(list, `# to erase\n${FLEET[2]}\n\n${national('+447400319999')}\n`);
    const forgot = await cli(
      ['forget', FLEET[0] as string, FLEET[1] as string, '--file', list, '--default-country', 'GB'],
      {
        REACHSCAN_STATE_SECRET: SECRET,
      },
    );
    expect(forgot.code, forgot.stderr).toBe(0);
    expect(forgot.stdout).toBe('forgot 3 of 4 numbers (1 not in the history)\n');
    const after = await cli(['history', FLEET[0] as string, '--json'], { REACHSCAN_STATE_SECRET: SECRET });
    expect(JSON.parse(after.stdout)).toEqual({ number: FLEET[0], held: false });
    expect(names.length - (await dumpRedis()).names.length).toBe(3);
    const bad = await cli(['forget', '12'], { REACHSCAN_STATE_SECRET: SECRET });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  }, 90_000);

  it('history migrate moves a clear history to hashed keys, keeps its answers, and a later scan uses them', async () => {
    const numbers = ['+447400320001', '+447400320002', '+447400320003'];
    const file = fleetFile('migrate.csv', numbers);
    const prefix = `{privacy-${randomUUID()}}:`;
    const first = await runScan(
      t,
      [file, '--default-country', 'GB'],
      env({ REACHSCAN_STATE_PREFIX: prefix }),
    );
    expect(first.code, first.stderr).toBe(0);
    // Without the secret, where the history is kept: said once, after the Redis line.
    expect(first.stderr).toMatch(/using Redis at .*\n.*warning: REACHSCAN_STATE_SECRET is not set/);
    expect(readReport(first.outDir).purpose).toBe('FraudPreventionAndDetection');
    const clearKeys = () => redis.keys(`${historyKeyPattern(prefix)}+*`);
    const layout = { prefix, buckets: 64 };
    expect((await clearKeys()).sort()).toEqual(numbers.map((n) => numberKey(layout, null, n)).sort());

    // Without the secret there is nothing to hash: the history is already in its buckets.
    const withSecret = { REACHSCAN_STATE_PREFIX: prefix, REACHSCAN_STATE_SECRET: SECRET };
    const unhashed = await cli(['history', 'migrate'], { REACHSCAN_STATE_PREFIX: prefix });
    expect(unhashed.code, unhashed.stderr).toBe(0);
    expect(unhashed.stdout).toBe(
      "moved 0 numbers (0 to hashed keys) into the history's 64 buckets; 0 already had a newer entry (old key removed)\n",
    );
    const migrated = await cli(['history', 'migrate'], withSecret);
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(migrated.stdout).toBe(
      "moved 3 numbers (3 to hashed keys) into the history's 64 buckets; 0 already had a newer entry (old key removed)\n",
    );
    expect(await clearKeys()).toEqual([]);
    const again = await cli(['history', 'migrate'], withSecret);
    expect(again.stdout).toMatch(/^moved 0 numbers/);
    const text = [...(await redis.keys(`${historyKeyPattern(prefix)}`))].join('\n');
    for (const form of formsOf(numbers)) expect(text).not.toContain(form);

    // The answers survived the move: a scan with --max-age answers every number from the history.
    const requestsBefore = t.sim.stats().requests;
    const cached = await runScan(t, [file, '--default-country', 'GB', '--max-age', '24h'], env(withSecret));
    expect(cached.code, cached.stderr).toBe(0);
    expect(readReport(cached.outDir).source).toMatchObject({ cache: 3, live: 0 });
    expect(t.sim.stats().requests).toBe(requestsBefore);
  }, 90_000);

  it('a --simulate run on a real Redis says no warning (its history is its own, thrown away with it)', async () => {
    const file = fleetFile('sim.csv', ['+447400330001']);
    const run = await runScan(t, [file, '--default-country', 'GB', '--simulate'], env());
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toContain('REACHSCAN_STATE_SECRET');
  }, 60_000);

  it('POST /history and POST /forget through the API', async () => {
    const number = '+447400340001';
    const file = fleetFile('api.csv', [number]);
    const scanned = await runScan(
      t,
      [file, '--default-country', 'GB'],
      env({ REACHSCAN_STATE_SECRET: SECRET }),
    );
    expect(scanned.code, scanned.stderr).toBe(0);
    const serve = await startServe(t, [], { REDIS_URL: own.url, ...STATE, REACHSCAN_STATE_SECRET: SECRET });
    try {
      const json = { 'content-type': 'application/json' };
      const ask = (body: unknown) =>
        call(`${serve.url}/history`, {
          method: 'POST',
          token: serve.token,
          headers: json,
          body: JSON.stringify(body),
        });
      const held = await ask({ number: national(number), default_country: 'GB' });
      expect(held.status, held.text).toBe(200);
      expect(held.json()).toMatchObject({ number, held: true, purpose: 'FraudPreventionAndDetection' });
      expect((await ask({ number: 'nope' })).status).toBe(400);
      const unauthorised = await call(`${serve.url}/forget`, { method: 'POST', headers: json, body: '{}' });
      expect(unauthorised.status).toBe(401);
      const forget = (numbers: unknown) =>
        call(`${serve.url}/forget`, {
          method: 'POST',
          token: serve.token,
          headers: json,
          body: JSON.stringify({ numbers }),
        });
      const gone = await forget([number, '+447400349999']);
      expect(gone.status, gone.text).toBe(200);
      expect(gone.json()).toEqual({ asked: 2, forgotten: 1, not_held: 1 });
      expect((await ask({ number })).json()).toEqual({ number, held: false });
      expect((await forget([])).status).toBe(400);
    } finally {
      await serve.stop();
    }
    expect(serve.stderr()).not.toContain(number.slice(3));
  }, 90_000);
});
