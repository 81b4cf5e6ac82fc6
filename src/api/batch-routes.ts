import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import fastifyMultipart from '@fastify/multipart';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { ScanSettings } from '../batch/prepare.js';
import type { ApiConfig } from '../config/api.js';
import type { BatchService, BatchView } from './batches.js';
import { assertBatchId, type DataDir } from './data-dir.js';
import { FILE_PARAMS, ID_PARAMS, LIST_QUERY } from './openapi.js';
import { parseBatchOptions, parseResumeBudget, type ServerSettings } from './options.js';
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
type FileParams = { Params: { id: string; name: string } };
type ListQuery = { Querystring: { limit: number; cursor?: string } };

/**
 * `/batches` and everything under it, as one encapsulated plugin: the batch routes take CSV bodies and
 * multipart uploads only (the dashboard keeps Fastify's JSON parser).
 */
export function batchRoutes(deps: BatchRouteDeps): FastifyPluginAsync {
  return async (api) => {
    await acceptCsvBodies(api, deps.config.maxUploadBytes);
    registerUpload(api, deps);
    registerList(api, deps.batches);
    registerProgress(api, deps.batches);
    registerFileDownloads(api, deps.batches);
    registerResumeAndRetry(api, deps.batches);
    registerDelete(api, deps.batches);
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
  const schema = {
    summary: 'Upload a CSV file as a batch (the body, or multipart/form-data with a field named "file")',
    description: 'Options in the query string or as multipart fields: see docs/http-api.md.',
  };
  api.post('/batches', { schema }, async (request, reply) => {
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

/** `GET /batches?limit=&cursor=`: the batches in the data folder, newest first, a page at a time. */
function registerList(api: FastifyInstance, batches: BatchService): void {
  const schema = { summary: 'The batches this deployment ran, newest first', querystring: LIST_QUERY };
  api.get<ListQuery>('/batches', { schema }, async (request) => {
    const { limit, cursor } = request.query;
    return batches.list(limit, cursor ?? null);
  });
}

/** `GET /batches/:id`: the batch's progress (see BatchView). */
function registerProgress(api: FastifyInstance, batches: BatchService): void {
  const schema = { summary: "A batch's state and progress", params: ID_PARAMS };
  api.get<IdParams>('/batches/:id', { schema }, async (request) => {
    assertBatchId(request.params.id);
    return batches.view(request.params.id);
  });
}

/**
 * `GET /batches/:id/files/:name` for every output, and the first four at their older URLs
 * (`/batches/:id/results.csv`…), which keep working.
 */
function registerFileDownloads(api: FastifyInstance, batches: BatchService): void {
  const schema = { summary: 'An output of a batch, named after the uploaded file', params: FILE_PARAMS };
  api.get<FileParams>('/batches/:id/files/:name', { schema }, async (request, reply) => {
    const { id, name } = request.params;
    return sendBatchFile(reply, batches, id, name, true);
  });
  for (const name of ['results.csv', 'report.json', 'report.html', 'rejects.csv'] as const) {
    const older = { summary: `${name} (also at /files/${name})`, params: ID_PARAMS };
    api.get<IdParams>(`/batches/:id/${name}`, { schema: older }, async (request, reply) => {
      return sendBatchFile(reply, batches, request.params.id, name, name.endsWith('.csv'));
    });
  }
}

async function sendBatchFile(
  reply: FastifyReply,
  batches: BatchService,
  id: string,
  name: string,
  attachment: boolean,
): Promise<FastifyReply> {
  assertBatchId(id);
  const answer = await batches.output(id, name);
  reply.header('cache-control', 'no-store');
  if (attachment) {
    const record = await batches.record(id);
    reply.header('content-disposition', contentDisposition(downloadName(record.displayName, name)));
  }
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
      SERVED_NAMES.includes(name)
        ? `batch ${id} is done but its ${name} is not in the data folder (do the workers share REACHSCAN_DATA_DIR?)`
        : `batch ${id} has no ${name}`,
    );
  }
  return reply.type(answer.type).send(handle.createReadStream());
}

const SERVED_NAMES = ['results.csv', 'report.json', 'report.html', 'rejects.csv'];

/** A download's name: the uploaded file's, without its extension, then the output's (`crm-export-results.csv`). */
export function downloadName(uploaded: string, output: string): string {
  const stem = uploaded
    .replace(/ \(retry\)$/, '')
    .replace(/\.(csv|txt|tsv|xlsx)$/i, '')
    // Nothing that could end the header's value or name a folder.
    .replace(/["\\/]/g, '_')
    .replace(/\p{Cc}/gu, '_')
    .trim();
  return stem === '' ? output : `${stem}-${output}`;
}

/** `attachment` with the name as ASCII for old clients and as UTF-8 (RFC 6266) for the rest. */
export function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
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
  const resume = { summary: "Lifts a batch's pause", params: ID_PARAMS };
  api.post<IdParams & { Querystring: { budget?: string } }>(
    '/batches/:id/resume',
    { schema: resume },
    async (request) => {
      assertBatchId(request.params.id);
      const { chunks, reason } = await batches.resume(
        request.params.id,
        parseResumeBudget(request.query.budget),
      );
      const view = await batches.view(request.params.id);
      return { id: request.params.id, state: view.state, resumed_chunks: chunks, was_paused_for: reason };
    },
  );

  const retry = { summary: 'Asks the rows in error of a finished batch again', params: ID_PARAMS };
  api.post<IdParams>('/batches/:id/retry', { schema: retry }, async (request, reply) => {
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

/** `DELETE /batches/:id`: a finished batch's folder, and its upload unless another batch reads it. */
function registerDelete(api: FastifyInstance, batches: BatchService): void {
  const schema = { summary: 'Deletes a finished batch and its files (409 while it runs)', params: ID_PARAMS };
  api.delete<IdParams>('/batches/:id', { schema }, async (request, reply) => {
    assertBatchId(request.params.id);
    await batches.remove(request.params.id);
    return reply.code(204).send();
  });
}
