import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { prepareBatch, type ScanSettings } from '../batch/prepare.js';
import { discardCopy } from '../batch/input-copy.js';
import { writeRefusal } from '../batch/redis-trouble.js';
import { waitForBatch } from '../batch/wait.js';
import { UsageError } from '../core/errors.js';
import { InputError } from '../input/errors.js';
import { outputFiles } from '../output/write-outputs.js';
import { readStatus } from '../batch/state.js';
import type { RedisClient } from '../queue/connection.js';
import { batchKeys } from '../queue/keys.js';
import { submitBatch } from '../batch/submit.js';

/** How scanning one taken file ended, and so where the file goes. */
export type ScanOutcome =
  /** Outputs written; failed lookups and invalid rows (if any) are in them. The file goes to done/. */
  | ({
      readonly kind: 'done';
      readonly exitCode: number;
      readonly batchId: string;
    } & ReportCounts)
  /** The file itself is unusable (no phone column, binary, empty…): failed/, with this one-line reason. */
  | { readonly kind: 'bad-input'; readonly reason: string }
  /** Not the file's fault (Redis, credentials, a worker crash): it stays in processing/ and is tried again. */
  | { readonly kind: 'retry-later'; readonly reason: string }
  /** Waiting stopped (shutdown, or the lock was lost); the batch itself goes on and a later attempt joins it. */
  | { readonly kind: 'stopped' };

export interface ScanFileRequest {
  /** The taken file, in processing/. */
  readonly path: string;
  /** The name it was dropped under, for messages and reports. */
  readonly displayName: string;
  readonly outDir: string;
  /** The folder for the batch's own copy of the file. */
  readonly copyTo: string;
  readonly settings: ScanSettings;
  readonly submittedAt: string;
}

/**
 * Scans one file as `reachscan scan` would: the batch id comes from its content, the options and the output
 * folder, so a file resumed after a restart (same folder, from the ledger) joins its batch instead of
 * starting over, and a batch that already finished is not run again.
 */
export async function scanFile(
  redis: RedisClient,
  prefix: string,
  request: ScanFileRequest,
  signal: AbortSignal,
): Promise<ScanOutcome> {
  let prepared;
  try {
    prepared = await prepareBatch({
      file: request.path,
      outDir: request.outDir,
      copyTo: request.copyTo,
      displayName: request.displayName,
      submittedAt: request.submittedAt,
      settings: request.settings,
      // Files dropped again under one name are one source: their runs share a trend (unless --label says).
      defaultLabel: request.displayName,
    });
  } catch (error) {
    if (error instanceof InputError || error instanceof UsageError)
      return { kind: 'bad-input', reason: error.message };
    return { kind: 'retry-later', reason: `cannot read it (${(error as Error).message})` };
  }
  const { batchId } = prepared.data;
  try {
    // Finished before a restart (the watcher died between the batch's end and moving the file): not again.
    const before = await readStatus(redis, batchKeys(prefix, batchId));
    if (before.state !== 'done' || before.outDir !== request.outDir)
      await submitBatch(redis, prefix, prepared.data);
    // Its copy went with it when it closed: the one just made serves nothing.
    else await discardCopy(prepared.data.inputPath);
    const end = await waitForBatch(redis, prefix, batchId, { signal });
    if (end.kind === 'stopped') return { kind: 'stopped' };
    if (end.kind === 'job-failed')
      return { kind: 'retry-later', reason: `the batch failed in the queue (${end.reason})` };
    // Tried again later: the file is still in processing/, and a new batch starts from it.
    if (end.kind === 'lost' || end.kind === 'refused') return { kind: 'retry-later', reason: end.message };
    const { status } = end;
    if (status.state === 'failed') {
      const failure = status.failure ?? 'the batch failed';
      return status.exitCode === 2
        ? { kind: 'bad-input', reason: failure }
        : { kind: 'retry-later', reason: failure };
    }
    const counts = await readCounts(request.outDir, request.settings.staleDays);
    return { kind: 'done', exitCode: status.exitCode ?? 0, batchId, ...counts };
  } catch (error) {
    if (signal.aborted) return { kind: 'stopped' };
    const refusal = writeRefusal(error);
    return { kind: 'retry-later', reason: refusal ?? (error as Error).message };
  }
}

/** A finished batch's counts from report.json, for the log line: failed lookups apart from bad input. */
export interface ReportCounts {
  /** null when report.json cannot be read. */
  readonly rows: number | null;
  readonly lookupsFailed: number;
  readonly invalidNumbers: number;
  readonly malformedRecords: number;
}

async function readCounts(outDir: string, staleDays: number): Promise<ReportCounts> {
  const count = (value: unknown) => (typeof value === 'number' ? value : 0);
  try {
    const report = JSON.parse(await readFile(join(outDir, outputFiles(staleDays).reportJson), 'utf8')) as {
      rows?: { total?: unknown };
      lookups_failed?: unknown;
      invalid_numbers?: unknown;
      malformed_records?: unknown;
    };
    return {
      rows: typeof report.rows?.total === 'number' ? report.rows.total : null,
      lookupsFailed: count(report.lookups_failed),
      invalidNumbers: count(report.invalid_numbers),
      malformedRecords: count(report.malformed_records),
    };
  } catch {
    return { rows: null, lookupsFailed: 0, invalidNumbers: 0, malformedRecords: 0 };
  }
}
