import type { FastifyInstance } from 'fastify';
import { listWebhookDeliveries, redeliverWebhook, type WebhookQueueContext } from '../notify/events.js';
import { HttpProblem } from './problem.js';

/**
 * The webhook delivery log: `GET /webhooks?failed=true` (newest first) and `POST /webhooks/:id/redeliver`
 * (the same event again, same id, fresh retry window). As `reachscan webhooks list|redeliver`.
 */
export function registerWebhookRoutes(app: FastifyInstance, context: WebhookQueueContext): void {
  app.get<{ Querystring: { failed?: string } }>('/webhooks', async (request) => {
    const failed = request.query.failed;
    if (failed !== undefined && !['true', 'false', '1', '0', ''].includes(failed))
      throw new HttpProblem(400, `"failed" must be true or false (got "${failed}")`);
    const deliveries = await listWebhookDeliveries(context, {
      failed: ['true', '1', ''].includes(failed ?? 'false'),
    });
    return { deliveries };
  });
  app.post<{ Params: { id: string } }>('/webhooks/:id/redeliver', async (request, reply) => {
    const { id } = request.params;
    const outcome = await redeliverWebhook(context, id);
    if (outcome === 'unknown') throw new HttpProblem(404, `no delivery ${id} in the log`);
    return reply.code(outcome === 'queued' ? 202 : 409).send({
      id,
      state: 'pending',
      detail: outcome === 'queued' ? 'queued again for delivery' : 'still pending: it is being tried already',
    });
  });
}
