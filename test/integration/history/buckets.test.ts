import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { HistoryOptions } from '../../../src/core/settings.js';
import { HistoryLayoutError, layoutKey } from '../../../src/history/layout.js';
import { parseHistoryKey } from '../../../src/history/number-key.js';
import { nextState } from '../../../src/history/number-state.js';
import { encodeState, StateStore } from '../../../src/history/state-store.js';
import { NO_FAULTS } from '../../../src/simulator/index.js';
import { carrierAnswer } from '../../support/rows.js';
import { readReport, runScan } from '../../support/scan.js';
import { startTestSimulator, type TestSimulator } from '../../support/simulator.js';

/*
 * The history spread over hash-tag buckets, on a real Redis: reads and writes across buckets, the layout
 * record that stops a process configured with another count, and `history migrate` from the single-slot
 * layout (and between counts) into buckets.
 */

const redis = new Redis(inject('redisUrl'));
afterAll(() => redis.quit());

const SECRET = 'a-secret-of-at-least-16-chars';
const DAY = 86_400_000;
const T0 = Date.parse('2026-06-01T00:00:00Z');
const STAMP = { purpose: 'FraudPreventionAndDetection', writtenAtMs: T0 + DAY };
const fleet = (count: number, from = 0) =>
  Array.from({ length: count }, (_, i) => `+4474005${String(from + i).padStart(5, '0')}`);
const stateOf = (day: number, reachable = 'true') =>
  encodeState(
    nextState(null, carrierAnswer({ reachable, connectivity: '' }), 'identity-insights', T0 + day * DAY),
  );

const freshPrefix = () => `{test-buckets-${randomUUID()}}:`;
const at = (prefix: string, buckets: number): HistoryOptions => ({ prefix, buckets, retentionDays: 400 });

/** Every key of the history under `prefix`, by what it is. */
async function keysOf(prefix: string) {
  const names = await redis.keys(`${prefix.slice(0, prefix.indexOf('}'))}*`);
  const parsed = names.map((key) => ({ key, what: parseHistoryKey(prefix, key) }));
  return {
    all: names,
    states: parsed.filter((p) => p.what?.kind === 'state'),
    purposes: parsed.filter((p) => p.what?.kind === 'purposes').map((p) => p.key),
  };
}

