import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ChunkWrites, spendRule } from '../../../src/batch/chunk-writes.js';
import { batchKeys } from '../../../src/queue/keys.js';
import { reserveRequest, type QuotaCounter } from '../../../src/queue/spend.js';

/** How many commands of a kind Redis has run so far (INFO commandstats). */
async function calls(redis: Redis, command: string): Promise<number> {
  const info = await redis.info('commandstats');
  return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
}

describe('spendRule', () => {
  it('reserves request by request when the batch has a budget or the quota a limit, else only counts', () => {
    expect(spendRule({ spent: '0', limit: '500', unit: 'requests' }, null)).toEqual({ kind: 'reserve' });
    expect(spendRule({ spent: '0' }, 5_000)).toEqual({ kind: 'reserve' });
    const rule = spendRule({ spent: '0', 'price:lookup': '2500', currency: 'EUR' }, null);
    expect(rule).toEqual({ kind: 'tally', prices: new Map([['lookup', 2500]]) });
  });
});

describe('ChunkWrites', () => {
  let redis: Redis;
  beforeAll(() => {
    // As the worker's shared connection: auto-pipelined.
    redis = new Redis(inject('redisUrl'), { enableAutoPipelining: true });
  });
  afterAll(() => redis.quit());

  it('saves answers settled together in one HSET, each save resolving once its answer is in Redis', async () => {
    const keys = batchKeys(`{cw-${randomUUID()}}`, 'b1');
    const writes = new ChunkWrites(redis, keys, { kind: 'reserve' });
    const before = await calls(redis, 'hset');
    const saved = Array.from({ length: 40 }, (_, i) => writes.save(`+4474000000${i}`, `answer ${i}`, null));
    await Promise.all(saved);
    expect(await calls(redis, 'hset')).toBeLessThanOrEqual(before + 2);
    expect(await redis.hlen(keys.answers)).toBe(40);
    expect(await redis.hget(keys.answers, '+44740000007')).toBe('answer 7');
    // A refusal is listed with its chunk, for a resume that asks such rows again.
    await writes.save('+447400000099', 'refused', 12);
    expect(await redis.hget(keys.refused, '+447400000099')).toBe('12');
    expect(await redis.ttl(keys.refused)).toBeGreaterThan(0);
    await writes.flush();
  });

  it('counts requests as the reserve script would, once flushed', async () => {
    const prefix = `{cw-${randomUUID()}}`;
    const tallied = batchKeys(prefix, 'tallied');
    const reserved = batchKeys(prefix, 'reserved');
    const counters: QuotaCounter[] = [
      { key: `${prefix}:quota:a`, limit: null, ttlS: 172_800 },
      { key: `${prefix}:quota:b`, limit: null, ttlS: 172_800 },
    ];
    const spend = { spent: '0', micros: '0', 'price:token': '1000', 'price:lookup': '2500' };
    await redis.hset(tallied.spend, spend);
    await redis.hset(reserved.spend, spend);
    const rule = spendRule(await redis.hgetall(tallied.spend), null);
    const writes = new ChunkWrites(redis, tallied, rule);
    const kinds = ['token', 'lookup', 'lookup', 'lookup', 'token', 'lookup'];
    for (const [i, kind] of kinds.entries()) {
      expect(writes.counts(kind, counters[i % 2] as QuotaCounter)).toBe(true);
      const otherDay = { ...(counters[i % 2] as QuotaCounter), key: `${counters[i % 2]?.key}:r` };
      await reserveRequest(redis, reserved.spend, otherDay, kind);
    }
    // Nothing is in Redis until an answer is saved or the chunk flushes.
    expect(await redis.hget(tallied.spend, 'spent')).toBe('0');
    await writes.flush();
    const withoutPrices = (h: Record<string, string>) =>
      Object.fromEntries(Object.entries(h).filter(([k]) => !k.startsWith('price:')));
    expect(withoutPrices(await redis.hgetall(tallied.spend))).toEqual(
      withoutPrices(await redis.hgetall(reserved.spend)),
    );
    expect(await redis.hget(tallied.spend, 'micros')).toBe(String(2 * 1000 + 4 * 2500));
    expect(await redis.get(`${prefix}:quota:a`)).toBe('3');
    expect(await redis.get(`${prefix}:quota:b`)).toBe('3');
    expect(await redis.ttl(`${prefix}:quota:a`)).toBeGreaterThan(172_000);
  });

  it('a budget set meanwhile: what was counted goes to Redis, and the next requests are reserved', async () => {
    const prefix = `{cw-${randomUUID()}}`;
    const keys = batchKeys(prefix, 'b1');
    const counter: QuotaCounter = { key: `${prefix}:quota:a`, limit: null, ttlS: 60 };
    await redis.hset(keys.spend, { spent: '0', micros: '0' });
    const writes = new ChunkWrites(redis, keys, spendRule(await redis.hgetall(keys.spend), null));
    expect(writes.counting()).toBe(true);
    writes.counts('lookup', counter);
    writes.counts('lookup', counter);
    writes.reserveFromNow();
    expect(writes.counting()).toBe(false);
    expect(writes.counts('lookup', counter)).toBe(false);
    await redis.hset(keys.spend, { unit: 'requests', limit: '3' });
    // The reservation runs after the counted two on the same connection: one more fits, then none.
    expect(await reserveRequest(redis, keys.spend, counter, 'lookup')).toEqual({ ok: true });
    expect(await reserveRequest(redis, keys.spend, counter, 'lookup')).toMatchObject({
      ok: false,
      by: 'budget',
    });
    await writes.flush();
  });

  it('a failed write fails the saves waiting on it and the flush', async () => {
    const keys = batchKeys(`{cw-${randomUUID()}}`, 'b1');
    // The answers key holds a string: HSET on it fails (WRONGTYPE), as a write to a broken Redis would.
    await redis.set(keys.answers, 'not a hash');
    const writes = new ChunkWrites(redis, keys, { kind: 'reserve' });
    await expect(writes.save('+447400000001', 'a', null)).rejects.toThrow(/WRONGTYPE/);
    await expect(writes.flush()).rejects.toThrow(/WRONGTYPE/);
  });
});
