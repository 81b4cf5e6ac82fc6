import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

describe('the test Redis', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(inject('redisUrl'), { lazyConnect: true, maxRetriesPerRequest: 1 });
  });
  afterAll(() => redis.quit());

  it('answers over TCP', async () => {
    await redis.connect();
    expect(await redis.ping()).toBe('PONG');
  });

  it('when private: persistence off and noeviction, as BullMQ needs', async ({ skip }) => {
    if (!inject('redisIsPrivate')) skip('REDIS_URL given: its settings are the operator’s');
    expect(await redis.config('GET', 'save')).toEqual(['save', '']);
    expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
    expect(await redis.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
  });
});
