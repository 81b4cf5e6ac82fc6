import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { nextState } from '../../../src/history/number-state.js';
import { decodeState, encodeState, StateStore } from '../../../src/history/state-store.js';
import { carrierAnswer } from '../../support/rows.js';

const redis = new Redis(inject('redisUrl'));
afterAll(() => redis.quit());

const DAY = 86_400_000;
const T0 = Date.parse('2026-06-01T00:00:00Z');
const answer = (reachable: string) =>
  carrierAnswer({ reachable, connectivity: reachable === 'true' ? 'DATA' : '' });

describe('state store (real Redis)', () => {
  const store = () => new StateStore(redis, { prefix: `{test-state-${randomUUID()}}:`, retentionDays: 400 });

  it('writes atomically, never back in time, and again when the same state is written twice', async () => {
    const s = store();
    const older = encodeState(nextState(null, answer('true'), 'identity-insights', T0));
    const newer = encodeState(nextState(null, answer('false'), 'identity-insights', T0 + DAY));
    await s.write([['+447400123456', newer]]);
    await s.write([['+447400123456', older]]); // a late finalize of an earlier batch
    expect((await s.read(['+447400123456'], T0 + DAY)).get('+447400123456')?.reachable).toBe(false);
    await s.write([['+447400123456', newer]]); // a resumed finalize
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
    await s.write([['+447400123457', encodeState(roaming)]]);
    const home = nextState(roaming, answer('true'), 'device-status', T0 + DAY);
    await s.write([['+447400123457', encodeState(home)]]);
    expect(await redis.hexists(s.key('+447400123457'), 'mc')).toBe(0);
    expect((await s.read(['+447400123457'], T0 + DAY))?.get('+447400123457')).toEqual({
      ...home,
      checkedAt: T0 + DAY,
      lastSeenReachableAt: T0 + DAY,
    });
    expect((await s.read(['+447400123457', '+447400999999'], T0 + 402 * DAY)).size).toBe(0);
  });
});
