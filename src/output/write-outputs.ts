import { mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { CountryCode, E164 } from '../core/e164.js';
import { normalisePhone, type PhoneCell } from '../input/phone.js';
import { readInput, type InputRecord } from '../input/reader.js';
import type { InputShape } from '../input/sniff.js';
import { resultFields, type StoredAnswer } from '../core/answer.js';
import { resultHeader, resultValues, type ResultFields } from '../core/columns.js';
import { CsvFileWriter, OUTPUT_FOLDER_MODE } from './csv-file.js';
import { guardFormula } from './formula-guard.js';
import type { BatchReport, ReportContext } from './report.js';
import { outputFiles, partialPath, ReportFiles } from './report-files.js';

export { outputFiles } from './report-files.js';

export interface OutputJob {
  readonly inputPath: string;
  readonly displayName: string;
  readonly shape: InputShape;
  readonly phoneColumn: number;
  readonly defaultCountry?: CountryCode;
  readonly outDir: string;
  readonly staleDays: number;
  /** Neutralise input cells a spreadsheet would run as formulas (default on). */
  readonly formulaGuard: boolean;
  /** Start CSV files with a UTF-8 BOM, for Excel. */
  readonly bom: boolean;
  readonly uniqueNumbers: number;
  readonly report: Omit<ReportContext, 'staleDays' | 'staleFile' | 'changesFile'>;
  /** Answers for a group of numbers; numbers without one are missing from the map. */
  answers(numbers: readonly E164[]): Promise<ReadonlyMap<string, StoredAnswer>>;
  /** Hands a group's final answers to the history (idempotent: a number may come again). */
  remember(answers: ReadonlyMap<string, StoredAnswer>): Promise<void>;
  readonly now: () => number;
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

/**
 * Streams the input once more and writes every output: results.csv (one row per record, input order),
 * rejects.csv, the stale list, report.json and report.md. Files appear under their final names only when
 * complete, so a reader never sees half a file.
 */
export async function writeOutputs(job: OutputJob): Promise<BatchReport> {
  await mkdir(job.outDir, { recursive: true, mode: OUTPUT_FOLDER_MODE });
  const names = outputFiles(job.staleDays);
  const guard = job.formulaGuard ? guardFormula : (cell: string) => cell;
  // Header cells come from the input too.
  const header = resultsHeader(job.shape.headers, job.formulaGuard);
  const results = new CsvFileWriter(partialPath(job.outDir, names.results), header, { bom: job.bom });
  const rejects = new CsvFileWriter(partialPath(job.outDir, names.rejects), ['line', 'raw', 'reason'], {
    bom: job.bom,
  });
  const reports = new ReportFiles(job.outDir, header, job.shape.headers.length, job.staleDays, {
    bom: job.bom,
  });

  type Group = { record: InputRecord; phone: PhoneCell }[];
  let group: Group = [];
  // A group's answers are asked for as soon as it is read and written out once the next group is read; the
  // history learns a group while the next is written. Groups are still written one at a time, in file order.
  let asked: { group: Group; answers: Promise<ReadonlyMap<string, StoredAnswer>> } | null = null;
  let remembering: Promise<void> = Promise.resolve();
  const write = async ({ group: rows, answers: pending }: NonNullable<typeof asked>) => {
    const answers = await pending;
    for (const { record, phone } of rows) {
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
  const flush = async () => {
    const rows = group;
    group = [];
    const numbers = [...new Set(rows.flatMap((g) => (g.phone.kind === 'valid' ? [g.phone.e164] : [])))];
    const next = {
      group: rows,
      answers: numbers.length > 0 ? job.answers(numbers) : Promise.resolve(new Map<string, StoredAnswer>()),
    };
    next.answers.catch(() => undefined);
    if (asked !== null) await write(asked);
    asked = next;
  };

  for await (const item of readInput(job.inputPath, job.shape, job.displayName)) {
    if (item.kind === 'reject') {
      reports.addReject();
      await rejects.write([String(item.line), guard(item.raw), item.reason]);
      continue;
    }
    group.push({
      record: item,
      phone: normalisePhone(item.fields[job.phoneColumn] ?? '', job.defaultCountry),
    });
    if (group.length >= GROUP) await flush();
    // A turn of the event loop now and then, so Redis replies are read while a file read's records are handled.
    else if (group.length % 100 === 0) await new Promise(setImmediate);
  }
  await flush();
  if (asked !== null) await write(asked);
  await remembering;
  await Promise.all([results.close(), rejects.close()]);
  const built = await reports.finish(job.report, job.uniqueNumbers, new Date(job.now()).toISOString());
  for (const name of [names.results, names.rejects]) {
    await rename(partialPath(job.outDir, name), join(job.outDir, name));
  }
  await reports.publish();
  return built;
}
