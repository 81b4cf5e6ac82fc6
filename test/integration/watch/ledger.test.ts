import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createRedis } from '../../../src/queue/connection.js';
import { dropQueues } from '../../../src/batch/submit.js';
import { createLedger, type HeldLock, type LedgerEntry } from '../../../src/watch/ledger.js';

const redis = createRedis(inject('redisUrl'), 'client');
const prefixes: string[] = [];
afterAll(async () => {
  for (const prefix of prefixes) await dropQueues(redis, prefix);
  await redis.quit();
});

function ledgers(lockTtlMs: number) {
  const prefix = `{watch-ledger-${randomUUID()}}`;
  prefixes.push(prefix);
  return {
    prefix,
    a: createLedger(redis, prefix, '/srv/inbox', 'host:1:a', lockTtlMs),
    b: createLedger(redis, prefix, '/srv/inbox', 'host:2:b', lockTtlMs),
    otherInbox: createLedger(redis, prefix, '/srv/other-inbox', 'host:3:c', lockTtlMs),
  };
}

const entry: LedgerEntry = {
  state: 'processing',
  file: 'crm-20261124T031500Z.csv',
  name: 'crm.csv',
  outDir: '/srv/out/crm-20261124T031500Z',
  claimedAt: '2026-11-24T03:15:00.000Z',
  owner: 'host:1:a',
};

describe('watch ledger and content locks (real Redis)', () => {
  it('one content lock per inbox: a second watcher gets none until the first releases it', async () => {
    const { a, b, otherInbox } = ledgers(5_000);
    const held = await a.lock('sha1');
    expect(held).not.toBeNull();
    expect(await b.lock('sha1')).toBeNull();
    // Another inbox's files are its own.
    const elsewhere = await otherInbox.lock('sha1');
    expect(elsewhere).not.toBeNull();
    await held?.release();
    const next = await b.lock('sha1');
    expect(next).not.toBeNull();
    await next?.release();
    await elsewhere?.release();
  });

  it(
    'a held lock is kept alive past its TTL by the heartbeat; a dead holder’s lock expires',
    { timeout: 20_000 },
    async () => {
      const { a, b } = ledgers(1_000);
      const held = await a.lock('sha2');
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      expect(held?.lost.aborted).toBe(false);
      expect(await b.lock('sha2')).toBeNull();
      await held?.release();

      // A holder that stops refreshing (a killed process) blocks the file only until the TTL runs out.
      const { prefix, a: first, b: second } = ledgers(1_000);
      const probe = await first.lock('sha2');
      const [lockKey] = await redis.keys(`${prefix}:watch:*:lock:sha2`);
      await probe?.release();
      await redis.set(lockKey as string, 'host:9:dead', 'PX', 1_000);
      expect(await second.lock('sha2')).toBeNull();
      const taken: { lock: HeldLock | null } = { lock: null };
      await expect
        .poll(async () => (taken.lock ??= await second.lock('sha2')) !== null, {
          timeout: 5_000,
          interval: 100,
        })
        .toBe(true);
      await taken.lock?.release();
    },
  );

  it(
    'a lock taken by someone else meanwhile is reported lost, and releasing then leaves theirs alone',
    { timeout: 20_000 },
    async () => {
      const { prefix, a } = ledgers(1_000);
      const held = await a.lock('sha3');
      const lockKeys = await redis.keys(`${prefix}:watch:*:lock:sha3`);
      expect(lockKeys).toHaveLength(1);
      await redis.set(lockKeys[0] as string, 'someone-else');
      await expect.poll(() => held?.lost.aborted, { timeout: 5_000 }).toBe(true);
      await held?.release();
      expect(await redis.get(lockKeys[0] as string)).toBe('someone-else');
    },
  );

  it('entries round-trip, carry an expiry, and a damaged entry reads as none', async () => {
    const { prefix, a, b } = ledgers(5_000);
    await a.write('sha4', entry, 86_400_000);
    expect(await b.read('sha4')).toEqual(entry);
    const [key] = await redis.keys(`${prefix}:watch:*:sha4`);
    expect(await redis.pttl(key as string)).toBeGreaterThan(29 * 86_400_000);
    await a.write(
      'sha4',
      { ...entry, state: 'done', finishedAt: '2026-11-24T03:16:00.000Z', exitCode: 0 },
      7 * 86_400_000,
    );
    expect((await b.read('sha4'))?.state).toBe('done');
    const ttl = await redis.pttl(key as string);
    expect(ttl).toBeGreaterThan(6 * 86_400_000);
    expect(ttl).toBeLessThanOrEqual(7 * 86_400_000);
    await redis.set(key as string, '{"state":"weird"}');
    expect(await b.read('sha4')).toBeNull();
    expect(await b.read('never-seen')).toBeNull();
  });
});
