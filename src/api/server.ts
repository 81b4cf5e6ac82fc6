import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import fastifyMultipart from '@fastify/multipart';
import type { Queue } from 'bullmq';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { Registry } from 'prom-client';
import { InputError } from '../input/errors.js';
import type { Logger } from '../logging/logger.js';
import { readMetricsSnapshot, renderMetrics } from '../metrics/exporter.js';
import type { RedisClient } from '../queue/connection.js';
import { createTokenCheck, presentedToken } from './auth.js';
import type { BatchService, BatchView } from './batches.js';
import type { ApiConfig } from '../config/api.js';
import { DASHBOARD_PATH, registerDashboard } from './dashboard.js';
import { assertBatchId, type DataDir, type ServedFile } from './data-dir.js';
import { parseBatchOptions, type ServerSettings } from './options.js';
import { HttpProblem, sendProblem } from './problem.js';
import { saveUpload, tooLarge, type SavedUpload } from './upload.js';

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
}

/** Content types a CSV may come as in the body; anything else but multipart/form-data is a 415. */
export const CSV_TYPES = ['text/csv', 'application/csv', 'text/plain'] as const;
/** Room for multipart's boundaries and option fields on top of the file itself. */
const MULTIPART_OVERHEAD_BYTES = 64 * 1024;
/** Responses carrying the header say results.csv holds only the rows answered so far. */
export const PARTIAL_HEADER = 'x-reachscan-partial';

/**
 * The HTTP API: batches (upload, progress, files, retry), `/healthz`, `/metrics` and the bull-board dashboard.
 * Every route but `/healthz` needs the token.
 */
export async function buildApiServer(deps: ApiServerDeps): Promise<FastifyInstance> {
  const { config, batches } = deps;
  // Widened to Fastify's logger type, so the app is a plain FastifyInstance.
  const loggerInstance: FastifyBaseLogger = deps.logger;
  const app = Fastify({ loggerInstance, trustProxy: false });
  const authorized = createTokenCheck(config.token);

  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?', 1)[0] ?? '';
    if (path === '/healthz' || authorized(presentedToken(request.headers))) return;
    // A browser opening the dashboard gets a login prompt: the user name is ignored, the token is the password.
    const dashboard = path === DASHBOARD_PATH || path.startsWith(`${DASHBOARD_PATH}/`);
    reply.header(
      'www-authenticate',
      dashboard ? 'Basic realm="reachscan", charset="UTF-8"' : 'Bearer realm="reachscan"',
    );
    return sendProblem(reply, 401, 'a valid token is required: Authorization: Bearer <REACHSCAN_API_TOKEN>');
  });

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    if (!request.raw.complete) refuseRestOfBody(request, reply, config.maxUploadBytes);
    if (error instanceof HttpProblem) return sendProblem(reply, error.status, error.detail, error.extra);
    if (error instanceof InputError) return sendProblem(reply, 422, error.message);
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || error.statusCode === 415) {
      return sendProblem(reply, 415, unsupportedType(request));
    }
    if (error.code === 'FST_REQ_FILE_TOO_LARGE' || error.statusCode === 413)
      return sendProblem(reply, 413, tooLarge(config.maxUploadBytes).detail);
    if (request.raw.destroyed) {
      // The client hung up (mid-upload, say): nobody is left to answer.
      request.log.info({ err: error.message }, 'client went away');
      return reply.send();
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) return sendProblem(reply, status, error.message);
    request.log.error({ err: error.message, stack: error.stack }, 'request failed');
    return sendProblem(reply, 500, 'the server could not answer this request; see its log');
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, 404, `no such endpoint: ${request.method} ${request.url.split('?', 1)[0] ?? ''}`),
  );

  app.get('/healthz', async (_request, reply) => {
    const redisUp = await Promise.race([
      deps.redis.ping().then(
        (pong) => pong === 'PONG',
        () => false,
      ),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2_000).unref()),
    ]);
    return reply
      .code(redisUp ? 200 : 503)
      .send({ status: redisUp ? 'ok' : 'unavailable', redis: redisUp ? 'ok' : 'not answering' });
  });

  app.get('/metrics', async (_request, reply) => {
    const snapshot = await readMetricsSnapshot(deps.redis, deps.prefix, deps.queues);
    const { contentType, body } = await renderMetrics(snapshot, deps.localMetrics);
    return reply.type(contentType).header('cache-control', 'no-store').send(body);
  });

  // The batch routes take CSV bodies and multipart uploads only (the dashboard keeps Fastify's JSON parser).
  await app.register(async (api) => {
    api.removeAllContentTypeParsers();
    api.addContentTypeParser([...CSV_TYPES], (_request, payload, done) => {
      // A client that hangs up mid-upload must not take the server down with an unheard 'error'.
      payload.on('error', () => {});
      done(null, payload);
    });
    await api.register(fastifyMultipart, {
      // The part named `file` is the upload, whatever its own content type; every other part is an option.
      isPartAFile: (fieldName) => fieldName === 'file',
      throwFileSizeLimit: true,
      limits: { fileSize: config.maxUploadBytes, files: 1, fields: 20, fieldSize: 1_024, parts: 24 },
    });

    api.post('/batches', async (request, reply) => {
      const multipart = request.isMultipart();
      const declared = Number(request.headers['content-length']);
      if (declared > config.maxUploadBytes + (multipart ? MULTIPART_OVERHEAD_BYTES : 0))
        throw tooLarge(config.maxUploadBytes);
      const query = request.query as Record<string, string | string[]>;
      let upload: SavedUpload;
      let displayName = 'upload.csv';
      let settings;
      if (multipart) {
        const received = await receiveMultipart(request, deps);
        upload = received.upload;
        displayName = received.displayName;
        settings = parseBatchOptions({ ...query, ...received.fields }, deps.server);
      } else {
        if (request.body === undefined || request.body === null)
          throw new HttpProblem(415, unsupportedType(request));
        // Options first: a mistake there is found before the file is read.
        settings = parseBatchOptions(query, deps.server);
        upload = await saveUpload(request.body as Readable, deps.dataDir, config.maxUploadBytes);
      }
      const { record, notes } = await batches.submit(upload, displayName, settings);
      const view = await batches.view(record.id);
      return reply
        .code(202)
        .header('location', view.links.self)
        .send({ id: record.id, status_url: view.links.self, state: view.state, notes });
    });

    api.get<{ Params: { id: string } }>('/batches/:id', async (request) => {
      assertBatchId(request.params.id);
      return batches.view(request.params.id);
    });

    for (const name of ['results.csv', 'report.json', 'report.html', 'rejects.csv'] as const) {
      api.get<{ Params: { id: string } }>(`/batches/:id/${name}`, async (request, reply) => {
        assertBatchId(request.params.id);
        return sendBatchFile(reply, batches, request.params.id, name);
      });
    }

    api.post<{ Params: { id: string } }>('/batches/:id/resume', async (request) => {
      assertBatchId(request.params.id);
      const { chunks, reason } = await batches.resume(request.params.id);
      const view = await batches.view(request.params.id);
      return { id: request.params.id, state: view.state, resumed_chunks: chunks, was_paused_for: reason };
    });

    api.post<{ Params: { id: string } }>('/batches/:id/retry', async (request, reply) => {
      assertBatchId(request.params.id);
      const { record, retry, rows } = await batches.retry(request.params.id);
      const view = await batches.view(record.id);
      return reply
        .code(202)
        .header('location', view.links.self)
        .send({
          id: record.id,
          retry_id: retry.id,
          rows,
          state: view.state,
          status_url: view.links.self,
          retry_status_url: `/batches/${retry.id}`,
        });
    });
  });

  await registerDashboard(app, deps.queues);
  return app;
}

