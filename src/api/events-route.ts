import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { EVENTS_PATH, receiveEvent, type MonitorDeps } from '../batch/monitor.js';
import { maskPhone } from '../core/e164.js';
import { EventShapeError, readCloudEvent } from '../history/camara-events.js';
import type { EventChange } from '../history/monitor-store.js';
import type { StateStore } from '../history/state-store.js';
import type { Logger } from '../logging/logger.js';
import { sendProblem } from './problem.js';

export { EVENTS_PATH };

export interface EventRouteDeps {
  /** Null when push monitoring is not set up (no CAMARA configuration or no REACHSCAN_PUBLIC_URL). */
  readonly monitor: (MonitorDeps & { readonly states: StateStore; readonly purpose: string }) | null;
  readonly logger: Logger;
  /** Told of each change an event made (the `device.changed` webhook). */
  readonly announce: (change: EventChange) => Promise<void>;
}

/**
 * `POST /events/camara`: CloudEvents from the operator's subscriptions. Not behind the API token: the
 * operator presents the sink credential reachscan issued to the subscription instead (401 without it).
 */
export function eventRoutes(deps: EventRouteDeps): FastifyPluginAsync {
  return (api: FastifyInstance) => {
    api.addContentTypeParser(
      ['application/cloudevents+json', 'application/json'],
      { parseAs: 'string' },
      (_request, body, done) => {
        try {
          done(null, JSON.parse(body as string));
        } catch {
          done(null, body);
        }
      },
    );
    api.post(EVENTS_PATH, async (request, reply) => {
      const monitor = deps.monitor;
      if (monitor === null)
        return sendProblem(
          reply,
          503,
          'push monitoring is not set up: set REACHSCAN_PUBLIC_URL and the CAMARA_* settings',
        );
      const correlator = request.headers['x-correlator'];
      if (typeof correlator === 'string') reply.header('x-correlator', correlator);
      const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1] ?? null;
      if (bearer === null) return unauthorized(reply);
      let event;
      try {
        event = readCloudEvent(request.headers, request.body);
      } catch (error) {
        if (error instanceof EventShapeError) return sendProblem(reply, 400, error.message);
        throw error;
      }
      const verdict = await receiveEvent(monitor, bearer, event);
      if (verdict.status === 401) return unauthorized(reply);
      for (const change of verdict.changes) await deps.announce(change);
      return reply.code(204).send();
    });
    return Promise.resolve();
  };
}

function unauthorized(reply: Parameters<typeof sendProblem>[0]) {
  reply.header('www-authenticate', 'Bearer realm="reachscan-events"');
  return sendProblem(
    reply,
    401,
    "the subscription's sink credential is required: Authorization: Bearer <accessToken>",
  );
}

/**
 * A change the network told of, when no webhook is set up (REACHSCAN_WEBHOOK_URL and _SECRET): logged with
 * the number masked. With a webhook, serve sends `device.changed` instead (deviceChangedWebhook).
 */
export function announceDeviceChange(logger: Logger): (change: EventChange) => Promise<void> {
  return (change) => {
    logger.info(
      { phone: maskPhone(change.number), change: change.change, evidence: change.evidence, at: change.at },
      'device.changed',
    );
    return Promise.resolve();
  };
}
