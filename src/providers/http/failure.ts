import { classifyHttpStatus, type LookupFailure } from '../../core/errors.js';
import { parseRetryAfterMs } from '../../core/retry-after.js';
import type { HttpResponse } from './transport.js';

/**
 * A failure for an unexpected HTTP status, classified by the one failure table, with the carrier's
 * `Retry-After` when it gave one. `text` is the carrier's own words, already scrubbed of the number.
 */
export function httpFailure(res: HttpResponse, nowMs: number, text: string): LookupFailure {
  const { code, retry } = classifyHttpStatus(res.status);
  const retryAfterMs = parseRetryAfterMs(res.headers['retry-after'], nowMs);
  return {
    code,
    retry,
    detail: `HTTP ${res.status}${text ? `: ${text}` : ''}`,
    httpStatus: res.status,
    ...(retryAfterMs !== null ? { retryAfterMs } : {}),
  };
}