async function receiveMultipart(
  request: FastifyRequest,
  deps: ApiServerDeps,
): Promise<{ upload: SavedUpload; displayName: string; fields: Record<string, string | string[]> }> {
  let upload: SavedUpload | null = null;
  let displayName = 'upload.csv';
  const fields: Record<string, string | string[]> = {};
  for await (const part of request.parts()) {
    if (part.type === 'file') {
      if (upload !== null)
        throw new HttpProblem(400, 'one file per upload, in the field named "file"', { option: 'file' });
      upload = await saveUpload(part.file, deps.dataDir, deps.config.maxUploadBytes);
      if (part.file.truncated) throw tooLarge(deps.config.maxUploadBytes);
      displayName = cleanFileName(part.filename) ?? displayName;
      continue;
    }
    if (part.valueTruncated)
      throw new HttpProblem(400, `option "${part.fieldname}" is too long`, { option: part.fieldname });
    const value = String(part.value);
    const before = fields[part.fieldname];
    fields[part.fieldname] = before === undefined ? value : [...[before].flat(), value];
  }
  if (upload === null)
    throw new HttpProblem(400, 'a multipart upload needs the CSV file in a field named "file"', {
      option: 'file',
    });
  return { upload, displayName, fields };
}

/** An uploaded file's name, for reports and messages only (never a path): no folders, no control characters. */
function cleanFileName(name: string | undefined): string | null {
  if (name === undefined) return null;
  const clean = basename(name.replace(/\\/g, '/'))
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .trim()
    .slice(0, 200);
  return clean === '' || clean === '.' || clean === '..' ? null : clean;
}

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

function unsupportedType(request: FastifyRequest): string {
  const given = request.headers['content-type'];
  return `${given === undefined ? 'no content type' : `content type "${given.split(';', 1)[0]}"`} is not accepted: send the CSV as the body with Content-Type text/csv, or as multipart/form-data with a field named "file"`;
}

async function sendBatchFile(
  reply: FastifyReply,
  batches: BatchService,
  id: string,
  name: ServedFile,
): Promise<FastifyReply> {
  const answer = await batches.file(id, name);
  reply.header('cache-control', 'no-store');
  if (name.endsWith('.csv')) reply.header('content-disposition', `attachment; filename="${id}-${name}"`);
  if (answer.kind === 'partial')
    return reply.type(answer.type).header(PARTIAL_HEADER, 'true').send(answer.stream);
  if (answer.kind === 'not-ready') return notReady(reply, answer.view, name);
  let handle;
  try {
    handle = await open(answer.path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    throw new HttpProblem(
      404,
      `batch ${id} is done but its ${name} is not in the data folder (do the workers share REACHSCAN_DATA_DIR?)`,
    );
  }
  return reply.type(answer.type).send(handle.createReadStream());
}

function notReady(reply: FastifyReply, view: BatchView, name: string): FastifyReply {
  reply.removeHeader('content-disposition');
  return sendProblem(reply, 409, `${name} is not written yet: batch ${view.id} is ${view.state}`, {
    batch_state: view.state,
    batch: view,
  });
}
