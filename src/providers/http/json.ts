import { FAILURE_CODE, RETRY_CLASS, type LookupFailure } from '../../core/errors.js';

/** A JSON object body, or null for anything else (not JSON, an array, a scalar). */
export function parseJsonObject(text: string): Record<string, unknown> | null {
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/** A success status whose body is not what the API promises: worth a retry. */
export function unexpectedBody(status: number): LookupFailure {
  return {
    code: FAILURE_CODE.badResponse,
    retry: RETRY_CLASS.retryable,
    detail: `HTTP ${status} with an unexpected body`,
    httpStatus: status,
  };
}
