/**
 * Per-insight status codes of Identity Insights. The list is extensible upstream: an unknown code is "not OK",
 * final, and kept verbatim.
 */
export const INSIGHT_STATUS = {
  OK: 'OK',
  PARTIAL_SUCCESS: 'PARTIAL_SUCCESS',
  INVALID_NUMBER_FORMAT: 'INVALID_NUMBER_FORMAT',
  UNSUPPORTED_NETWORK_TYPE: 'UNSUPPORTED_NETWORK_TYPE',
  NO_COVERAGE: 'NO_COVERAGE',
  NOT_FOUND: 'NOT_FOUND',
  UNAUTHORIZED: 'UNAUTHORIZED',
  INVALID_PURPOSE: 'INVALID_PURPOSE',
  SUPPLIER_ERROR: 'SUPPLIER_ERROR',
  INTERNAL_ERROR: 'INTERNAL_ERROR',
} as const;
export type KnownInsightStatus = (typeof INSIGHT_STATUS)[keyof typeof INSIGHT_STATUS];

const TRANSIENT: ReadonlySet<string> = new Set([
  INSIGHT_STATUS.SUPPLIER_ERROR,
  INSIGHT_STATUS.INTERNAL_ERROR,
]);

/** True for the per-insight codes worth a retry; every other code (known or not) is a final answer. */
export function isTransientInsightStatus(code: string): boolean {
  return TRANSIENT.has(code);
}

/** True when the insight carries data (`OK`, or `PARTIAL_SUCCESS` with some fields omitted). */
export function insightHasData(code: string): boolean {
  return code === INSIGHT_STATUS.OK || code === INSIGHT_STATUS.PARTIAL_SUCCESS;
}
