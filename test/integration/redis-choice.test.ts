import { Redis } from 'ioredis';
import { describe, expect, inject, it } from 'vitest';
import { chooseRedis } from '../../src/queue/redis-choice.js';
import { freePort } from '../../src/queue/private-redis.js';

describe('choosing Redis for a scan', () => {
  it('uses REDIS_URL when it answers', async () => {
    const choice = await chooseRedis({ REDIS_URL: inject('redisUrl') }, true, () => {});
    expect(choice).toEqual({ url: inject('redisUrl'), stopPrivate: null });
  });

  it('starts a private redis-server, and says so, when nothing answers at the default address', async () => {
    const said: string[] = [];
    const nowhere = `redis://127.0.0.1:${await freePort()}`;
    const choice = await chooseRedis({}, true, (line) => said.push(line), nowhere);
    try {
      expect(choice.url).not.toBe(nowhere);
      expect(said[0]).toMatch(/^no Redis at redis:\/\/127\.0\.0\.1:\d+; started a private redis-server/);
      const redis = new Redis(choice.url);
      expect(await redis.ping()).toBe('PONG');
      await redis.quit();
    } finally {
      await choice.stopPrivate?.();
    }
  });

  it('refuses with one line when REDIS_URL is set but dead, or a private one is not allowed', async () => {
    const dead = `redis://127.0.0.1:${await freePort()}`;
    await expect(chooseRedis({ REDIS_URL: dead }, true, () => {})).rejects.toThrow(
      /is not answering: start one/,
    );
    await expect(chooseRedis({}, false, () => {}, dead)).rejects.toThrow(/is not answering/);
  });
});
