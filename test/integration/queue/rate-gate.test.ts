import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LEARN, ProcessPace, RateGate } from '../../../src/queue/rate-gate.js';

/** The most timestamps that fall in any window [t, t + 1000) ms. */
function busiestSecond(times: readonly number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while ((sorted[j] as number) <= (sorted[i] as number) - 1000) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

describe('RateGate with a rate', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(inject('redisUrl'));
  });
  afterAll(() => redis.quit());

  it('never lets more than the paced rate leave in any second, even when the event loop stalls', async () => {
    const key = `{gate-test-${randomUUID()}}:rate`;
    const gate = new RateGate(redis, key, 10, new ProcessPace());
    const sent: number[] = [];
    const requests = Array.from({ length: 30 }, () => gate.acquire().then(() => sent.push(Date.now())));
    // Half a second in, the event loop is blocked for 1.2 s: the slots due meanwhile all come due at once.
    await new Promise((r) => setTimeout(r, 500));
    const until = Date.now() + 1_200;
    while (Date.now() < until) {
      // busy: a stall, as a long GC or a CPU-bound neighbour would cause
    }
    await Promise.all(requests);
    expect(sent).toHaveLength(30);
    expect(busiestSecond(sent)).toBeLessThanOrEqual(10);
    await redis.del(key, `${key}:pause`, `${key}:admitted`);
  });

  it('three workers sharing a key never send more than the rate in any second, on an event loop that keeps stalling', async () => {
    const key = `{gate-test-${randomUUID()}}:rate`;
    // Three workers as three processes see it: each its own connection and its own memory of the gate.
    const connections = [0, 1, 2].map(() => new Redis(inject('redisUrl')));
    const gates = connections.map((c) => new RateGate(c, key, 20, new ProcessPace()));
    const sent: number[] = [];
    // Stalls of up to 150 ms, 0 to 250 ms apart: timers fire late and together, replies are read late.
    let stalling = true;
    const stalls = (async () => {
      while (stalling) {
        await new Promise((r) => setTimeout(r, Math.random() * 250));
        const until = Date.now() + Math.random() * 150;
        while (Date.now() < until) {
          // busy
        }
      }
    })();
    // Each worker runs 4 requests at a time, as many as it can get through the gate.
    const worker = async (gate: RateGate) => {
      for (let i = 0; i < 15; i++) {
        await gate.acquire();
        sent.push(Date.now());
      }
    };
    await Promise.all(gates.flatMap((gate) => Array.from({ length: 4 }, () => worker(gate))));
    stalling = false;
    await stalls;
    expect(sent).toHaveLength(3 * 4 * 15);
    expect(busiestSecond(sent)).toBeLessThanOrEqual(20);
    await redis.del(key, `${key}:pause`, `${key}:admitted`);
    await Promise.all(connections.map((c) => c.quit()));
  }, 60_000);

  it('a lone 429 pauses nobody under --rate; a second one within seconds pauses everyone', async () => {
    const key = `{gate-test-${randomUUID()}}:rate`;
    const [a, b] = [
      new RateGate(redis, key, 20, new ProcessPace()),
      new RateGate(redis, key, 20, new ProcessPace()),
    ];
    expect(await a.pause(5_000)).toBe(false);
    // (the key outlives its deadline by a second: the deadline, not the key, is the pause)
    expect(Number((await redis.get(`${key}:pause`)) ?? 0)).toBeLessThanOrEqual(Date.now());
    // Another worker's 429 right after: 429s keep coming, so everyone waits out Retry-After.
    expect(await b.pause(5_000)).toBe(true);
    expect(await redis.pttl(`${key}:pause`)).toBeGreaterThan(5_000);
    await redis.del(key, `${key}:pause`, `${key}:admitted`, `${key}:429`);
  });

  it('without --rate every 429 pauses everyone', async () => {
    const key = `{gate-test-${randomUUID()}}:rate`;
    expect(await new RateGate(redis, key, 0, new ProcessPace()).pause(3_000)).toBe(true);
    expect(await redis.exists(`${key}:pause`)).toBe(1);
    await redis.del(key, `${key}:pause`);
  });
});

describe('RateGate without a rate', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(inject('redisUrl'));
  });
  afterAll(() => redis.quit());

  it("learns the carrier's cap from a 429: the pace it sent at, less the decrease, in this process only", async () => {
    const key = `{gate-test-${randomUUID()}}:rate`;
    const pace = new ProcessPace();
    const gate = new RateGate(redis, key, 0, pace);
    expect(pace.learnedRate(key)).toBeNull();
    // Requests every ~10 ms for 1.5 s, then the carrier answers 429: the pace is measured over the last second.
    const sent: number[] = [];
    for (const started = Date.now(); Date.now() - started < 1_500;) {
      await gate.acquire();
      sent.push(Date.now());
      await new Promise((r) => setTimeout(r, 10));
    }
    const sentPerSecond = sent.filter((t) => t > Date.now() - 1_000).length;
    await gate.pause(5);
    const learned = pace.learnedRate(key) as number;
    expect(learned).toBeGreaterThan(sentPerSecond * LEARN.decrease * 0.8);
    expect(learned).toBeLessThan(sentPerSecond * LEARN.decrease * 1.2);
    // Another process (another ProcessPace) has learned nothing.
    expect(new ProcessPace().learnedRate(key)).toBeNull();
    await redis.del(key, `${key}:pause`);
  });

  it('once the pace is learned, a lone 429 only slows it down; the next one within 5 s pauses everyone', async () => {
    const key = `{gate-test-${randomUUID()}}:rate`;
    const pace = new ProcessPace();
    const gate = new RateGate(redis, key, 0, pace);
    const other = new RateGate(redis, key, 0, new ProcessPace());
    // The first 429 teaches the pace: everyone waits out its Retry-After.
    expect(await gate.pause(300)).toBe(true);
    expect(await redis.pttl(`${key}:pause`)).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 400));
    // A lone 429 later: no pause in Redis, so another worker goes on at once.
    expect(await gate.pause(1_000)).toBe(false);
    // (the key outlives its deadline by a second: the deadline, not the key, is the pause)
    expect(Number((await redis.get(`${key}:pause`)) ?? 0)).toBeLessThanOrEqual(Date.now());
    const started = Date.now();
    await other.acquire();
    expect(Date.now() - started).toBeLessThan(200);
    // The next 429 within LONE_429_MS: a storm, not a cap. Everyone waits again.
    expect(await gate.pause(1_000)).toBe(true);
    const waited = Date.now();
    // (another process trusts its last look at the pause for 100 ms)
    await new Promise((r) => setTimeout(r, 150));
    await other.acquire();
    expect(Date.now() - waited).toBeGreaterThan(900);
    await redis.del(key, `${key}:pause`, `${key}:429`);
  });
});
