import { DEFAULT_BREAKER } from './error-breaker.js';
import { createReadStream } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify';
import type { ScanSettings } from './prepare.js';
import type { CountryCode } from '../core/e164.js';
import { readInput } from '../input/reader.js';
import { LOCAL_STATUS, RESULT_COLUMNS } from '../core/columns.js';
import { CsvFileWriter } from '../output/csv-file.js';
import { rebuildReports } from '../output/rebuild-reports.js';
import type { BatchReport } from '../output/report.js';
import type { TrendEntry } from '../output/report-trend.js';
import { partialPath } from '../output/report-files.js';
import { writeResultsXlsx } from '../output/results-xlsx.js';
import { RESULTS_XLSX } from '../output/write-outputs.js';
import type { BatchJobData } from '../queue/job-data.js';
import type { BatchFiles, BatchRecord, SavedInput } from './files.js';
import { readReport } from './progress.js';

/** The files of a batch and of its retry do not line up: merging again will not help. */
export class RetryMismatchError extends Error {
  override readonly name = 'RetryMismatchError';
}

/** Rows that no retry can help: the number itself is wrong. */
const NEVER_RETRIED: ReadonlySet<string> = new Set([LOCAL_STATUS.invalidNumber, LOCAL_STATUS.excelMangled]);

/** A results row is worth asking again when its lookup failed (not when its number is invalid). */
export function worthRetrying(reachabilityStatus: string, error: string): boolean {
  return error !== '' && !NEVER_RETRIED.has(reachabilityStatus);
}

/** The settings a batch was queued with, for its retry: the same provider, column and options. */
export function settingsOf(job: BatchJobData): ScanSettings {
  return {
    provider: job.provider,
    column: job.headers[job.phoneColumn],
    defaultCountry: job.defaultCountry as CountryCode | null,
    chunkSize: job.chunkSize,
    staleDays: job.staleDays,
    rate: job.ratePerSecond,
    maxAgeMs: job.maxAgeMs,
    formulaGuard: job.formulaGuard,
    bom: job.bom,
    history: job.history,
    retryBaseMs: job.retryBaseMs,
    breaker: job.breaker ?? DEFAULT_BREAKER,
  };
}

/** Reads a CSV file written by reachscan, one record at a time. */
function csvRecords(path: string): AsyncIterator<string[]> {
  const parser = createReadStream(path).pipe(parse({ bom: true }));
  return (parser as AsyncIterable<string[]>)[Symbol.asyncIterator]();
}

/**
 * Builds the input of a retry: the input records whose results row is in error and worth a retry, under the
 * input's header (results.csv has exactly one row per parsed record, in input order, so the two files are read
 * side by side). Returns the upload and the 0-based indices of those rows, or null when there are none.
 */
export async function buildRetryInput(
  dataDir: BatchFiles,
  record: BatchRecord,
): Promise<{ upload: SavedInput; rows: number[] } | null> {
  const { job } = record;
  const errorColumn = job.headers.length + RESULT_COLUMNS.indexOf('error');
  const statusColumn = job.headers.length + RESULT_COLUMNS.indexOf('reachability_status');
  const results = csvRecords(dataDir.file(record.id, 'results.csv'));
  await results.next(); // the header
  const rows: number[] = [];
  const shape = { delimiter: job.delimiter, headers: job.headers, sizeBytes: 0 };
  const inputPath = dataDir.uploadPath(record.inputSha256);

  async function* retryRecords(): AsyncGenerator<readonly string[]> {
    yield job.headers;
    let index = 0;
    for await (const item of readInput(inputPath, shape, record.displayName)) {
      if (item.kind === 'reject') continue;
      const row = await results.next();
      if (row.done === true)
        throw new RetryMismatchError(`results.csv of batch ${record.id} has fewer rows than its input`);
      if (worthRetrying(row.value[statusColumn] ?? '', row.value[errorColumn] ?? '')) {
        rows.push(index);
        yield item.fields;
      }
      index++;
    }
    if ((await results.next()).done !== true)
      throw new RetryMismatchError(`results.csv of batch ${record.id} has more rows than its input`);
  }

  // The input's own delimiter: the retry's input is sniffed like the original was.
  const csv = stringify({ delimiter: job.delimiter, record_delimiter: 'unix' });
  const source = Readable.from(retryRecords());
  source.on('error', (error) => csv.destroy(error));
  source.pipe(csv);
  const upload = await dataDir.saveInput(csv);
  if (rows.length === 0) return null;
  await writeFile(dataDir.file(record.id, 'retry-rows.txt'), `${rows.join('\n')}\n`, { mode: 0o640 });
  return { upload, rows };
}

