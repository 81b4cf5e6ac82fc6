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

/** Where bull-board's page asks for fonts from outside: the server's own fonts stand in. */
const OUTSIDE_FONTS = /<link[^>]+href="https:\/\/fonts\.(?:googleapis|gstatic)\.com[^"]*"[^>]*>\s*/g;

/**
 * Nothing the dashboard shows comes from elsewhere: its page loses the font link bull-board writes, and a CSP
 * keeps every request on this server (its inline styles stay; it has no inline script).
 */
export const DASHBOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

export function withoutOutsideFonts(html: string): string {
  return html.replace(OUTSIDE_FONTS, '');
}

/** bull-board at /admin/queues; the API's token check (a hook on the whole server) guards it too. */
export async function registerDashboard(app: FastifyInstance, queues: readonly Queue[]): Promise<void> {
  app.addHook('onSend', async (request, reply, payload) => {
    if (!request.url.startsWith(DASHBOARD_PATH)) return payload;
    reply.header('content-security-policy', DASHBOARD_CSP);
    const html = String(reply.getHeader('content-type') ?? '').startsWith('text/html');
    return html && typeof payload === 'string' ? withoutOutsideFonts(payload) : payload;
  });
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(DASHBOARD_PATH);
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue)),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'reachscan' } },
  });
  await app.register(serverAdapter.registerPlugin(), { prefix: DASHBOARD_PATH });
}
