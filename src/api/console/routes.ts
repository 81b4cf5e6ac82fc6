import { readFile, stat } from 'node:fs/promises';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFormbody from '@fastify/formbody';
import fastifyMultipart from '@fastify/multipart';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { buildPlan, type Plan } from '../../batch/plan.js';
import { StateStore } from '../../history/state-store.js';
import { choosePhoneColumn } from '../../input/phone-column.js';
import { sniffInput } from '../../input/sniff.js';
import type { RedisClient } from '../../queue/connection.js';
import type { ApiConfig } from '../../config/api.js';
import { cookieValue, createTokenCheck } from '../auth.js';
import type { BatchService } from '../batches.js';
import type { DataDir } from '../data-dir.js';
import { isPartAFile, MULTIPART_LIMITS, receiveMultipart } from '../multipart.js';
import { parseBatchOptions, parseResumeBudget, type ServerSettings } from '../options.js';
import { HttpProblem } from '../problem.js';
import type { SavedUpload } from '../upload.js';
import { CONSOLE_CSS, CONSOLE_JS } from './assets.js';
import { registerNumber } from './number-routes.js';
import {
  batchesPage,
  batchPage,
  newScanPage,
  NO_CHOICES,
  planPage,
  SCAN_FIELDS,
  signInPage,
  type ScanChoices,
} from './pages.js';
import { csrfChecked, html, seeOther } from './reply.js';
import { endedSessionCookie, type ConsoleSessions, SESSION_COOKIE, sessionCookie } from './session.js';

/** Files with more rows than this show their plan first, for the user to confirm. */
export const PLAN_CONFIRM_ROWS = 10_000;

/**
 * The console's CSP: everything from this server only, no inline script or style, no framing of the console;
 * the report frame is this server's too.
 */
export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
/** report.html inside the batch page: its own inline styles, nothing else, no script at all. */
const REPORT_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox";

/** Paths anyone may open: the sign-in page and the console's own stylesheet and script. */
export function isPublicConsolePath(path: string): boolean {
  return path === '/sign-in' || path.startsWith('/assets/');
}

/** Pages a browser opens: without a session they lead to the sign-in page instead of a 401. */
export function isConsolePage(path: string): boolean {
  return (
    path === '/' ||
    path === '/scan' ||
    path === '/number' ||
    path === '/number/forget' ||
    path.startsWith('/batch/')
  );
}

export interface ConsoleDeps {
  readonly config: ApiConfig;
  readonly redis: RedisClient;
  readonly dataDir: DataDir;
  readonly batches: BatchService;
  readonly server: ServerSettings;
  readonly sessions: ConsoleSessions;
}

type Id = { Params: { id: string } };

/** The pages at `/`: sign-in, batches, new scan, a batch, a number. Server-rendered; no build step. */
export function consoleRoutes(deps: ConsoleDeps): FastifyPluginAsync {
  return async (app) => {
    await app.register(fastifyCookie);
    await app.register(fastifyCsrf, {
      cookieOpts: { path: '/', sameSite: 'strict', httpOnly: true, signed: false },
      getToken: (request) => csrfTokenOf(request),
    });
    await app.register(fastifyFormbody);
    await app.register(fastifyMultipart, {
      isPartAFile,
      throwFileSizeLimit: true,
      limits: { fileSize: deps.config.maxUploadBytes, ...MULTIPART_LIMITS },
    });
    app.addHook('onSend', async (request, reply, payload) => {
      if (
        String(reply.getHeader('content-type') ?? '').startsWith('text/html') &&
        !request.url.endsWith('/report')
      )
        reply.header('content-security-policy', CONSOLE_CSP);
      reply.header('x-content-type-options', 'nosniff').header('referrer-policy', 'same-origin');
      return payload;
    });
    registerAssets(app);
    registerSignIn(app, deps);
    registerBatchPages(app, deps);
    registerScan(app, deps);
    registerNumber(app, deps);
  };
}

function csrfTokenOf(request: FastifyRequest): string | void {
  const body = request.body as Record<string, unknown> | undefined;
  const query = request.query as Record<string, unknown>;
  const token = (typeof body === 'object' && body !== null ? body._csrf : undefined) ?? query._csrf;
  return typeof token === 'string' ? token : undefined;
}

