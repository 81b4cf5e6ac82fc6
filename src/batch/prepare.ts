import { basename, resolve } from 'node:path';
import type { CountryCode } from '../core/e164.js';
import type { ProviderName } from '../core/lookup-result.js';
import type { BreakerSettings, HistoryOptions } from '../core/settings.js';
import { chooseIdColumns } from '../input/id-columns.js';
import { choosePhoneColumn, duplicatePhoneHeaderNote } from '../input/phone-column.js';
import { sniffInput } from '../input/sniff.js';
import type { BatchJobData } from '../queue/job-data.js';
import { deriveBatchId } from './submit.js';

/** The options that shape a batch's results, whoever starts it (scan, watch, a schedule, the HTTP API). */
export interface ScanSettings {
  readonly provider: ProviderName;
  /** The phone column by name (or 1-based position); detected when absent. */
  readonly column?: string | undefined;
  readonly defaultCountry: CountryCode | null;
  readonly chunkSize: number;
  readonly staleDays: number;
  /** Upstream requests per second for all workers together; 0 = none of ours. */
  readonly rate: number;
  readonly maxAgeMs: number;
  readonly formulaGuard: boolean;
  readonly bom: boolean;
  readonly history: HistoryOptions;
  readonly retryBaseMs: number;
  /** The error-ratio breaker (operational: not part of the batch id). */
  readonly breaker: BreakerSettings;
  /** Input columns named to identify rows in the reports (`--id-columns`); the first two but the phone's when absent. */
  readonly idColumns?: readonly string[] | undefined;
  /** The name runs of one source share for the report's trend (`--label`); see {@link BatchRequest.defaultLabel}. */
  readonly label?: string | undefined;
}

export interface BatchRequest {
  /** The input as the user named it (messages) and its absolute path (workers read it). */
  readonly file: string;
  /** The output folder, or how to name it from the batch id (the id then ignores the folder). */
  readonly outDir: string | ((batchId: string) => string);
  readonly settings: ScanSettings;
  readonly submittedAt: string;
  /** Shown in messages and reports instead of the file's own name (an upload's original name, say). */
  readonly displayName?: string;
  /**
   * The batch id comes from the file's bytes and these settings; a caller whose output folder is derived from
   * the id itself (the HTTP API) leaves the folder out of it.
   */
  readonly idIgnoresOutDir?: boolean;
  /** The trend's label when the settings give none: a schedule's name, a watched file's name. */
  readonly defaultLabel?: string;
}

export interface PreparedBatch {
  readonly data: BatchJobData;
  /** The input's size, for progress while it is read. */
  readonly sizeBytes: number;
  /** The phone column's header, for messages. */
  readonly phoneHeader: string;
  /** Warnings about the input that do not stop the batch (not UTF-8, a repeated phone header), one line each. */
  readonly notes: readonly string[];
}

/**
 * Checks the input (everything that can be wrong with it is found before anything is queued or paid for) and
 * builds the batch job. The batch id is derived from the file's content and the options, so the same request
 * made again joins or resumes the same batch.
 */
export async function prepareBatch(request: BatchRequest): Promise<PreparedBatch> {
  const { settings } = request;
  const inputPath = resolve(request.file);
  const displayName = request.displayName ?? basename(request.file);
  // Messages name the file as the user gave it.
  const label = request.displayName ?? request.file;
  const shape = await sniffInput(inputPath, label);
  const phoneColumn = choosePhoneColumn(label, shape.headers, settings.column);
  const idColumns = chooseIdColumns(label, shape.headers, phoneColumn, settings.idColumns);
  const givenDir = typeof request.outDir === 'string' ? resolve(request.outDir) : null;
  const batchId = await deriveBatchId(inputPath, {
    provider: settings.provider,
    phoneColumn,
    country: settings.defaultCountry,
    chunkSize: settings.chunkSize,
    staleDays: settings.staleDays,
    rate: settings.rate,
    formulaGuard: settings.formulaGuard,
    bom: settings.bom,
    ...(request.idIgnoresOutDir === true || givenDir === null ? {} : { outDir: givenDir }),
    maxAgeMs: settings.maxAgeMs,
    history: settings.history.prefix,
    // Only when asked for, so the ids of batches started without them stay what they were.
    ...(settings.idColumns !== undefined ? { idColumns } : {}),
    ...(settings.label !== undefined ? { label: settings.label } : {}),
  });
  const outDir = givenDir ?? resolve((request.outDir as (batchId: string) => string)(batchId));
  const data: BatchJobData = {
    batchId,
    inputPath,
    displayName,
    outDir,
    provider: settings.provider,
    delimiter: shape.delimiter,
    headers: shape.headers,
    phoneColumn,
    defaultCountry: settings.defaultCountry,
    chunkSize: settings.chunkSize,
    staleDays: settings.staleDays,
    ratePerSecond: settings.rate,
    history: settings.history,
    maxAgeMs: settings.maxAgeMs,
    formulaGuard: settings.formulaGuard,
    bom: settings.bom,
    retryBaseMs: settings.retryBaseMs,
    breaker: settings.breaker,
    idColumns,
    label: settings.label ?? request.defaultLabel ?? null,
    submittedAt: request.submittedAt,
    step: 'ingest',
    cursor: { records: 0, chunks: 0 },
  };
  const duplicate = duplicatePhoneHeaderNote(label, shape.headers, phoneColumn);
  return {
    data,
    sizeBytes: shape.sizeBytes,
    phoneHeader: shape.headers[phoneColumn] ?? '',
    notes: [...(shape.notes ?? []), ...(duplicate === null ? [] : [duplicate])],
  };
}
