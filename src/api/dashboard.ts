import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import type { RedisClient } from '../queue/connection.js';
import { BATCH_QUEUE, CHUNK_QUEUE, queueOptions, SCHEDULE_QUEUE } from '../queue/keys.js';

export const DASHBOARD_PATH = '/admin/queues';

/**
 * The queues the API shows (dashboard) and counts (`reachscan_queue_jobs`): batches and chunks, and the
 * schedules queue when `reachscan schedule sync` has made one under this prefix.
 */
export async function openQueues(redis: RedisClient, prefix: string): Promise<Queue[]> {
  const names: string[] = [BATCH_QUEUE, CHUNK_QUEUE];
  const base = `${prefix}:${SCHEDULE_QUEUE}`;
  if ((await redis.exists(`${base}:meta`, `${base}:repeat`, `${base}:id`)) > 0) names.push(SCHEDULE_QUEUE);
  return names.map((name) => {
    const queue = new Queue(name, queueOptions(redis, prefix));
    queue.on('error', () => {});
    return queue;
  });
}

/** bull-board at /admin/queues; the API's token check (a hook on the whole server) guards it too. */
export async function registerDashboard(app: FastifyInstance, queues: readonly Queue[]): Promise<void> {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(DASHBOARD_PATH);
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue)),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'reachscan' } },
  });
  await app.register(serverAdapter.registerPlugin(), { prefix: DASHBOARD_PATH });
}
