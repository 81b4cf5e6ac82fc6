import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import fastifyMultipart from '@fastify/multipart';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { ScanSettings } from '../batch/prepare.js';
import type { ApiConfig } from '../config/api.js';
import type { BatchService, BatchView } from './batches.js';
import { assertBatchId, type DataDir, type ServedFile } from './data-dir.js';
import { parseBatchOptions, type ServerSettings } from './options.js';
import { isPartAFile, MULTIPART_LIMITS, receiveMultipart } from './multipart.js';
import { HttpProblem, sendProblem } from './problem.js';
import { saveUpload, tooLarge, type SavedUpload } from './upload.js';

/** Content types a CSV may come as in the body; anything else but multipart/form-data is a 415. */
export const CSV_TYPES = ['text/csv', 'application/csv', 'text/plain'] as const;
/** An Excel workbook sent as the body: read as an .xlsx input. */
export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
/** Room for multipart's boundaries and option fields on top of the file itself. */
const MULTIPART_OVERHEAD_BYTES = 64 * 1024;
/** Responses carrying the header say results.csv holds only the rows answered so far. */
export const PARTIAL_HEADER = 'x-reachscan-partial';

/** What the batch routes need of the server's dependencies. */
export interface BatchRouteDeps {
  readonly config: ApiConfig;
  readonly dataDir: DataDir;
  readonly batches: BatchService;
  readonly server: ServerSettings;
}

type IdParams = { Params: { id: string } };

/**
 * `/batches` and everything under it, as one encapsulated plugin: the batch routes take CSV bodies and
 * multipart uploads only (the dashboard keeps Fastify's JSON parser).
 */
export function batchRoutes(deps: BatchRouteDeps): FastifyPluginAsync {
  return async (api) => {
    await acceptCsvBodies(api, deps.config.maxUploadBytes);
    registerUpload(api, deps);
    registerProgress(api, deps.batches);
    registerFileDownloads(api, deps.batches);
    registerResumeAndRetry(api, deps.batches);
  };
}

/** A CSV as the body (handed on as a stream, never buffered), or a multipart upload with options as fields. */
async function acceptCsvBodies(api: FastifyInstance, maxUploadBytes: number): Promise<void> {
  api.removeAllContentTypeParsers();
  api.addContentTypeParser([...CSV_TYPES, XLSX_TYPE], (_request, payload, done) => {
    // A client that hangs up mid-upload must not take the server down with an unheard 'error'.
    payload.on('error', () => {});
    done(null, payload);
  });
  await api.register(fastifyMultipart, {
    // The part named `file` is the upload, whatever its own content type; a part with a file name is one too
    // (refused unless named `file`); every other part is an option.
    isPartAFile,
    throwFileSizeLimit: true,
    limits: { fileSize: maxUploadBytes, ...MULTIPART_LIMITS },
  });
}

/** `POST /batches`: an upload becomes a batch (202 with its status URL). */
function registerUpload(api: FastifyInstance, deps: BatchRouteDeps): void {
  api.post('/batches', async (request, reply) => {
    const { upload, displayName, settings } = await receiveUpload(request, deps);
    const { record, notes } = await deps.batches.submit(upload, displayName, settings);
    const view = await deps.batches.view(record.id);
    return reply
      .code(202)
      .header('location', view.links.self)
      .send({ id: record.id, status_url: view.links.self, state: view.state, notes });
  });
}

/** The upload saved to disk, its name for reports, and the batch settings its options ask for. */
async function receiveUpload(
  request: FastifyRequest,
  deps: BatchRouteDeps,
): Promise<{ upload: SavedUpload; displayName: string; settings: ScanSettings }> {
  const { maxUploadBytes } = deps.config;
  const multipart = request.isMultipart();
  const declared = Number(request.headers['content-length']);
  if (declared > maxUploadBytes + (multipart ? MULTIPART_OVERHEAD_BYTES : 0)) throw tooLarge(maxUploadBytes);
  const query = request.query as Record<string, string | string[]>;
  if (multipart) {
    const received = await receiveMultipart(request, deps.dataDir, maxUploadBytes);
    const settings = parseBatchOptions({ ...query, ...received.fields }, deps.server);
    return { upload: received.upload, displayName: received.displayName, settings };
  }
  if (request.body === undefined || request.body === null)
    throw new HttpProblem(415, unsupportedType(request));
  // Options first: a mistake there is found before the file is read.
  const settings = parseBatchOptions(query, deps.server);
  const upload = await saveUpload(request.body as Readable, deps.dataDir, maxUploadBytes);
  const workbook = request.headers['content-type']?.split(';', 1)[0]?.trim().toLowerCase() === XLSX_TYPE;
  return { upload, displayName: workbook ? 'upload.xlsx' : 'upload.csv', settings };
}

/** The 415's detail: what came, and the two ways a CSV is accepted. */
export function unsupportedType(request: FastifyRequest): string {
  const given = request.headers['content-type'];
  return `${given === undefined ? 'no content type' : `content type "${given.split(';', 1)[0]}"`} is not accepted: send the CSV as the body with Content-Type text/csv (an .xlsx with ${XLSX_TYPE}), or as multipart/form-data with a field named "file"`;
}

/** `GET /batches/:id`: the batch's progress (see BatchView). */
function registerProgress(api: FastifyInstance, batches: BatchService): void {
  api.get<IdParams>('/batches/:id', async (request) => {
    assertBatchId(request.params.id);
    return batches.view(request.params.id);
  });
}

/** `GET /batches/:id/<file>` for each file the API serves. */
function registerFileDownloads(api: FastifyInstance, batches: BatchService): void {
  for (const name of ['results.csv', 'report.json', 'report.html', 'rejects.csv'] as const) {
    api.get<IdParams>(`/batches/:id/${name}`, async (request, reply) => {
      assertBatchId(request.params.id);
      return sendBatchFile(reply, batches, request.params.id, name);
    });
  }
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

/** `POST /batches/:id/resume` (lifts the error-ratio breaker's pause) and `POST /batches/:id/retry`. */
function registerResumeAndRetry(api: FastifyInstance, batches: BatchService): void {
  api.post<IdParams>('/batches/:id/resume', async (request) => {
    assertBatchId(request.params.id);
    const { chunks, reason } = await batches.resume(request.params.id);
    const view = await batches.view(request.params.id);
    return { id: request.params.id, state: view.state, resumed_chunks: chunks, was_paused_for: reason };
  });

  api.post<IdParams>('/batches/:id/retry', async (request, reply) => {
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
}
