/**
 * One error vocabulary. Every failure is classified once, here, into what the queue should do with it:
 * - `fatal`: the whole batch cannot succeed (bad credentials); stop instead of failing every row.
 * - `permanent`: this row's request will never succeed; do not retry.
 * - `retryable`: transient; retry with exponential backoff and jitter.
 * - `rate-limited`: the carrier asked us to slow down; pause (for `retryAfterMs` when given), do not burn attempts.
 */
export const RETRY_CLASS = {
  fatal: 'fatal',
  permanent: 'permanent',
  retryable: 'retryable',
  rateLimited: 'rate-limited',
} as const;
export type RetryClass = (typeof RETRY_CLASS)[keyof typeof RETRY_CLASS];

/** Local status codes reachscan writes when a lookup did not produce an upstream answer. */
export const FAILURE_CODE = {
  auth: 'ERROR_AUTH',
  rejected: 'ERROR_REJECTED',
  rateLimited: 'ERROR_RATE_LIMITED',
  upstream: 'ERROR_UPSTREAM',
  badResponse: 'ERROR_BAD_RESPONSE',
  timeout: 'ERROR_TIMEOUT',
  network: 'ERROR_NETWORK',
} as const;
export type FailureCode = (typeof FAILURE_CODE)[keyof typeof FAILURE_CODE];

/** A classified failure of one upstream call. `detail` is safe to log and to write to output files. */
export interface LookupFailure {
  readonly code: FailureCode;
  readonly retry: RetryClass;
  readonly detail: string;
  /** HTTP status when the carrier answered at all. */
  readonly httpStatus?: number;
  /** How long the carrier asked us to wait (from `Retry-After`), when it said. */
  readonly retryAfterMs?: number;
  /** The API's own error code (CAMARA's `UNAVAILABLE`, …), written to the status columns instead of ours. */
  readonly upstreamCode?: string;
  /**
   * Set when the failure is not this number's but the whole batch's, and asking on would only spend the
   * quota: the batch pauses with `reason` until `reachscan resume`, and the number stays open (it is asked
   * again after the resume). `setup`: the operator refuses how we ask (a body that does not fit the token,
   * an identifier or a scope it does not accept); `quota`: the operator's business quota is used up. Such
   * failures are never retried in place.
   */
  readonly pause?: PauseRequest;
}

/** Why a failure pauses its batch: see {@link LookupFailure.pause}. */
export interface PauseRequest {
  readonly kind: 'setup' | 'quota';
  /** One line for people, safe to show (no number, no secret), without the batch's resume hint. */
  readonly reason: string;
}

/** The classification table for HTTP statuses of carrier APIs. */
export function classifyHttpStatus(status: number): { code: FailureCode; retry: RetryClass } {
  if (status === 401 || status === 403) return { code: FAILURE_CODE.auth, retry: RETRY_CLASS.fatal };
  if (status === 429) return { code: FAILURE_CODE.rateLimited, retry: RETRY_CLASS.rateLimited };
  if (status === 408) return { code: FAILURE_CODE.timeout, retry: RETRY_CLASS.retryable };
  // 409: another request for the same number is in progress (Device Status); it clears by itself.
  if (status === 409) return { code: FAILURE_CODE.upstream, retry: RETRY_CLASS.retryable };
  if (status >= 500) return { code: FAILURE_CODE.upstream, retry: RETRY_CLASS.retryable };
  return { code: FAILURE_CODE.rejected, retry: RETRY_CLASS.permanent };
}

/** Base class of reachscan's own errors: a stable `code` for programs, a one-line message for people. */
export class ReachscanError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Invalid or missing configuration. One instance lists every problem found, one line each. */
export class ConfigError extends ReachscanError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super('CONFIG_INVALID', problems.join('\n'));
    this.problems = problems;
  }
}

/** A command-line usage mistake (unknown flag, missing argument). */
export class UsageError extends ReachscanError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

/** The message of anything thrown, for logs and one-line errors. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** File-system failures that no retry of a read or a parse can fix: the disk itself refuses. */
export const DISK_FAILURES = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is used up',
  EROFS: 'the file system is read-only',
  EIO: 'input/output error (the disk failed)',
} as const;
export type DiskFailureCode = keyof typeof DISK_FAILURES;

/**
 * Writing a batch's files failed because of the disk (full, over quota, read-only, broken). One line naming the
 * folder and the reason; the batch fails with it (exit 3), no process dies of it.
 */
export class DiskError extends ReachscanError {
  readonly folder: string;
  readonly errno: DiskFailureCode;
  constructor(folder: string, errno: DiskFailureCode, options?: { cause?: unknown }) {
    super('DISK_FAILURE', `cannot write to ${folder}: ${DISK_FAILURES[errno]} (${errno})`, options);
    this.folder = folder;
    this.errno = errno;
  }
}

/** The disk failure behind `error` as a DiskError about `folder`, or null when it is something else. */
export function asDiskError(error: unknown, folder: string): DiskError | null {
  if (error instanceof DiskError) return error;
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code !== undefined && Object.hasOwn(DISK_FAILURES, code)
    ? new DiskError(folder, code as DiskFailureCode, { cause: error })
    : null;
}

/** Rethrows a disk failure as the DiskError about `folder`, anything else as it is. */
export function rethrowAsDiskError(error: unknown, folder: string): never {
  throw asDiskError(error, folder) ?? error;
}
