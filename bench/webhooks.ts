/**
 * Webhook latency: queues N events (as a batch or a network event would, through enqueueWebhookEvent) on a
 * private redis-server, lets one delivery process (the same code `reachscan worker` runs) POST them to a local
 * receiver, and measures from the enqueue call to the receiver's arrival.
 *
 *   npm run bench:webhooks -- [--events 1000] [--every-ms 5]
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { parseWebhookSecret, WEBHOOK_DEFAULTS } from '../src/config/webhooks.js';
import { createLogger } from '../src/logging/logger.js';
import { startWebhookDeliveries } from '../src/notify/delivery-worker.js';
import { closeWebhookQueues, enqueueWebhookEvent } from '../src/notify/events.js';
import { createRedis } from '../src/queue/connection.js';
import { startRedisServer } from '../src/queue/private-redis.js';

const { values } = parseArgs({
  options: { events: { type: 'string', default: '1000' }, 'every-ms': { type: 'string', default: '5' } },
});
const count = Number(values.events);
const everyMs = Number(values['every-ms']);

const arrivals = new Map<string, number>();
const receiver = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    arrivals.set(String(req.headers['webhook-id']), performance.now());
    res.writeHead(204).end();
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;

const redisServer = await startRedisServer();
const prefix = '{bench-webhooks}';
const redis = createRedis(redisServer.url, 'client');
const deliveries = startWebhookDeliveries({
  redisUrl: redisServer.url,
  prefix,
  logger: createLogger({ level: 'silent' }),
  settings: {
    ...WEBHOOK_DEFAULTS,
    secret: parseWebhookSecret(`whsec_${randomBytes(32).toString('base64')}`),
  },
});

const queued = new Map<string, number>();
for (let i = 0; i < count; i++) {
  const at = performance.now();
  const id = await enqueueWebhookEvent(
    { redis, prefix },
    {
      url,
      type: 'device.changed',
      key: `bench|${i}`,
      data: { phone_number: `+4474${String(i).padStart(8, '0')}`, change: 'went_offline' },
    },
  );
  queued.set(id, at);
  if (everyMs > 0) await new Promise((resolve) => setTimeout(resolve, everyMs));
}
const deadline = Date.now() + 60_000;
while (arrivals.size < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));

const latencies = [...queued].map(([id, at]) => (arrivals.get(id) ?? NaN) - at).sort((a, b) => a - b);
const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
const ms = (v: number) => `${v.toFixed(1)} ms`;
console.log(
  `webhooks: ${arrivals.size}/${count} delivered, one every ${everyMs} ms; enqueue → receiver: ` +
    `p50 ${ms(q(0.5))}, p95 ${ms(q(0.95))}, p99 ${ms(q(0.99))}, max ${ms(latencies.at(-1) ?? NaN)}`,
);

await deliveries?.close();
await closeWebhookQueues(redis);
await redis.quit();
await redisServer.stop();
receiver.close();