function registerAssets(app: FastifyInstance): void {
  app.get('/assets/console.css', async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'no-cache').send(CONSOLE_CSS),
  );
  app.get('/assets/console.js', async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(CONSOLE_JS),
  );
}

function registerSignIn(app: FastifyInstance, deps: ConsoleDeps): void {
  const csrf = csrfChecked(app);
  const tokenMatches = createTokenCheck(deps.config.token);
  app.get('/sign-in', async (_request, reply) => html(reply, signInPage(reply.generateCsrf(), null)));
  app.post<{ Body: { token?: string } }>('/sign-in', csrf, async (request, reply) => {
    const token = typeof request.body?.token === 'string' ? request.body.token : null;
    if (!tokenMatches(token)) {
      request.log.info('console sign-in refused: wrong token');
      return html(
        reply,
        signInPage(reply.generateCsrf(), 'That API token is not the one this server runs with.'),
        401,
      );
    }
    const id = await deps.sessions.create();
    reply.header('set-cookie', sessionCookie(id, request.protocol === 'https'));
    return seeOther(reply, '/');
  });
  app.post('/sign-out', csrf, async (request, reply) => {
    await deps.sessions.end(cookieValue(request.headers.cookie, SESSION_COOKIE));
    reply.header('set-cookie', endedSessionCookie());
    return seeOther(reply, '/sign-in');
  });
}

function registerBatchPages(app: FastifyInstance, deps: ConsoleDeps): void {
  const csrf = csrfChecked(app);
  app.get<{ Querystring: { cursor?: string } }>('/', async (request, reply) => {
    const cursor = typeof request.query.cursor === 'string' ? request.query.cursor : null;
    const { batches, next } = await deps.batches.list(20, cursor);
    return html(reply, batchesPage(reply.generateCsrf(), batches, next, cursor === null));
  });
  app.get<Id & { Querystring: { note?: string } }>('/batch/:id', async (request, reply) => {
    const view = await deps.batches.view(batchId(request.params.id));
    const note =
      request.query.note === 'retry'
        ? 'The rows in error are being asked again.'
        : request.query.note === 'resumed'
          ? 'Resumed.'
          : null;
    return html(reply, batchPage(reply.generateCsrf(), view, note));
  });
  app.get<Id>('/batch/:id/report', async (request, reply) => {
    const id = batchId(request.params.id);
    const answer = await deps.batches.output(id, 'report.html');
    if (answer.kind !== 'file') throw new HttpProblem(409, `batch ${id} has no report yet`);
    reply.header('content-security-policy', REPORT_CSP);
    return html(reply, await readFile(answer.path, 'utf8'));
  });
  app.post<Id>('/batch/:id/retry', csrf, async (request, reply) => {
    const id = batchId(request.params.id);
    await deps.batches.retry(id);
    return seeOther(reply, `/batch/${id}?note=retry`);
  });
  app.post<Id & { Body: Record<string, unknown> }>('/batch/:id/resume', csrf, async (request, reply) => {
    const id = batchId(request.params.id);
    const given = request.body?.budget;
    try {
      // "New budget", as `resume --budget`: checked by the API's own rules, raised before the pause is lifted.
      await deps.batches.resume(id, parseResumeBudget(typeof given === 'string' ? given : undefined));
    } catch (error) {
      if (!(error instanceof HttpProblem) || error.status >= 500) throw error;
      const view = await deps.batches.view(id);
      return html(reply, batchPage(reply.generateCsrf(), view, null, error.detail), error.status);
    }
    return seeOther(reply, `/batch/${id}?note=resumed`);
  });
}

function batchId(id: string): string {
  if (!/^[0-9a-f]{24}$/.test(id)) throw new HttpProblem(404, 'no such batch');
  return id;
}

