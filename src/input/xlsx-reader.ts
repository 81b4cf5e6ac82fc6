import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type ExcelJS from 'exceljs';
import { loadExcel } from './load-excel.js';
import { errorMessage } from '../core/errors.js';
import { InputError } from './errors.js';
import { choosePhoneColumn } from './phone-column.js';
import { formatDate, formatNumber, isDateFormat, serialToDate } from './xlsx-format.js';

/** What to read from a workbook: one sheet (the first when unnamed), the phone column as for a CSV. */
export interface XlsxReadOptions {
  /** The worksheet by name; the workbook's first sheet when absent. */
  readonly sheet?: string | undefined;
  /** The phone column (`--column`); detected from the header row when absent. */
  readonly column?: string | undefined;
}

/** Whether a file is to be read as a workbook: named `.xlsx`, or a ZIP archive (an upload without a name). */
export function looksLikeXlsx(name: string, firstBytes: Buffer): boolean {
  return /\.xlsx$/i.test(name) || firstBytes.subarray(0, 4).equals(ZIP_MAGIC);
}
const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

type Cell = ExcelJS.Cell;

/**
 * A number cell in the phone column has lost the `+` (or the leading 0) a phone number starts with, and past
 * 15 digits its last digits too: it is written in Excel's scientific form (`4.47701E+11`), which the phone
 * parser reads as `EXCEL_MANGLED`, exactly as it does for a CSV that went through a spreadsheet.
 */
function phoneCellText(cell: Cell): string {
  const value = cell.value;
  const result = isFormula(value) ? value.result : value;
  if (typeof result === 'number') return formatNumber(result, '0.00000E+00');
  return cellText(cell);
}

type FormulaValue = { formula?: string; sharedFormula?: string; result?: unknown };
function isFormula(value: unknown): value is FormulaValue {
  return typeof value === 'object' && value !== null && ('formula' in value || 'sharedFormula' in value);
}

/** A cell as Excel shows it: the number format applied, a formula's cached result, rich text joined. */
export function cellText(cell: Cell): string {
  return valueText(cell.value, cell.numFmt);
}

function valueText(value: unknown, numFmt: string | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number')
    return numFmt !== undefined && isDateFormat(numFmt)
      ? formatDate(serialToDate(value), numFmt)
      : formatNumber(value, numFmt);
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (value instanceof Date) return formatDate(value, numFmt);
  if (isFormula(value)) return valueText(value.result, numFmt);
  const object = value as { richText?: { text: string }[]; error?: string; text?: unknown };
  if (Array.isArray(object.richText)) return object.richText.map((run) => run.text).join('');
  if (typeof object.error === 'string') return object.error;
  if (object.text !== undefined) return valueText(object.text, numFmt);
  return '';
}

/** One CSV field: quoted when it holds a delimiter, quote, line break or edge spaces. */
function csvField(text: string): string {
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The cells of a row, 1-based, up to `width` or the last non-empty cell beyond it. */
function rowTexts(row: ExcelJS.Row, width: number, phoneColumn: number | null): string[] {
  const texts: string[] = [];
  const last = Math.max(width, row.cellCount);
  for (let col = 1; col <= last; col++) {
    const cell = row.getCell(col);
    texts.push(col - 1 === phoneColumn ? phoneCellText(cell) : cellText(cell));
  }
  while (texts.length > width && texts[texts.length - 1] === '') texts.pop();
  return texts;
}

/**
 * Streams one worksheet of a workbook as CSV text (comma-separated, UTF-8, one line per non-empty row), every
 * cell as Excel shows it. Memory stays flat: rows are read and written one at a time.
 */
export function xlsxToCsv(path: string, label: string, options: XlsxReadOptions): Readable {
  return Readable.from(csvLines(path, label, options));
}

async function* csvLines(path: string, label: string, options: XlsxReadOptions): AsyncGenerator<string> {
  const excel = await loadExcel();
  const reader = new excel.stream.xlsx.WorkbookReader(createReadStream(path), {
    sharedStrings: 'cache',
    styles: 'cache',
    hyperlinks: 'ignore',
    worksheets: 'emit',
    entries: 'ignore',
  });
  const seen: string[] = [];
  let found = false;
  try {
    for await (const worksheet of reader) {
      const name = (worksheet as unknown as { name?: string }).name ?? `Sheet${seen.length + 1}`;
      seen.push(name);
      if (found || (options.sheet !== undefined && name !== options.sheet)) continue;
      found = true;
      yield* sheetLines(worksheet, label, options);
    }
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(label, `is not a readable Excel workbook (.xlsx): ${errorMessage(error)}`);
  }
  if (seen.length === 0)
    throw new InputError(label, 'is not a readable Excel workbook (.xlsx): no worksheet');
  if (!found)
    throw new InputError(
      label,
      `has no sheet named "${options.sheet ?? ''}"; its sheets are ${seen.map((s) => `"${s}"`).join(', ')}`,
    );
}

async function* sheetLines(
  worksheet: ExcelJS.stream.xlsx.WorksheetReader,
  label: string,
  options: XlsxReadOptions,
): AsyncGenerator<string> {
  let width = 0;
  let phoneColumn: number | null = null;
  for await (const row of worksheet as unknown as AsyncIterable<ExcelJS.Row>) {
    if (width === 0) {
      const headers = rowTexts(row, 0, null);
      if (headers.every((h) => h === '')) continue;
      width = headers.length;
      phoneColumn = safePhoneColumn(label, headers, options.column);
      yield `${headers.map(csvField).join(',')}\n`;
      continue;
    }
    const texts = rowTexts(row, width, phoneColumn);
    if (texts.every((t) => t === '')) continue;
    yield `${texts.map(csvField).join(',')}\n`;
  }
  if (width === 0) throw new InputError(label, 'the sheet is empty (no header row)');
}

/** The phone column, or none: a missing one is reported by the CSV checks, in their words. */
function safePhoneColumn(label: string, headers: string[], column: string | undefined): number | null {
  try {
    return choosePhoneColumn(label, headers, column);
  } catch {
    return null;
  }
}
