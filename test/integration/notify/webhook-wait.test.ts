import { randomUUID } from 'node:crypto';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { waitForDeliveries } from '../../../src/cli/webhook-wait.js';
import {
  WEBHOOK_QUEUE,
  closeWebhookQueues,
  enqueueWebhookEvent,
  type WebhookEventInput,
} from '../../../src/notify/events.js';

/**
 * `scan --webhook` waits for its batch's deliveries. The worker marks the batch done, then queues its
 * device.changed events, then the batch's own event: a scan that looked in between saw nothing pending. Here
 * the events are queued by hand, in that order, on a real Redis, and delivered by a BullMQ worker that only
 * takes them (delivery itself is tested elsewhere).
 */
describe('waitForDeliveries', () => {
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  it('waits until the batch event is queued, not only until nothing is pending', async () => {
    const redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    closers.push(() => redis.quit());
    closers.push(() => closeWebhookQueues(redis));
    const context = { redis, prefix: `{ww-${randomUUID()}}` };
    const delivered: string[] = [];
    const worker = new Worker(WEBHOOK_QUEUE, async (job) => void delivered.push(job.name), {
      connection: redis.duplicate(),
      prefix: context.prefix,
    });
    closers.push(() => worker.close());
    const event = (type: WebhookEventInput['type'], key: string): WebhookEventInput => ({
      url: 'http://127.0.0.1:9/hook',
      type,
      data: {},
      key,
      batchId: 'b1',
    });
    // An earlier change, delivered already: nothing is pending, but the batch's events are not all in.
    await enqueueWebhookEvent(context, event('device.changed', 'b1 change 1'));
    await expect.poll(() => delivered.length).toBe(1);

    const lines: string[] = [];
    const started = Date.now();
    const waiting = waitForDeliveries({
      context,
      batchId: 'b1',
      waitMs: 10_000,
      leftTo: 'workers',
      say: (line) => lines.push(line),
    });
    let returnedAt = 0;
    void waiting.then(() => (returnedAt = Date.now()));
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(returnedAt).toBe(0);

    const lastQueuedAt = Date.now();
    await enqueueWebhookEvent(context, event('device.changed', 'b1 change 2'));
    await enqueueWebhookEvent(context, event('batch.completed', 'b1 completed'));
    expect(await waiting).toEqual([]);
    expect(returnedAt).toBeGreaterThanOrEqual(lastQueuedAt);
    expect(returnedAt - started).toBeLessThan(10_000);
    expect(delivered).toEqual(['device.changed', 'device.changed', 'batch.completed']);
    expect(lines).toEqual([]);
  });
});
