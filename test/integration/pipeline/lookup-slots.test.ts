import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pLimit from 'p-limit';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BreakerBoard } from '../../../src/batch/error-breaker.js';
import { createChunkLookup } from '../../../src/batch/lookup-chunk.js';
import { DailyQuota } from '../../../src/batch/quota.js';
import { NO_QUOTA } from '../../../src/config/quota.js';
import { silentLogger } from '../../../src/logging/logger.js';
import { createProvider } from '../../../src/providers/create-provider.js';
import type { ChunkJobData } from '../../../src/queue/job-data.js';
import { ProcessPace } from '../../../src/queue/rate-gate.js';
import { startTestSimulator, type TestSimulator } from '../../support/simulator.js';

const NUMBERS = Array.from({ length: 12 }, (_, i) => `+4474001${String(i).padStart(5, '0')}`);
/** How long each write of answers takes here: longer than a lookup against the local simulator. */
const SLOW_WRITE_MS = 50;

/**
 * A `--concurrency` slot is free for the next number while an answer waits for its write to Redis. One slot,
 * writes made slow on a real Redis connection, the simulator over real HTTP: the next number is asked while an
 * answer waits, so a write carries two answers, and never more than 2 × --concurrency numbers are unsaved.
 */
describe('lookup slots', () => {
  let t: TestSimulator;
  let redis: Redis;
  beforeAll(async () => {
    t = await startTestSimulator();
    redis = new Redis(inject('redisUrl'), { enableAutoPipelining: true });
  });
  afterAll(async () => {
    await redis.quit();
    await t.close();
  });

  it('ask the next number while the last answer waits for its write, within 2 × --concurrency unsaved', async () => {
    const answersPerWrite: number[] = [];
    let unsavedMost = 0;
    const hset = redis.hset.bind(redis) as (...args: unknown[]) => Promise<number>;
    // The answers' HSET, watched and slowed.
    (redis as unknown as { hset: (...args: unknown[]) => Promise<number> }).hset = async (...given) => {
      // The caller reuses its Map once the call is made: what it holds now is what is written.
      const args = given.map((arg) => (arg instanceof Map ? new Map(arg) : arg));
      if (String(args[0]).endsWith(':answers') && args[1] instanceof Map) {
        answersPerWrite.push(args[1].size);
        const written = await redis.hlen(String(args[0]));
        unsavedMost = Math.max(unsavedMost, t.sim.stats().requests - written);
      }
      await new Promise((resolve) => setTimeout(resolve, SLOW_WRITE_MS));
      return hset(...args);
    };
    const provider = createProvider(t.config(), { logger: silentLogger() });
    const lookup = createChunkLookup({
      redis,
      prefix: `{slots-${randomUUID()}}`,
      provider: () => provider,
      limit: pLimit(1),
      unsaved: pLimit(2),
      logger: silentLogger(),
      clock: Date.now,
      stopping: new AbortController().signal,
      breaker: new BreakerBoard(),
      pace: new ProcessPace(),
      stateSecret: null,
      quota: new DailyQuota(NO_QUOTA, Date.now),
    });
    const data: ChunkJobData = {
      batchId: 'b1',
      chunk: 0,
      numbers: NUMBERS,
      provider: 'identity-insights',
      ratePerSecond: 0,
      history: { prefix: `{slots-state-${randomUUID()}}:`, retentionDays: 400, buckets: 4 },
      maxAgeMs: 0,
    };
    try {
      expect(await lookup(data, { lastAttempt: true })).toEqual({ kind: 'done', answered: NUMBERS.length });
    } finally {
      await provider.close();
    }
    expect(t.sim.stats().requests).toBe(NUMBERS.length);
    // Held until its answer is written, the one slot would ask nobody while an answer waits: one answer a write.
    expect(Math.max(...answersPerWrite)).toBe(2);
    expect(answersPerWrite.reduce((sum, n) => sum + n, 0)).toBe(NUMBERS.length);
    expect(unsavedMost).toBeLessThanOrEqual(2);
  });
});
