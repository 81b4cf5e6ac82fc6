import type { Queue } from 'bullmq';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { Registry } from 'prom-client';
import type { QuotaSettings } from '../config/quota.js';
import type { Clock } from '../core/clock.js';
import { InputError } from '../input/errors.js';
import type { Logger } from '../logging/logger.js';
import { readMetricsSnapshot, renderMetrics } from '../metrics/exporter.js';
import type { RedisClient } from '../queue/connection.js';
import { cookieValue, createTokenCheck, presentedToken, tokenInQuery } from './auth.js';
import { consoleRoutes, isConsolePage, isPublicConsolePath } from './console/routes.js';
import { ConsoleSessions, SESSION_COOKIE } from './console/session.js';
import { batchRoutes, unsupportedType } from './batch-routes.js';
import { registerWebhookRoutes } from './webhook-routes.js';
import type { BatchService } from './batches.js';
import type { ApiConfig } from '../config/api.js';
import { DASHBOARD_PATH, registerDashboard } from './dashboard.js';
import { EVENTS_PATH, eventRoutes, type EventRouteDeps } from './events-route.js';
import type { DataDir } from './data-dir.js';
import type { ServerSettings } from './options.js';
import { multipartProblem } from './multipart.js';
import { registerHistoryRoutes } from './history-routes.js';
import { HttpProblem, sendProblem } from './problem.js';
import { tooLarge } from './upload.js';
import { registerOpenApi } from './openapi.js';

export { CSV_TYPES, PARTIAL_HEADER } from './batch-routes.js';

export interface ApiServerDeps {
  readonly config: ApiConfig;
  readonly redis: RedisClient;
  readonly prefix: string;
  readonly dataDir: DataDir;
  readonly batches: BatchService;
  readonly queues: readonly Queue[];
  readonly server: ServerSettings;
  readonly logger: Logger;
  /** This process's own metrics (Node.js), served with the workers'. */
  readonly localMetrics?: Registry;
  /** `/events/camara` (push monitoring); absent: the route answers 503. */
  readonly events?: EventRouteDeps;
  /** REACHSCAN_DAILY_QUOTA and REACHSCAN_QUOTA_TZ, for `/metrics`' quota gauges (none without). */
  readonly quota?: QuotaSettings;
  /** The clock the quota's day is read on; the system's by default. */
  readonly clock?: Clock;
}

/** How long `/healthz` waits for Redis's PONG before it says Redis is not answering, in ms. */
const REDIS_PING_TIMEOUT_MS = 2_000;

/**
 * The HTTP API: batches (upload, progress, files, retry), `/healthz`, `/metrics` and the bull-board dashboard.
 * Every route but `/healthz` needs the token.
 */
export async function buildApiServer(deps: ApiServerDeps): Promise<FastifyInstance> {
  // Widened to Fastify's logger type, so the app is a plain FastifyInstance. Its request serializer replaces
  // Fastify's, which logs the URL with its query string (where a careless client puts a token).
  const loggerInstance: FastifyBaseLogger = deps.logger.child({}, { serializers: { req: requestForLog } });
  // Unknown query parameters are refused (400), not silently dropped as Fastify's default would.
  const app = Fastify({
    loggerInstance,
    trustProxy: false,
    ajv: { customOptions: { removeAdditional: false } },
  });
  // On the root instance, not in a plugin: the token check and the error answers then cover every route.
  const sessions = new ConsoleSessions(deps.redis, deps.prefix);
  requireToken(app, deps.config.token, sessions);
  answerErrorsAsProblems(app, deps.config.maxUploadBytes);
  await registerOpenApi(app);
  registerHealthAndMetrics(app, deps);
  registerHistoryRoutes(app, deps);
  await app.register(batchRoutes(deps));
  await app.register(consoleRoutes({ ...deps, sessions }));
  registerWebhookRoutes(app, { redis: deps.redis, prefix: deps.prefix });
  await registerDashboard(app, deps.queues);
  await app.register(
    eventRoutes(deps.events ?? { monitor: null, logger: deps.logger, announce: () => Promise.resolve() }),
  );
  return app;
}

