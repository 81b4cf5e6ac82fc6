import { maskPhone } from '../../core/e164.js';
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

const CREDENTIAL = /\b(Bearer|Basic)\s+[^\s"',;)]+/gi;
const JWT = /eyJ[\w-]+\.[\w-]+\.[\w-]*/g;

/**
 * Text from a carrier's error body, fit for failure details (logs, messages): a carrier may echo what it was
 * sent, so the number asked about is masked and anything shaped like a credential is cut out.
 */
export function scrubUpstreamText(text: string, phoneNumber: string): string {
  const digits = phoneNumber.replace(/^\+/, '');
  const scrubbed = text.replace(CREDENTIAL, '$1 [redacted]').replace(JWT, '[redacted]');
  // No number to hide (a process-wide token request): only credentials are cut out.
  if (digits.replace(/\D/g, '') === '') return scrubbed;
  return scrubbed
    .split(phoneNumber)
    .join(maskPhone(phoneNumber))
    .replace(new RegExp(`(?<!\\d)${digits.replace(/\D/g, '')}(?!\\d)`, 'g'), maskPhone(digits));
}