describe('history buckets (real Redis)', () => {
  it('writes a group across buckets, one dictionary per bucket, and reads it back in one call', async () => {
    const prefix = freshPrefix();
    const store = new StateStore(redis, at(prefix, 16), SECRET);
    const numbers = fleet(200);
    const written = await store.write(
      numbers.map((n, i) => [n, stateOf(0, i % 2 === 0 ? 'true' : 'false')]),
      STAMP,
    );
    expect(written).toBe(200);
    const { states, purposes } = await keysOf(prefix);
    expect(states).toHaveLength(200);
    const used = new Set(states.map((s) => s.what?.bucket));
    // 200 numbers over 16 buckets: every bucket holds some, and each has its own purposes dictionary.
    expect(used.size).toBe(16);
    expect(purposes.sort()).toEqual([...used].map((b) => `${b}purposes`).sort());
    expect(await redis.hgetall(layoutKey({ prefix }))).toEqual({ buckets: '16' });

    const read = await store.read([...numbers, '+447400599999'], T0 + DAY);
    expect(read.size).toBe(200);
    numbers.forEach((n, i) => expect(read.get(n)?.reachable, n).toBe(i % 2 === 0));
    const held = await store.heldAbout(numbers[5] as string);
    expect(held?.purpose).toBe(STAMP.purpose);
    expect(await store.forget([...numbers.slice(0, 50), '+447400599999'])).toBe(50);
    expect((await store.read(numbers, T0 + DAY)).size).toBe(150);
  });

  it('stops a process whose count differs from the recorded one, or from a history older than buckets', async () => {
    const prefix = freshPrefix();
    await new StateStore(redis, at(prefix, 8), null).write([[fleet(1)[0] as string, stateOf(0)]], STAMP);
    const other = new StateStore(redis, at(prefix, 16), null);
    await expect(other.read(fleet(3), T0)).rejects.toThrow(HistoryLayoutError);
    await expect(other.write([[fleet(1)[0] as string, stateOf(1)]], STAMP)).rejects.toThrow(
      `REACHSCAN_STATE_BUCKETS is 16 but the history at ${prefix} is kept in 8 buckets: run "reachscan history migrate" with REACHSCAN_STATE_BUCKETS=16 (workers stopped) to move it, or set REACHSCAN_STATE_BUCKETS=8`,
    );
    await expect(other.forget(fleet(1))).rejects.toThrow(HistoryLayoutError);
    await expect(other.heldAbout(fleet(1)[0] as string)).rejects.toThrow(HistoryLayoutError);

    // A single-slot history written before buckets (no record, its one dictionary): 1 bucket.
    const old = freshPrefix();
    await redis.hset(`${old}purposes`, '#', '1', 'n:FraudPreventionAndDetection', '1', 'i:1', 'x');
    await redis.hset(`${old}+447400500001`, 'c', '1', 'p', 'ii', 'u', '1');
    await expect(new StateStore(redis, at(old, 64), null).read(fleet(1), T0)).rejects.toThrow(
      /kept in 1 bucket \(one slot, the layout from before buckets\)/,
    );
    // …which a process configured with 1 reads as before, and records.
    const single = new StateStore(redis, at(old, 1), null);
    expect((await single.read(['+447400500001'], 0)).size).toBe(1);
    await single.write([['+447400500002', stateOf(0)]], STAMP);
    expect(await redis.hget(layoutKey({ prefix: old }), 'buckets')).toBe('1');

    // A move under way (or cut short) stops everyone until it ends.
    await redis.hset(layoutKey({ prefix }), 'migrating', '16');
    await expect(new StateStore(redis, at(prefix, 8), null).read(fleet(1), T0)).rejects.toThrow(
      /is being moved into 16 buckets by "reachscan history migrate", or that move was cut short/,
    );
  });

  it('migrate moves a single-slot history into buckets, hashing clear names, with purposes and expiry kept', async () => {
    const prefix = freshPrefix();
    const numbers = fleet(120, 100);
    const single = new StateStore(redis, at(prefix, 1), null);
    await single.write(
      numbers.slice(0, 100).map((n) => [n, stateOf(0)]),
      STAMP,
    );
    await single.write(
      numbers.slice(100).map((n) => [n, stateOf(0)]),
      { ...STAMP, purpose: 'NetworkReachabilityCheck' },
    );
    // Some entries were already hashed in the single slot, one of them newer than a later clear copy.
    const hashedSingle = new StateStore(redis, at(prefix, 1), SECRET);
    await hashedSingle.write([[numbers[0] as string, stateOf(3, 'false')]], STAMP);
    await redis.pexpire(single.key(numbers[1] as string), 5 * DAY);
    const before = await keysOf(prefix);
    expect(before.states).toHaveLength(121);
    expect(before.purposes).toEqual([`${prefix}purposes`]);

    const bucketed = new StateStore(redis, at(prefix, 16), SECRET);
    await expect(bucketed.read(numbers, T0)).rejects.toThrow(HistoryLayoutError);
    // 121 entries of 120 numbers: numbers[0]'s two meet at one key, in SCAN's order. Moved first, the newer
    // hashed one keeps the clear one out; moved second, it replaces it. Either way the newer state stays.
    const counts = await bucketed.migrate();
    expect(counts.moved + counts.keptNewer).toBe(121);
    expect(counts.moved - counts.hashed).toBe(1);
    expect(counts.buckets).toBe(16);

    const after = await keysOf(prefix);
    expect(after.states).toHaveLength(120);
    expect(after.states.every((s) => s.what?.kind === 'state' && s.what.index !== null)).toBe(true);
    expect(after.states.every((s) => s.what?.kind === 'state' && !s.what.id.startsWith('+'))).toBe(true);
    expect(new Set(after.states.map((s) => s.what?.bucket)).size).toBe(16);
    // The single slot's dictionary is gone with its entries; the record says 16.
    expect(after.purposes).not.toContain(`${prefix}purposes`);
    expect(await redis.hgetall(layoutKey({ prefix }))).toEqual({ buckets: '16' });

    const read = await bucketed.read(numbers, T0 + DAY);
    expect(read.size).toBe(120);
    expect(read.get(numbers[0] as string)?.reachable).toBe(false); // the newer hashed state stayed
    expect((await bucketed.heldAbout(numbers[110] as string))?.purpose).toBe('NetworkReachabilityCheck');
    expect((await bucketed.heldAbout(numbers[10] as string))?.purpose).toBe(STAMP.purpose);
    const kept = await redis.pttl(bucketed.key(numbers[1] as string));
    expect(kept).toBeGreaterThan(4 * DAY);
    expect(kept).toBeLessThanOrEqual(5 * DAY);
    expect(await redis.ttl(bucketed.key(numbers[2] as string))).toBeGreaterThan(399 * 86_400);

    // Idempotent: a second run finds nothing to move.
    expect(await bucketed.migrate()).toEqual({ moved: 0, hashed: 0, keptNewer: 0, buckets: 16 });
    expect((await keysOf(prefix)).all.sort()).toEqual(after.all.sort());
  });

  it('migrate finishes a move cut short, and moves between counts without a secret', async () => {
    const prefix = freshPrefix();
    const numbers = fleet(60, 300);
    await new StateStore(redis, at(prefix, 1), null).write(
      numbers.map((n) => [n, stateOf(0)]),
      STAMP,
    );
    // A move into 4 buckets cut short: the record says so, one entry was copied but its old key not deleted.
    const four = new StateStore(redis, at(prefix, 4), null);
    await redis.hset(layoutKey({ prefix }), 'migrating', '4');
    const copied = numbers[7] as string;
    await redis.hset(four.key(copied), await redis.hgetall(`${prefix}${copied}`));
    expect(await four.migrate()).toEqual({ moved: 59, hashed: 0, keptNewer: 1, buckets: 4 });
    expect(await redis.exists(`${prefix}${copied}`)).toBe(0);
    expect((await four.read(numbers, T0)).size).toBe(60);

    // 4 buckets → 32: clear names stay clear without a secret, every entry finds its new bucket.
    const many = new StateStore(redis, at(prefix, 32), null);
    // An entry whose bucket number is the same under both counts (`{…:1}` in both) stays where it is.
    const staying = numbers.filter((n) => many.key(n) === four.key(n)).length;
    expect(staying).toBeGreaterThan(0);
    expect(await many.migrate()).toEqual({ moved: 60 - staying, hashed: 0, keptNewer: 0, buckets: 32 });
    const { states, purposes } = await keysOf(prefix);
    expect(states.map((s) => s.key).sort()).toEqual(numbers.map((n) => many.key(n)).sort());
    // Only the new layout's dictionaries are left, one per bucket in use.
    const used = new Set(states.map((s) => s.what?.bucket));
    expect(purposes.sort()).toEqual([...used].map((b) => `${b}purposes`).sort());
    expect((await many.read(numbers, T0)).size).toBe(60);
    await expect(four.read(numbers, T0)).rejects.toThrow(HistoryLayoutError);
  });
});

