import { Redis } from 'ioredis';
import { describe, expect, inject, it } from 'vitest';
import { chooseRedis } from '../../src/queue/redis-choice.js';
import { freePort } from '../../src/queue/private-redis.js';

describe('choosing Redis for a scan', () => {
  it('uses REDIS_URL when it answers, and says which Redis it uses', async () => {
    const said: string[] = [];
    const choice = await chooseRedis({ REDIS_URL: inject('redisUrl') }, true, (line) => said.push(line));
    expect(choice).toEqual({ url: inject('redisUrl'), stopPrivate: null });
    expect(said).toEqual([`using Redis at ${inject('redisUrl')} (already running)`]);
  });

  it('starts a private redis-server, and says so, when nothing answers at the default address', async () => {
    const said: string[] = [];
    const nowhere = `redis://127.0.0.1:${await freePort()}`;
    const choice = await chooseRedis({}, true, (line) => said.push(line), nowhere);
    try {
      expect(choice.url).not.toBe(nowhere);
      expect(said).toEqual([
        `using Redis at ${choice.url} (started a private one for this run: the history is not kept; nothing answered at ${nowhere})`,
      ]);
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
