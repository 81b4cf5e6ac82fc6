import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { SendWindow } from '../../../src/core/send-window.js';
import { createHttpTransport } from '../../../src/providers/http/transport.js';
import { ProcessPace, RateGate, STALE_ADMISSION_MS } from '../../../src/queue/rate-gate.js';

/** Blocks the event loop, as a long GC pause or a CPU-bound neighbour would. */
function stall(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // busy
  }
}

describe('a request whose place in the rate went by is not sent', () => {
  let redis: Redis;
  let server: Server;
  let url: string;
  const arrivals: number[] = [];
  let connections = 0;
  let closed = 0;

  beforeAll(async () => {
    redis = new Redis(inject('redisUrl'));
    server = createServer((req, res) => {
      arrivals.push(Date.now());
      req.resume();
      req.on('end', () => res.end('{}'));
    });
    server.on('connection', (socket) => {
      connections++;
      socket.on('close', () => closed++);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/lookup`;
  });
  afterAll(async () => {
    await redis.quit();
    await new Promise((resolve) => server.close(resolve));
  });

  it('a stall between the admission and the write: nothing is written, a new place is taken, one request arrives', async () => {
    const key = `{window-test-${randomUUID()}}:rate`;
    const gate = new RateGate(redis, key, 10, new ProcessPace());
    const transport = createHttpTransport({ timeoutMs: 5_000 });
    arrivals.length = 0;
    const window = await gate.acquire();
    expect(window?.late()).toBe(false);
    stall(STALE_ADMISSION_MS + 30);
    const stallEnded = Date.now();
    expect(window?.late()).toBe(true);
    const result = await transport.post(url, { headers: {}, body: '{}', window });
    expect(result.ok).toBe(true);
    expect(arrivals).toHaveLength(1);
    // The late admission was given back: one admission, taken after the stall, stands for the one request the
    // server saw (Redis and this test read the same clock).
    const admitted = await redis.zrange(`${key}:admitted`, 0, -1, 'WITHSCORES');
    expect(admitted).toHaveLength(2);
    expect(Number(admitted[1])).toBeGreaterThanOrEqual(stallEnded - 1);
    await transport.close();
    await redis.del(key, `${key}:admitted`);
  });

  it('the connection a late request found stays open for the next one', async () => {
    const transport = createHttpTransport({ timeoutMs: 5_000 });
    arrivals.length = 0;
    // A warm connection first, so that the late check meets an open socket (undici marks it free a moment
    // after the body was read).
    expect((await transport.post(url, { headers: {}, body: '{}' })).ok).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const [opened, closedBefore] = [connections, closed];
    let lateChecks = 2;
    let retakes = 0;
    const window: SendWindow = {
      late: () => lateChecks-- > 0,
      retake: () => {
        retakes++;
        return Promise.resolve(window);
      },
    };
    const result = await transport.post(url, { headers: {}, body: '{}', window });
    expect(result.ok).toBe(true);
    expect(retakes).toBe(2);
    expect(arrivals).toHaveLength(2);
    expect([connections, closed]).toEqual([opened, closedBefore]);
    await transport.close();
  });

  it('a place that never comes in time ends as a timeout, with nothing sent', async () => {
    const transport = createHttpTransport({ timeoutMs: 300 });
    arrivals.length = 0;
    const window: SendWindow = {
      late: () => true,
      retake: (signal) =>
        new Promise((resolve, reject) => {
          const timer = setTimeout(() => resolve(window), 50);
          signal?.addEventListener('abort', () => {
            clearTimeout(timer);
            reject(signal.reason as Error);
          });
        }),
    };
    const result = await transport.post(url, { headers: {}, body: '{}', window });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.failure.code).toBe('ERROR_TIMEOUT');
    expect(arrivals).toHaveLength(0);
    await transport.close();
  });
});
