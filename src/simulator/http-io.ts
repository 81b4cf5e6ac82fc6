import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Largest request body read, API and `/_sim` alike. */
export const BODY_LIMIT_BYTES = 64 * 1024;

/** Reads a request body up to `limitBytes`; null when it is larger (the caller answers 413). */
export async function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The body parsed as JSON, or undefined when it is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
  contentType = 'application/json',
): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Vonage's problem+json error shape. */
export function sendProblem(
  res: ServerResponse,
  status: number,
  problem: { type: string; title: string; detail: string; [extra: string]: unknown },
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, { ...problem, instance: randomUUID() }, headers, 'application/problem+json');
}

const API_ERRORS = 'https://developer.vonage.com/api-errors';

export const PROBLEMS = {
  unauthorized: (detail: string) => ({ type: `${API_ERRORS}#unauthorized`, title: 'Unauthorized', detail }),
  rateLimited: () => ({
    type: `${API_ERRORS}#rate-limit`,
    title: 'Rate Limited',
    detail: 'You have exceeded your rate limit.',
  }),
  invalidJson: () => ({
    type: `${API_ERRORS}#invalid-json`,
    title: 'Invalid JSON',
    detail: 'The body is not valid JSON.',
  }),
  unsupportedMediaType: () => ({
    type: `${API_ERRORS}#unsupported-media-type`,
    title: 'Unsupported Media Type',
    detail: 'Content-Type must be application/json.',
  }),
  validation: (invalid_parameters: readonly { name: string; reason: string }[]) => ({
    type: `${API_ERRORS}#validation`,
    title: 'Bad Request',
    detail: 'The request failed due to validation errors.',
    invalid_parameters,
  }),
  notFound: () => ({ type: `${API_ERRORS}#not-found`, title: 'Not Found', detail: 'No such endpoint.' }),
  methodNotAllowed: () => ({
    type: `${API_ERRORS}#method-not-allowed`,
    title: 'Method Not Allowed',
    detail: 'Use POST.',
  }),
  tooLarge: () => ({
    type: `${API_ERRORS}#payload-too-large`,
    title: 'Payload Too Large',
    detail: 'Body over 64 KiB.',
  }),
  internal: () => ({
    type: `${API_ERRORS}#internal-error`,
    title: 'Internal Server Error',
    detail: 'Something failed.',
  }),
  unavailable: () => ({
    type: `${API_ERRORS}#service-unavailable`,
    title: 'Service Unavailable',
    detail: 'Try again later.',
  }),
};
