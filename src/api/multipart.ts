import { basename } from 'node:path';
import type { FastifyRequest } from 'fastify';
import type { DataDir } from './data-dir.js';
import { HttpProblem } from './problem.js';
import {
  dropUpload,
  keepUpload,
  stageUpload,
  tooLarge,
  type SavedUpload,
  type StagedUpload,
} from './upload.js';

/** What one multipart upload may hold: one file, a few short option fields. */
export const MULTIPART_LIMITS = { files: 1, fields: 20, fieldSize: 1_024, parts: 24 } as const;

/** The answer to a second file (in the field "file" or any other). */
export const ONE_FILE = 'one file per upload, in the field named "file"';

/** RFC 2046 §5.1.1: a boundary is 1 to 70 characters. */
const MAX_BOUNDARY_CHARS = 70;

const TRUNCATED =
  'the body ends before its closing boundary (--BOUNDARY--): it was cut short, or its Content-Length is wrong';

/** A 400 whose detail starts with "malformed multipart upload", then what is wrong. */
export function malformedMultipart(detail: string): HttpProblem {
  return new HttpProblem(400, `malformed multipart upload: ${detail}`);
}

/**
 * Why a multipart Content-Type cannot be read, or null. Checked before the body is: busboy throws on a missing
 * boundary (which reached the client as a 500) and takes an empty one as valid.
 */
export function boundaryProblem(contentType: string): string | null {
  const match = /;\s*boundary\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(contentType);
  if (match === null)
    return 'the Content-Type has no boundary (multipart/form-data; boundary=…); let the HTTP client write that header';
  const boundary = match[1] ?? match[2] ?? '';
  if (boundary === '') return 'the Content-Type has an empty boundary';
  if (boundary.length > MAX_BOUNDARY_CHARS)
    return `the boundary is ${boundary.length} characters long, over the ${MAX_BOUNDARY_CHARS} RFC 2046 allows`;
  return null;
}

/**
 * A multipart parser's error in the API's words: a body cut short or a missing boundary is a 400 saying so, a
 * second file a 400 (busboy's limit errors are 413s that would read as "too large"); others pass unchanged.
 */
export function multipartProblem(error: unknown): unknown {
  const { code, message } = error as { code?: unknown; message?: unknown };
  switch (code) {
    case 'FST_FILES_LIMIT':
      return new HttpProblem(400, ONE_FILE, { option: 'file' });
    case 'FST_FIELDS_LIMIT':
    case 'FST_PARTS_LIMIT':
      return new HttpProblem(
        400,
        `too many fields: one file and at most ${MULTIPART_LIMITS.fields} options per upload`,
      );
    case 'FST_MP_PREMATURE_CLOSE':
      return malformedMultipart(TRUNCATED);
  }
  if (typeof message !== 'string') return error;
  if (message === 'Unexpected end of multipart data' || message.includes('terminated early'))
    return malformedMultipart(TRUNCATED);
  if (message === 'Multipart: Boundary not found') return malformedMultipart('no boundary');
  return error;
}

/** What a multipart upload brought: the file (kept as an input), its name, and the option fields. */
export interface ReceivedMultipart {
  readonly upload: SavedUpload;
  readonly displayName: string;
  readonly fields: Record<string, string | string[]>;
}

/**
 * Reads a multipart upload to its end. The file is kept as an input only once the whole body proved
 * well-formed: every refusal (a second file, a body cut short, an option too long) leaves nothing behind.
 */
export async function receiveMultipart(
  request: FastifyRequest,
  dataDir: DataDir,
  maxUploadBytes: number,
): Promise<ReceivedMultipart> {
  const problem = boundaryProblem(request.headers['content-type'] ?? '');
  if (problem !== null) throw malformedMultipart(problem);
  const state: { staged: StagedUpload | null; displayName: string } = {
    staged: null,
    displayName: 'upload.csv',
  };
  try {
    const fields = await readParts(request, dataDir, maxUploadBytes, state);
    if (state.staged === null)
      throw new HttpProblem(400, 'a multipart upload needs the CSV file in a field named "file"', {
        option: 'file',
      });
    const upload = await keepUpload(state.staged, dataDir);
    state.staged = null;
    return { upload, displayName: state.displayName, fields };
  } catch (error) {
    throw multipartProblem(error);
  } finally {
    if (state.staged !== null) await dropUpload(state.staged);
  }
}

async function readParts(
  request: FastifyRequest,
  dataDir: DataDir,
  maxUploadBytes: number,
  state: { staged: StagedUpload | null; displayName: string },
): Promise<Record<string, string | string[]>> {
  const fields: Record<string, string | string[]> = {};
  for await (const part of request.parts()) {
    if (part.type === 'file') {
      if (state.staged !== null || part.fieldname !== 'file') {
        part.file.resume();
        throw new HttpProblem(400, state.staged !== null ? ONE_FILE : wrongField(part.fieldname), {
          option: 'file',
        });
      }
      state.staged = await stageUpload(part.file, dataDir, maxUploadBytes);
      if (part.file.truncated) throw tooLarge(maxUploadBytes);
      state.displayName = cleanFileName(part.filename) ?? state.displayName;
      continue;
    }
    if (part.valueTruncated)
      throw new HttpProblem(400, `option "${part.fieldname}" is too long`, { option: part.fieldname });
    const value = String(part.value);
    const before = fields[part.fieldname];
    fields[part.fieldname] = before === undefined ? value : [...[before].flat(), value];
  }
  return fields;
}

const wrongField = (name: string) => `a file came in the field ${JSON.stringify(name)}: ${ONE_FILE}`;

/** A part is the upload when it is named `file` or carries a file name (then it must be named `file`). */
export function isPartAFile(
  fieldName: string | undefined,
  _contentType: string | undefined,
  fileName: string | undefined,
): boolean {
  return fieldName === 'file' || fileName !== undefined;
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
