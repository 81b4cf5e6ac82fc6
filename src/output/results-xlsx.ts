import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';
import type ExcelJS from 'exceljs';
import { loadExcel } from '../input/load-excel.js';
import type { BatchReport } from './report.js';
import { OUTPUT_FILE_MODE } from './csv-file.js';
import { chmod } from 'node:fs/promises';

/** The result columns that hold a time (ISO 8601, UTC): real Excel dates in results.xlsx. */
export const TIME_COLUMNS: ReadonlySet<string> = new Set([
  'last_status_at',
  'checked_at',
  'no_connectivity_since',
  'previous_checked_at',
  'last_seen_connected_at',
]);
/** Times are shown in UTC, as in results.csv; Excel stores no zone. */
const TIME_FORMAT = 'yyyy-mm-dd hh:mm:ss';
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$/;

/** Where results.xlsx takes its rows from, and how many of their leading columns are the input's. */
export interface ResultsXlsxSource {
  /** results.csv (complete, possibly under its partial name). */
  readonly csvPath: string;
  readonly inputColumns: number;
}

/**
 * Writes results.xlsx from results.csv, streaming (rows are committed one at a time, so memory stays flat):
 * the same rows and columns, every cell text (phone numbers stay text, never numbers) but the time columns,
 * which are Excel dates; the header row frozen, with a filter. A second sheet, "Report", holds the report's
 * figures.
 */
export async function writeResultsXlsx(
  source: ResultsXlsxSource,
  target: string,
  report: BatchReport,
): Promise<void> {
  const excel = await loadExcel();
  const book = new excel.stream.xlsx.WorkbookWriter({
    filename: target,
    useSharedStrings: false,
    useStyles: true,
  });
  const sheet = book.addWorksheet('Results', { views: [{ state: 'frozen', ySplit: 1 }] });
  let header: string[] | null = null;
  const rows = createReadStream(source.csvPath).pipe(parse({ bom: true, relax_column_count: true }));
  for await (const fields of rows as AsyncIterable<string[]>) {
    if (header === null) {
      header = fields;
      sheet.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1, column: Math.max(1, fields.length) } };
      sheet.addRow(fields).commit();
      continue;
    }
    const row = sheet.addRow(
      fields.map((text, i) => cellValue(text, i, header as string[], source.inputColumns)),
    );
    row.eachCell((cell) => {
      if (cell.value instanceof Date) cell.numFmt = TIME_FORMAT;
    });
    row.commit();
  }
  sheet.commit();
  addReportSheet(book, report);
  await book.commit();
  await chmod(target, OUTPUT_FILE_MODE);
}

/** A time column's ISO time as a date (its UTC wall-clock time), every other cell as text. */
function cellValue(
  text: string,
  index: number,
  header: readonly string[],
  inputColumns: number,
): string | Date {
  if (index >= inputColumns && TIME_COLUMNS.has(header[index] ?? '') && ISO_TIME.test(text))
    return new Date(text);
  return text;
}

/** The report's figures, flattened: one row per figure (`rows.total`, `reachability.reachable` …). */
function addReportSheet(book: ExcelJS.stream.xlsx.WorkbookWriter, report: BatchReport): void {
  const sheet = book.addWorksheet('Report', { views: [{ state: 'frozen', ySplit: 1 }] });
  sheet.addRow(['figure', 'value']).commit();
  for (const [name, value] of figures(report as unknown as Record<string, unknown>, ''))
    sheet.addRow([name, value]).commit();
  sheet.commit();
}

/** Every number, text and true/false of the report, under its dotted path; lists and nulls left out. */
function* figures(
  object: Record<string, unknown>,
  prefix: string,
): Generator<[string, string | number | boolean]> {
  for (const [key, value] of Object.entries(object)) {
    const name = `${prefix}${key}`;
    if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean')
      yield [name, value];
    else if (value !== null && typeof value === 'object' && !Array.isArray(value))
      yield* figures(value as Record<string, unknown>, `${name}.`);
  }
}