/**
 * Puts a finished retry's rows in place of the rows it asked again, then rebuilds the reports. The rows are
 * replaced by position (`retry-rows.txt`), so merging the same retry twice gives the same files.
 */
export async function mergeRetry(
  dataDir: BatchFiles,
  original: BatchRecord,
  retryId: string,
  finishedAt: string,
  /** Records the merged figures as the batch's run in its label's log (see labelTrend). */
  trend?: (report: BatchReport) => Promise<readonly TrendEntry[]>,
): Promise<BatchReport> {
  const { job } = original;
  const replaced = (await readFile(dataDir.file(original.id, 'retry-rows.txt'), 'utf8'))
    .split('\n')
    .filter((line) => line !== '')
    .map(Number);
  const resultsPath = dataDir.file(original.id, 'results.csv');
  const dir = dataDir.batchDir(original.id);
  const originalRows = csvRecords(resultsPath);
  const retryRows = csvRecords(dataDir.file(retryId, 'results.csv'));
  const header = (await originalRows.next()).value as string[];
  const retryHeader = (await retryRows.next()).value as string[] | undefined;
  if (retryHeader?.join('\u0000') !== header.join('\u0000'))
    throw new RetryMismatchError(
      `the results of retry ${retryId} do not have the columns of batch ${original.id}`,
    );

  const writer = new CsvFileWriter(partialPath(dir, 'results.csv'), header, { bom: job.bom });
  let next = 0;
  for (let index = 0; ; index++) {
    const row = await originalRows.next();
    if (row.done === true) break;
    if (replaced[next] === index) {
      const fresh = await retryRows.next();
      if (fresh.done === true)
        throw new RetryMismatchError(`retry ${retryId} has fewer rows than it was given`);
      await writer.write(fresh.value);
      next++;
    } else {
      await writer.write(row.value);
    }
  }
  await writer.close();
  if (next !== replaced.length || (await retryRows.next()).done !== true)
    throw new RetryMismatchError(
      `retry ${retryId} does not match the rows of batch ${original.id} it was made from`,
    );
  await rename(partialPath(dir, 'results.csv'), resultsPath);

  const before = await readReport(dataDir, original.id);
  const report = await rebuildReports(resultsPath, original.displayName, dir, job.staleDays, {
    bom: job.bom,
    ...(job.idColumns !== undefined ? { idColumns: job.idColumns } : {}),
    batch: {
      batchId: original.id,
      inputFile: original.displayName,
      provider: job.provider,
      startedAt: before?.started_at ?? original.submittedAt,
      finishedAt,
      label: job.label ?? null,
    },
    ...(trend !== undefined ? { trend } : {}),
  });
  // results.xlsx is a copy of results.csv: it follows the merged rows, or Excel users would see the old errors.
  if (job.xlsx === true) {
    const source = { csvPath: resultsPath, inputColumns: job.headers.length };
    await writeResultsXlsx(source, partialPath(dir, RESULTS_XLSX), report);
    await rename(partialPath(dir, RESULTS_XLSX), join(dir, RESULTS_XLSX));
  }
  return report;
}