/** A request as the log shows it: the path without its query string, never a header. */
export function requestForLog(request: FastifyRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: pathOf(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}

const pathOf = (url: string) => url.split('?', 1)[0] ?? '';

/**
 * Every request but `/healthz` must present the token; without it, a 401 saying how to present it. A token in
 * the query string is refused everywhere, even beside a valid header: such URLs end up in proxies' logs and
 * browser history, so the client must be told rather than served. The console's session cookie stands for
 * the token on its pages (whose forms carry a CSRF token) and on the API's reads; never on an API write, which
 * a session alone must not be able to make.
 */
function requireToken(app: FastifyInstance, token: string, sessions: ConsoleSessions): void {
  const authorized = createTokenCheck(token);
  const sessionCovers = (method: string, path: string) =>
    isConsolePage(path) ||
    path === '/sign-out' ||
    path.startsWith('/scan') ||
    method === 'GET' ||
    method === 'HEAD';
  app.addHook('onRequest', async (request, reply) => {
    const path = pathOf(request.url);
    const inQuery = tokenInQuery(request.url);
    if (inQuery !== null) {
      reply.header('www-authenticate', 'Bearer realm="reachscan"');
      return sendProblem(
        reply,
        401,
        `a token in the URL (?${inQuery}=) is not accepted: URLs end up in logs and browser history; send it in the Authorization header (Authorization: Bearer <REACHSCAN_API_TOKEN>)`,
      );
    }
    // The operator's events carry the subscription's own credential, checked by their route.
    if (
      path === '/healthz' ||
      path === EVENTS_PATH ||
      isPublicConsolePath(path) ||
      authorized(presentedToken(request.headers))
    )
      return;
    if (
      sessionCovers(request.method, path) &&
      (await sessions.valid(cookieValue(request.headers.cookie, SESSION_COOKIE)))
    )
      return;
    if (isConsolePage(path) && request.method === 'GET')
      return reply.code(303).header('location', '/sign-in').send();
    // A browser opening the dashboard gets a login prompt: the user name is ignored, the token is the password.
    const dashboard = path === DASHBOARD_PATH || path.startsWith(`${DASHBOARD_PATH}/`);
    reply.header(
      'www-authenticate',
      dashboard ? 'Basic realm="reachscan", charset="UTF-8"' : 'Bearer realm="reachscan"',
    );
    return sendProblem(reply, 401, 'a valid token is required: Authorization: Bearer <REACHSCAN_API_TOKEN>');
  });
}

/** Every error, and every unknown endpoint, is answered as problem+json (see problem.ts). */
function answerErrorsAsProblems(app: FastifyInstance, maxUploadBytes: number): void {
  app.setErrorHandler((raised: Error & { statusCode?: number; code?: string }, request, reply) => {
    if (!request.raw.complete) refuseRestOfBody(request, reply, maxUploadBytes);
    // Multipart's own errors (a limit, a body cut short) in the API's words, wherever they surface.
    const error = multipartProblem(validationProblem(raised)) as typeof raised;
    if (error instanceof HttpProblem) return sendProblem(reply, error.status, error.detail, error.extra);
    if (error instanceof InputError) return sendProblem(reply, 422, error.message);
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || error.statusCode === 415) {
      return sendProblem(reply, 415, unsupportedType(request));
    }
    if (error.code === 'FST_REQ_FILE_TOO_LARGE' || error.statusCode === 413)
      return sendProblem(reply, 413, tooLarge(maxUploadBytes).detail);
    // Not request.raw.destroyed: a request read to its end is destroyed too, and its client still waits.
    if (request.raw.socket?.destroyed !== false) {
      // The client hung up (mid-upload, say): nobody is left to answer; still never a 2xx.
      request.log.info({ err: error.message }, 'client went away');
      return reply.code(400).send();
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) return sendProblem(reply, status, error.message);
    request.log.error({ err: error.message, stack: error.stack }, 'request failed');
    return sendProblem(reply, 500, 'the server could not answer this request; see its log');
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, 404, `no such endpoint: ${request.method} ${pathOf(request.url)}`),
  );
}

type ValidationFailure = Error & {
  validation?: readonly { instancePath?: string; params?: Record<string, unknown>; message?: string }[];
  validationContext?: string;
};

/**
 * A request the OpenAPI schemas refuse, in the API's words: the parameter at fault named in `option` (a batch
 * id keeps the message it always had). Anything else passes unchanged.
 */
export function validationProblem(error: ValidationFailure): unknown {
  const first = error.validation?.[0];
  if (first === undefined) return error;
  const field =
    first.instancePath?.replace(/^\//, '') ||
    paramText(first.params?.missingProperty ?? first.params?.additionalProperty);
  if (error.validationContext === 'params' && field === 'id')
    return new HttpProblem(400, 'batch id must be 24 hexadecimal characters', { option: 'id' });
  if (first.params?.additionalProperty !== undefined)
    return new HttpProblem(400, `unknown parameter "${field}"`, { option: field });
  return new HttpProblem(
    400,
    `${error.validationContext ?? 'request'} "${field}" ${first.message ?? 'is not valid'}`,
    {
      option: field,
    },
  );
}

const paramText = (value: unknown) => (typeof value === 'string' ? value : '');

/** Past this, a refused upload is not read to its end: the connection is closed instead. */
const DRAIN_LIMIT_BYTES = 8 * 1024 * 1024;

/**
 * The rest of a refused upload: read and dropped when it is not too large, so the client, still sending, gets
 * the answer (a connection closed under unread data is reset, and the answer can be lost with it); beyond
 * that, the connection is closed once the answer is sent.
 */
function refuseRestOfBody(request: FastifyRequest, reply: FastifyReply, maxUploadBytes: number): void {
  // The client may hang up on the rest: that is no error of the server's.
  request.raw.on('error', () => {});
  const declared = Number(request.headers['content-length']);
  if (declared > Math.max(4 * maxUploadBytes, DRAIN_LIMIT_BYTES)) reply.header('connection', 'close');
  else request.raw.resume();
}

/** `/healthz` (no token: 200 while Redis answers, else 503) and `/metrics` (the workers' and this process's). */
function registerHealthAndMetrics(app: FastifyInstance, deps: ApiServerDeps): void {
  app.get('/healthz', async (_request, reply) => {
    const redisUp = await redisAnswers(deps.redis);
    return reply
      .code(redisUp ? 200 : 503)
      .send({ status: redisUp ? 'ok' : 'unavailable', redis: redisUp ? 'ok' : 'not answering' });
  });

  app.get('/metrics', async (_request, reply) => {
    const now = (deps.clock ?? Date.now)();
    const snapshot = await readMetricsSnapshot(deps.redis, deps.prefix, deps.queues, now, deps.quota);
    const { contentType, body } = await renderMetrics(snapshot, deps.localMetrics);
    return reply.type(contentType).header('cache-control', 'no-store').send(body);
  });
}

/** Whether Redis answers a PING in time (a hung connection must not hang the health check with it). */
function redisAnswers(redis: RedisClient): Promise<boolean> {
  return Promise.race([
    redis.ping().then(
      (pong) => pong === 'PONG',
      () => false,
    ),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), REDIS_PING_TIMEOUT_MS).unref()),
  ]);
}
