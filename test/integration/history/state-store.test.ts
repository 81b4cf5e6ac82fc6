import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { nextState } from '../../../src/history/number-state.js';
import { decodeState, encodeState, StateStore } from '../../../src/history/state-store.js';
import { bucketOf, numberDigest } from '../../../src/history/number-key.js';
import { carrierAnswer } from '../../support/rows.js';

const redis = new Redis(inject('redisUrl'));
afterAll(() => redis.quit());

const DAY = 86_400_000;
const STAMP = { purpose: 'FraudPreventionAndDetection', writtenAtMs: Date.parse('2026-06-03T00:00:00Z') };
const T0 = Date.parse('2026-06-01T00:00:00Z');
const answer = (reachable: string) =>
  carrierAnswer({ reachable, connectivity: reachable === 'true' ? 'DATA' : '' });

describe('state store (real Redis)', () => {
  const store = () =>
    new StateStore(redis, { prefix: `{test-state-${randomUUID()}}:`, buckets: 64, retentionDays: 400 }, null);

  it('writes atomically, never back in time, and again when the same state is written twice', async () => {
    const s = store();
    const older = encodeState(nextState(null, answer('true'), 'identity-insights', T0));
    const newer = encodeState(nextState(null, answer('false'), 'identity-insights', T0 + DAY));
    await s.write([['+447400123456', newer]], STAMP);
    await s.write([['+447400123456', older]], STAMP); // a late finalize of an earlier batch
    expect((await s.read(['+447400123456'], T0 + DAY)).get('+447400123456')?.reachable).toBe(false);
    await s.write([['+447400123456', newer]], STAMP); // a resumed finalize
    const fields = await redis.hgetall(s.key('+447400123456'));
    expect(decodeState(fields)?.checkedAt).toBe(T0 + DAY);
    expect(await redis.ttl(s.key('+447400123456'))).toBeGreaterThan(399 * 86_400);
  });

  it('drops fields a newer state no longer has, and forgets states past retention', async () => {
    const s = store();
    const roaming = nextState(
      null,
      { ...answer('true'), roaming: 'true', roaming_countries: 'DE', roaming_mcc: '262' },
      'device-status',
      T0,
    );
    await s.write([['+447400123457', encodeState(roaming)]], STAMP);
    const home = nextState(roaming, answer('true'), 'device-status', T0 + DAY);
    await s.write([['+447400123457', encodeState(home)]], STAMP);
    expect(await redis.hexists(s.key('+447400123457'), 'mc')).toBe(0);
    expect((await s.read(['+447400123457'], T0 + DAY))?.get('+447400123457')).toEqual({
      ...home,
      checkedAt: T0 + DAY,
      lastSeenReachableAt: T0 + DAY,
    });
    expect((await s.read(['+447400123457', '+447400999999'], T0 + 402 * DAY)).size).toBe(0);
  });

  it('with a secret, names entries by an HMAC of the number, records purpose and write time, and forgets', async () => {
    const name = `test-state-${randomUUID()}`;
    const prefix = `{${name}}:`;
    const secret = 'a-secret-of-at-least-16-chars';
    const options = { prefix, buckets: 64, retentionDays: 400 };
    const s = new StateStore(redis, options, secret);
    const number = '+447400123458';
    await s.write([[number, encodeState(nextState(null, answer('false'), 'identity-insights', T0))]], STAMP);
    const digest = numberDigest(secret, number);
    const bucket = `{${name}:${bucketOf(digest, 64)}}:`;
    expect(s.key(number)).toBe(`${bucket}${digest}`);
    const names = await redis.keys(`{${name}*`);
    // The entry, its bucket's purposes dictionary, and the layout record.
    expect(names.sort()).toEqual([`${bucket}purposes`, s.key(number), `${prefix}layout`].sort());
    expect(s.key(number)).not.toContain('7400123458');
    // Another secret names it otherwise: a key alone cannot be matched with a list of numbers.
    expect(new StateStore(redis, options, 'another-secret-16-chars').key(number)).not.toBe(s.key(number));
    const held = await s.heldAbout(number);
    expect(held?.purpose).toBe('FraudPreventionAndDetection');
    expect(held?.writtenAt).toBe(STAMP.writtenAtMs);
    expect(held?.state.reachable).toBe(false);
    expect(await s.heldAbout('+447400123459')).toBeNull();
    expect(await s.forget([number, '+447400123459'])).toBe(1);
    expect(await redis.exists(s.key(number))).toBe(0);
    expect(await s.forget([number])).toBe(0);
  });

  it('migrate moves clear entries to hashed names (expiry kept), keeps a newer hashed one, and is idempotent', async () => {
    const options = { prefix: `{test-state-${randomUUID()}}:`, buckets: 64, retentionDays: 400 };
    const clear = new StateStore(redis, options, null);
    const hashed = new StateStore(redis, options, 'a-secret-of-at-least-16-chars');
    const state = (day: number) =>
      encodeState(nextState(null, answer('true'), 'identity-insights', T0 + day * DAY));
    await clear.write(
      [
        ['+447400123460', state(0)],
        ['+447400123461', state(0)],
      ],
      STAMP,
    );
    await hashed.write([['+447400123461', state(1)]], STAMP);
    expect(await hashed.migrate()).toEqual({ moved: 1, hashed: 1, keptNewer: 1, buckets: 64 });
    expect(await redis.exists(clear.key('+447400123460'), clear.key('+447400123461'))).toBe(0);
    expect((await hashed.read(['+447400123460'], T0)).get('+447400123460')?.checkedAt).toBe(T0);
    expect((await hashed.read(['+447400123461'], T0)).get('+447400123461')?.checkedAt).toBe(T0 + DAY);
    expect(await redis.ttl(hashed.key('+447400123460'))).toBeGreaterThan(399 * 86_400);
    expect(await hashed.migrate()).toEqual({ moved: 0, hashed: 0, keptNewer: 0, buckets: 64 });
  });
});