function registerScan(app: FastifyInstance, deps: ConsoleDeps): void {
  const csrf = csrfChecked(app);
  app.get('/scan', async (_request, reply) =>
    html(reply, newScanPage(reply.generateCsrf(), NO_CHOICES, null)),
  );
  app.post('/scan', csrf, async (request, reply) => {
    const received = await receiveMultipart(request, deps.dataDir, deps.config.maxUploadBytes);
    const choices = choicesOf(received.fields);
    return startScan(request, reply, deps, received.upload, received.displayName, choices, false);
  });
  app.post<{ Body: Record<string, string> }>('/scan/confirm', csrf, async (request, reply) => {
    const sha256 = String(request.body.upload ?? '');
    const path = deps.dataDir.uploadPath(/^[0-9a-f]{64}$/.test(sha256) ? sha256 : '0'.repeat(64));
    const info = await stat(path).catch(() => null);
    if (info === null)
      return html(
        reply,
        newScanPage(reply.generateCsrf(), NO_CHOICES, {
          text: 'That upload is gone: choose the file again.',
          field: null,
        }),
        400,
      );
    const upload = { path, sha256, bytes: info.size };
    return startScan(
      request,
      reply,
      deps,
      upload,
      String(request.body.name ?? 'upload.csv'),
      choicesOf(request.body),
      true,
    );
  });
}

function choicesOf(fields: Readonly<Record<string, unknown>>): ScanChoices {
  const text = (name: string) => (typeof fields[name] === 'string' ? fields[name].trim() : '');
  const choices = Object.fromEntries(
    Object.entries(SCAN_FIELDS).map(([name, choice]) => [choice, text(name)]),
  ) as Record<keyof ScanChoices, string>;
  return {
    ...choices,
    provider: choices.provider || NO_CHOICES.provider,
    defaultCountry: choices.defaultCountry.toUpperCase(),
  };
}

/** The options the API takes, from the form's choices (empty ones left out: the defaults apply). */
function optionsOf(choices: ScanChoices): Record<string, string> {
  const options: Record<string, string> = {};
  for (const [name, choice] of Object.entries(SCAN_FIELDS))
    if (choices[choice] !== '') options[name] = choices[choice];
  // Always results.xlsx too: the people using the console live in Excel.
  options.xlsx = 'true';
  return options;
}

/** Checks the options, shows a large file's plan first, else queues the batch and opens its page. */
async function startScan(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: ConsoleDeps,
  upload: SavedUpload,
  displayName: string,
  choices: ScanChoices,
  confirmed: boolean,
): Promise<FastifyReply> {
  const again = (text: string, field: unknown = null) =>
    html(
      reply,
      newScanPage(reply.generateCsrf(), choices, { text, field: typeof field === 'string' ? field : null }),
      400,
    );
  try {
    const settings = parseBatchOptions(optionsOf(choices), deps.server);
    if (!confirmed) {
      const plan = await planOf(deps, upload, displayName, choices, settings.maxAgeMs, settings.rate);
      if (plan !== null && plan.rows > PLAN_CONFIRM_ROWS)
        return html(reply, planPage(reply.generateCsrf(), plan, upload.sha256, choices));
    }
    const { record } = await deps.batches.submit(upload, displayName, settings);
    return seeOther(reply, `/batch/${record.id}`);
  } catch (error) {
    if (error instanceof HttpProblem && error.status < 500) return again(error.detail, error.extra?.option);
    if (error instanceof Error && error.name === 'InputError') return again(error.message);
    request.log.error({ err: (error as Error).message }, 'console scan failed');
    throw error;
  }
}

/** The plan of an upload; null when it cannot be made here (the scan then says what is wrong). */
async function planOf(
  deps: ConsoleDeps,
  upload: SavedUpload,
  displayName: string,
  choices: ScanChoices,
  maxAgeMs: number,
  rate: number,
): Promise<Plan | null> {
  try {
    const shape = await sniffInput(upload.path, displayName);
    const phoneColumn = choosePhoneColumn(displayName, shape.headers, choices.column || undefined);
    const country = choices.defaultCountry === '' ? {} : { defaultCountry: choices.defaultCountry as never };
    return await buildPlan({
      inputPath: upload.path,
      displayName,
      shape,
      phoneColumn,
      ...country,
      provider: choices.provider as Plan['provider'],
      maxAgeMs,
      ratePerSecond: rate,
      store: new StateStore(deps.redis, deps.server.history, deps.server.stateSecret),
      nowMs: Date.now(),
    });
  } catch {
    return null;
  }
}