describe('upgrading a single-slot history (CLI)', () => {
  let t: TestSimulator;
  beforeAll(async () => {
    t = await startTestSimulator();
    t.sim.setDials({ faults: NO_FAULTS, rateCapPerSecond: 0, latencyMs: 0, authPendingShare: 0 });
  });
  afterAll(() => t?.close());

  it('scan refuses before queueing, history migrate moves it, and the next scan answers from it', async () => {
    const numbers = fleet(30, 700);
    const file = join(mkdtempSync(join(tmpdir(), 'reachscan-buckets-')), 'fleet.csv');
    writeFileSync(file, ['id,phone', ...numbers.map((n, i) => `D${i},${n}`)].join('\n'));
    const prefix = freshPrefix();
    const state = { REACHSCAN_STATE_PREFIX: prefix, REACHSCAN_STATE_SECRET: SECRET };
    // What an earlier version left: every entry in the prefix's one slot.
    const first = await runScan(t, [file], { ...state, REACHSCAN_STATE_BUCKETS: '1' });
    expect(first.code, first.stderr).toBe(0);
    expect((await keysOf(prefix)).states.every((s) => s.what?.bucket === prefix)).toBe(true);

    const asked = t.sim.stats().requests;
    const refused = await runScan(t, [file, '--max-age', '24h'], state);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain(
      `reachscan: REACHSCAN_STATE_BUCKETS is 64 but the history at ${prefix} is kept in 1 bucket (one slot, the layout from before buckets): run "reachscan history migrate"`,
    );
    expect(t.sim.stats().requests).toBe(asked);

    const migrated = await runScan(t, ['migrate'], state, { command: 'history' });
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(migrated.stdout).toBe(
      "moved 30 numbers (0 to hashed keys) into the history's 64 buckets; 0 already had a newer entry (old key removed)\n",
    );
    const { states } = await keysOf(prefix);
    expect(states).toHaveLength(30);
    expect(states.some((s) => s.what?.bucket === prefix)).toBe(false);

    const cached = await runScan(t, [file, '--max-age', '24h'], state);
    expect(cached.code, cached.stderr).toBe(0);
    expect(readReport(cached.outDir).source).toMatchObject({ cache: 30, live: 0 });
    expect(t.sim.stats().requests).toBe(asked);
  }, 60_000);

  it("a --simulate run moves the simulator's own single-slot history instead of stopping", async () => {
    const numbers = fleet(12, 800);
    const file = join(mkdtempSync(join(tmpdir(), 'reachscan-buckets-')), 'fleet.csv');
    writeFileSync(file, ['id,phone', ...numbers.map((n, i) => `D${i},${n}`)].join('\n'));
    const prefix = freshPrefix();
    const old = await runScan(t, [file, '--simulate'], {
      REACHSCAN_STATE_PREFIX: prefix,
      REACHSCAN_STATE_BUCKETS: '1',
    });
    expect(old.code, old.stderr).toBe(0);
    const now = await runScan(t, [file, '--simulate', '--max-age', '24h'], {
      REACHSCAN_STATE_PREFIX: prefix,
    });
    expect(now.code, now.stderr).toBe(0);
    expect(now.stderr).toContain("reachscan: moved the simulator's history (12 entries) into 64 buckets");
    expect(readReport(now.outDir).source).toMatchObject({ cache: 12, live: 0 });
    const { states } = await keysOf(prefix);
    expect(states.some((s) => s.what?.bucket === prefix)).toBe(false);
  }, 60_000);
});
