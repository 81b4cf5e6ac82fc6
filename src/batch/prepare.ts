import { open, realpath, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { CountryCode } from '../core/e164.js';
import type { ProviderName } from '../core/lookup-result.js';
import type { BreakerSettings, HistoryOptions } from '../core/settings.js';
import { chooseIdColumns } from '../input/id-columns.js';
import { choosePhoneColumn, duplicatePhoneHeaderNote } from '../input/phone-column.js';
import { InputError } from '../input/errors.js';
import { sniffInput } from '../input/sniff.js';
import { outputFiles, partialPath } from '../output/report-files.js';
import type { BatchJobData, BatchWebhook } from '../queue/job-data.js';
import { looksLikeXlsx } from '../input/xlsx-reader.js';
import {
  convertXlsxInput,
  copyInput,
  discardCopy,
  hashInput,
  keepCopy,
  type IntakeRead,
} from './input-copy.js';
import type { Budget } from '../config/budget.js';
import type { PriceTable } from '../config/prices.js';
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
  /** Why the run asks (`--purpose`): recorded in report.json and each history write; absent: the provider's. */
  readonly purpose?: string | undefined;
  /** The worksheet of an Excel input (`--sheet`); the first sheet when absent. */
  readonly sheet?: string | undefined;
  /** Also write results.xlsx (`--xlsx`). */
  readonly xlsx?: boolean | undefined;
  /** Where the batch's events go (operational: not part of the batch id). */
  readonly webhook?: BatchWebhook | null | undefined;
  /** What the batch may spend on upstream requests (`--budget`; operational: not part of the batch id). */
  readonly budget?: Budget | undefined;
  /** REACHSCAN_PRICES, for the batch's cost (and a money budget). */
  readonly prices?: PriceTable | null | undefined;
}

export interface BatchRequest {
  /** The input as the user named it (messages); read once, at intake, into the batch's own copy. */
  readonly file: string;
  /**
   * The folder where intake keeps the batch's copy of the file (see inputCopyFolder), or null when the file is
   * already the batch's own and nobody writes to it (an API upload, named by its content).
   */
  readonly copyTo: string | null;
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
  const userPath = resolve(request.file);
  const displayName = request.displayName ?? basename(request.file);
  // Messages name the file as the user gave it.
  const label = request.displayName ?? request.file;
  const givenDir = typeof request.outDir === 'string' ? resolve(request.outDir) : null;
  if (givenDir !== null) await assertOutputsSpareInput(userPath, givenDir, request, label);
  // The only read of the user's file: from here on the batch reads its own copy.
  const read = (await isWorkbook(userPath, displayName))
    ? await convertXlsxInput(userPath, request.copyTo, label, {
        sheet: request.settings.sheet,
        column: request.settings.column,
      })
    : request.copyTo === null
      ? await hashInput(userPath, label)
      : await copyInput(userPath, request.copyTo, label);
  try {
    return await describeBatch(request, read, { label, displayName, givenDir });
  } catch (error) {
    if (request.copyTo !== null) await discardCopy(read.path);
    throw error;
  }
}

/** An Excel workbook: named `.xlsx`, or starting as a ZIP archive does (an upload sent without a name). */
async function isWorkbook(path: string, displayName: string): Promise<boolean> {
  const handle = await open(path, 'r').catch(() => null);
  if (handle === null) return /\.xlsx$/i.test(displayName);
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(4), 0, 4, 0);
    return looksLikeXlsx(displayName, buffer.subarray(0, bytesRead));
  } catch {
    return looksLikeXlsx(displayName, Buffer.alloc(0));
  } finally {
    await handle.close();
  }
}

/** Sniffs the copy, derives the batch id, gives the copy its final name and builds the job. */
async function describeBatch(
  request: BatchRequest,
  read: IntakeRead,
  names: { label: string; displayName: string; givenDir: string | null },
): Promise<PreparedBatch> {
  const { settings } = request;
  const { label, displayName, givenDir } = names;
  const shape = await sniffInput(read.path, label);
  const phoneColumn = choosePhoneColumn(label, shape.headers, settings.column);
  const idColumns = chooseIdColumns(label, shape.headers, phoneColumn, settings.idColumns);
  const batchId = deriveBatchId(read.content, {
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
  const inputPath = request.copyTo === null ? read.path : await keepCopy(read, batchId);
  const outDir = givenDir ?? resolve((request.outDir as (batchId: string) => string)(batchId));
  const data: BatchJobData = {
    batchId,
    inputPath,
    inputCopy: { bytes: read.bytes, sha256: read.sha256, disposable: request.copyTo !== null },
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
    xlsx: settings.xlsx === true,
    webhook: settings.webhook ?? null,
    ...(settings.budget !== undefined ? { budget: settings.budget } : {}),
    ...(settings.prices != null ? { prices: settings.prices } : {}),
    submittedAt: request.submittedAt,
    step: 'ingest',
    cursor: { records: 0, chunks: 0 },
    purpose: settings.purpose ?? null,
  };
  const duplicate = duplicatePhoneHeaderNote(label, shape.headers, phoneColumn);
  return {
    data,
    sizeBytes: shape.sizeBytes,
    phoneHeader: shape.headers[phoneColumn] ?? '',
    notes: [...(shape.notes ?? []), ...(duplicate === null ? [] : [duplicate])],
  };
}

/**
 * The outputs must never replace the input: an input that is one of the files the batch writes in its output
 * folder (`<out>/results.csv`, `<out>/rejects.csv`, a report…), by real path or by inode (a hard link, a
 * symbolic link to it), is refused before anything is read or paid for.
 */
async function assertOutputsSpareInput(
  input: string,
  outDir: string,
  request: BatchRequest,
  label: string,
): Promise<void> {
  const [inputStat, inputReal, outReal] = await Promise.all([
    stat(input).catch(() => null),
    realpath(input).catch(() => null),
    realpath(outDir).catch(() => outDir),
  ]);
  // A missing input is the sniffer's to name.
  if (inputStat === null || inputReal === null) return;
  const names = Object.values(outputFiles(request.settings.staleDays));
  for (const name of names.flatMap((n) => [n, basename(partialPath(outDir, n))])) {
    const output = join(outDir, name);
    const sameFile =
      inputReal === join(outReal, name) ||
      (await stat(output).then(
        (s) => s.ino === inputStat.ino && s.dev === inputStat.dev,
        () => false,
      ));
    if (sameFile)
      throw new InputError(
        label,
        `it is ${output}, which this scan's outputs would overwrite; choose another output folder (--out)`,
      );
  }
}
