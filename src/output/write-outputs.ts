import { writeResultsXlsx } from './results-xlsx.js';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { E164 } from '../core/e164.js';
import {
  readNumberedBatches,
  recordGroups,
  validNumbers,
  type NumberedRecord,
  type RecordSource,
} from '../input/batch-records.js';
import type { InputReject } from '../input/reader.js';
import { resultFields, type StoredAnswer } from '../core/answer.js';
import { rethrowAsDiskError } from '../core/errors.js';
import { resultHeader, resultValues, type ResultFields } from '../core/columns.js';
import { CsvFileWriter, OUTPUT_FOLDER_MODE } from './csv-file.js';
import { guardFormula } from './formula-guard.js';
import type { BatchReport, ReportContext } from './report.js';
import type { TrendEntry } from './report-trend.js';
import { outputFiles, partialPath, ReportFiles } from './report-files.js';

export { outputFiles } from './report-files.js';

/** The Excel copy of results.csv (`--xlsx`). */
export const RESULTS_XLSX = 'results.xlsx';

export interface OutputJob {
  /** The batch's input, read once more. */
  readonly source: RecordSource;
  readonly outDir: string;
  readonly staleDays: number;
  /** Neutralise input cells a spreadsheet would run as formulas (default on). */
  readonly formulaGuard: boolean;
  /** Start CSV files with a UTF-8 BOM, for Excel. */
  readonly bom: boolean;
  /** Also write results.xlsx from results.csv, with the report's figures on a second sheet. */
  readonly xlsx?: boolean;
  /** Positions of the input columns shown beside each number in the longest-gaps list. */
  readonly idColumns: readonly number[];
  readonly uniqueNumbers: number;
  readonly report: Omit<ReportContext, 'staleDays' | 'staleFile' | 'changesFile'>;
  /** Answers for a group of numbers; numbers without one are missing from the map. */
  answers(numbers: readonly E164[]): Promise<ReadonlyMap<string, StoredAnswer>>;
  /** Hands a group's final answers to the history (idempotent: a number may come again). */
  remember(answers: ReadonlyMap<string, StoredAnswer>): Promise<void>;
  readonly now: () => number;
  /** Records this run in its label's log and returns the label's runs (absent: no trend). */
  readonly trend?: (report: BatchReport) => Promise<readonly TrendEntry[]>;
  /** Called once every file is written, before any takes its real name; throwing keeps them all unpublished. */
  readonly beforePublish?: () => Promise<void>;
}

const GROUP = 500;

/** results.csv's header: the input's headers (guarded like its cells), then ours. */
export function resultsHeader(inputHeaders: readonly string[], formulaGuard: boolean): string[] {
  const guard = formulaGuard ? guardFormula : (cell: string) => cell;
  return resultHeader(inputHeaders).map((name, i) => (i < inputHeaders.length ? guard(name) : name));
}

/** One results.csv row: the input record's cells (guarded), then the result columns. */
export function resultsRow(
  inputFields: readonly string[],
  fields: ResultFields,
  formulaGuard: boolean,
): string[] {
  const guard = formulaGuard ? guardFormula : (cell: string) => cell;
  return [...inputFields.map(guard), ...resultValues(fields)];
}

/** The files being written, all under their partial names until the end. */
interface OpenFiles {
  readonly results: CsvFileWriter;
  readonly rejects: CsvFileWriter;
  readonly reports: ReportFiles;
}

/**
 * Streams the input once more and writes every output: results.csv (one row per record, input order),
 * rejects.csv, the stale list, report.json and report.md. Files appear under their final names only when
 * complete, so a reader never sees half a file. A disk that refuses (full, read-only…) throws a DiskError naming
 * the folder, and no partial file is left behind.
 */
export async function writeOutputs(job: OutputJob): Promise<BatchReport> {
  try {
    await mkdir(job.outDir, { recursive: true, mode: OUTPUT_FOLDER_MODE });
  } catch (error) {
    rethrowAsDiskError(error, job.outDir);
  }
  // Header cells come from the input too.
  const header = resultsHeader(job.source.shape.headers, job.formulaGuard);
  const names = outputFiles(job.staleDays);
  const files: OpenFiles = {
    results: new CsvFileWriter(partialPath(job.outDir, names.results), header, { bom: job.bom }),
    rejects: new CsvFileWriter(partialPath(job.outDir, names.rejects), ['line', 'raw', 'reason'], {
      bom: job.bom,
    }),
    reports: new ReportFiles(job.outDir, header, job.source.shape.headers.length, job.staleDays, {
      bom: job.bom,
      idColumns: job.idColumns,
    }),
  };
  try {
    return await writeAll(job, files);
  } catch (error) {
    await Promise.all([files.results.abort(), files.rejects.abort(), files.reports.abort()]);
    await Promise.all(
      [...Object.values(names), RESULTS_XLSX].map((name) =>
        rm(partialPath(job.outDir, name), { force: true }).catch(() => undefined),
      ),
    );
    rethrowAsDiskError(error, job.outDir);
  }
}

async function writeAll(job: OutputJob, { results, rejects, reports }: OpenFiles): Promise<BatchReport> {
  const names = outputFiles(job.staleDays);
  const guard = job.formulaGuard ? guardFormula : (cell: string) => cell;
  // A group's answers are asked for as soon as it is read and written out once the next group is read; the
  // history learns a group while the next is written. Groups are still written one at a time, in file order.
  type Asked = { group: readonly NumberedRecord[]; answers: Promise<ReadonlyMap<string, StoredAnswer>> };
  let asked: Asked | null = null;
  let remembering: Promise<void> = Promise.resolve();
  const write = async ({ group, answers: pending }: Asked) => {
    const answers = await pending;
    for (const record of group) {
      const { phone } = record;
      const fields = resultFields(phone, phone.kind === 'valid' ? answers.get(phone.e164) : undefined);
      const row = resultsRow(record.fields, fields, job.formulaGuard);
      await results.write(row);
      await reports.add(row, fields);
    }
    await remembering;
    remembering = job.remember(answers);
    // Awaited (and so thrown) by the next group or at the end; not an unhandled rejection meanwhile.
    remembering.catch(() => undefined);
  };
  const onReject = async (reject: InputReject) => {
    reports.addReject();
    await rejects.write([String(reject.line), guard(reject.raw), reject.reason]);
  };
  for await (const group of recordGroups(readNumberedBatches(job.source), GROUP, onReject)) {
    const numbers = validNumbers(group);
    const next: Asked = {
      group,
      answers: numbers.length > 0 ? job.answers(numbers) : Promise.resolve(new Map<string, StoredAnswer>()),
    };
    next.answers.catch(() => undefined);
    if (asked !== null) await write(asked);
    asked = next;
  }
  if (asked !== null) await write(asked);
  await remembering;
  await Promise.all([results.close(), rejects.close()]);
  const built = await reports.finish(
    job.report,
    job.uniqueNumbers,
    new Date(job.now()).toISOString(),
    job.trend,
  );
  if (job.xlsx === true) {
    const source = {
      csvPath: partialPath(job.outDir, names.results),
      inputColumns: job.source.shape.headers.length,
    };
    await writeResultsXlsx(source, partialPath(job.outDir, RESULTS_XLSX), built);
  }
  await job.beforePublish?.();
  for (const name of [names.results, ...(job.xlsx === true ? [RESULTS_XLSX] : []), names.rejects]) {
    await rename(partialPath(job.outDir, name), join(job.outDir, name));
  }
  await reports.publish();
  return built;
}
