import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { readCsv, readRows, scan } from '../bad-input/cli.js';

/** `.xlsx` input through the real CLI: the workbooks are written with exceljs, real files on disk. */

const TIMEOUT = 60_000;

/** A workbook whose sheets are given as rows of cell values (and number formats by column). */
async function workbook(
  sheets: Record<string, { rows: unknown[][]; formats?: Record<number, string> }>,
): Promise<string> {
  const book = new ExcelJS.Workbook();
  for (const [name, { rows, formats }] of Object.entries(sheets)) {
    const sheet = book.addWorksheet(name);
    for (const values of rows) sheet.addRow(values);
    for (const [column, format] of Object.entries(formats ?? {}))
      sheet.getColumn(Number(column)).eachCell((cell, row) => {
        if (row > 1) cell.numFmt = format;
      });
  }
  const path = join(mkdtempSync(join(tmpdir(), 'reachscan-xlsx-')), 'crm-export.xlsx');
  await book.xlsx.writeFile(path);
  return path;
}

const started = (column = 'phone'): unknown =>
  expect.stringMatching(
    new RegExp(`^started batch [0-9a-f]{24}: crm-export.xlsx, phone column "${column}"$`),
  );

describe('Excel input: the first sheet (or --sheet) becomes the batch copy, cells as Excel shows them', () => {
  it(
    'scans the first sheet; dates and numbers as displayed; number cells in the phone column are EXCEL_MANGLED',
    async () => {
      const path = await workbook({
        Customers: {
          rows: [
            ['id', 'name', 'phone', 'joined', 'balance'],
            [1, 'Ana', '+990123400', new Date(Date.UTC(2026, 2, 14, 9, 30)), 1234.5],
            [2, 'Ben, Jr.', '+990123411', new Date(Date.UTC(2025, 11, 1)), 0.25],
            [3, 'Cy', 447700900123, new Date(Date.UTC(2024, 0, 2)), -7],
            [4, 'Di', { formula: '"+990"&"123422"', result: '+990123422' }, null, 3],
          ],
          formats: { 4: 'dd/mm/yyyy hh:mm', 5: '#,##0.00' },
        },
        Other: { rows: [['phone'], ['+990123499']] },
      });
      const run = await scan(path);
      expect(run.code, run.stderr).toBe(0);
      expect(run.said[0]).toEqual(started());
      const rows = readCsv(join(run.outDir, 'results.csv'));
      expect(rows.map((r) => [r.id, r.name, r.phone, r.joined, r.balance])).toEqual([
        ['1', 'Ana', '+990123400', '14/03/2026 09:30', '1,234.50'],
        ['2', 'Ben, Jr.', '+990123411', '01/12/2025 00:00', '0.25'],
        ['3', 'Cy', '4.47701E+11', '02/01/2024 00:00', '-7.00'],
        ['4', 'Di', '+990123422', '', '3.00'],
      ]);
      expect(rows.map((r) => r.reachability_status)).toEqual(['OK', 'OK', 'EXCEL_MANGLED', 'OK']);
    },
    TIMEOUT,
  );

  it(
    'the scientific text Excel shows (4.47E+11) in a text cell is EXCEL_MANGLED, as in a CSV',
    async () => {
      const path = await workbook({ Sheet1: { rows: [['phone'], ['4.47E+11'], ['+990123400']] } });
      const run = await scan(path);
      expect(run.code, run.stderr).toBe(0);
      const rows = readCsv(join(run.outDir, 'results.csv'));
      expect(rows.map((r) => r.reachability_status)).toEqual(['EXCEL_MANGLED', 'OK']);
    },
    TIMEOUT,
  );

  it(
    '--sheet picks a sheet by name',
    async () => {
      const path = await workbook({
        First: { rows: [['phone'], ['+990123400']] },
        'Fleet 2': {
          rows: [
            ['mobile', 'unit'],
            ['+990123411', 'van 7'],
            ['+990123422', 'van 8'],
          ],
        },
      });
      const run = await scan(path, '--sheet', 'Fleet 2');
      expect(run.code, run.stderr).toBe(0);
      expect(run.said[0]).toEqual(started('mobile'));
      const rows = readCsv(join(run.outDir, 'results.csv'));
      expect(rows.map((r) => [r.mobile, r.unit])).toEqual([
        ['+990123411', 'van 7'],
        ['+990123422', 'van 8'],
      ]);
    },
    TIMEOUT,
  );

  it(
    'an unknown sheet: exit 2, one line naming the file and its sheets',
    async () => {
      const path = await workbook({
        First: { rows: [['phone'], ['+990123400']] },
        Second: { rows: [['x']] },
      });
      const run = await scan(path, '--sheet', 'Third');
      expect(run.code, run.stderr).toBe(2);
      expect(run.said).toEqual([`${path}: has no sheet named "Third"; its sheets are "First", "Second"`]);
      expect(existsSync(join(run.outDir, 'results.csv'))).toBe(false);
    },
    TIMEOUT,
  );

  it(
    'a file named .xlsx that is no workbook: exit 2, one line',
    async () => {
      const path = join(mkdtempSync(join(tmpdir(), 'reachscan-xlsx-')), 'crm-export.xlsx');
      writeFileSync(path, 'phone\n+990123400\n');
      const run = await scan(path);
      expect(run.code, run.stderr).toBe(2);
      expect(run.said).toHaveLength(1);
      expect(run.said[0]).toMatch(new RegExp(`^${path}: is not a readable Excel workbook \\(\\.xlsx\\)`));
      expect(run.stderr).not.toMatch(/\n\s+at /);
    },
    TIMEOUT,
  );
});

/** Every cell of a sheet as [value, numFmt] rows, read back with exceljs. */
async function readBack(path: string, sheet: string): Promise<ExcelJS.Worksheet> {
  const book = new ExcelJS.Workbook();
  await book.xlsx.readFile(path);
  const found = book.getWorksheet(sheet);
  if (found === undefined) throw new Error(`no sheet ${sheet}`);
  return found;
}

describe('--xlsx: results.xlsx beside results.csv', () => {
  it(
    'an .xlsx in, results.xlsx out: phone cells are text equal to results.csv, times are dates, the report on a second sheet',
    async () => {
      const path = await workbook({
        Customers: {
          rows: [
            ['id', 'phone'],
            ['1', '+990123400'],
            ['2', '+990123411'],
            ['3', 447700900123],
            ['4', 'not a number'],
          ],
        },
      });
      const run = await scan(path, '--xlsx');
      expect(run.code, run.stderr).toBe(0);
      const csv = readRows(join(run.outDir, 'results.csv'));
      const header = parse(readFileSync(join(run.outDir, 'results.csv')), {
        bom: true,
        to: 1,
      })[0] as string[];
      const sheet = await readBack(join(run.outDir, 'results.xlsx'), 'Results');
      expect(sheet.rowCount).toBe(csv.length + 1);
      expect(sheet.getRow(1).values).toEqual([undefined, ...header]);
      expect(sheet.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
      const phoneColumns = ['phone', 'phone_e164'].map((name) => header.indexOf(name) + 1);
      const checkedAt = header.indexOf('checked_at') + 1;
      csv.forEach((fields, i) => {
        const row = sheet.getRow(i + 2);
        for (const col of phoneColumns) {
          const cell = row.getCell(col);
          expect(cell.type === ExcelJS.ValueType.String || fields[col - 1] === '').toBe(true);
          expect(cell.text).toBe(fields[col - 1]);
        }
        const time = row.getCell(checkedAt);
        if (fields[checkedAt - 1] !== '') {
          expect(time.value).toBeInstanceOf(Date);
          expect((time.value as Date).toISOString().slice(0, 19)).toBe(fields[checkedAt - 1]?.slice(0, 19));
          expect(time.numFmt).toBe('yyyy-mm-dd hh:mm:ss');
        }
      });
      const report = JSON.parse(readFileSync(join(run.outDir, 'report.json'), 'utf8')) as {
        rows: { total: number; invalid: number };
      };
      const figures = new Map<string, unknown>();
      (await readBack(join(run.outDir, 'results.xlsx'), 'Report')).eachRow((row) =>
        figures.set(row.getCell(1).text, row.getCell(2).value),
      );
      expect(figures.get('rows.total')).toBe(report.rows.total);
      expect(figures.get('rows.invalid')).toBe(report.rows.invalid);
      expect(readdirSync(run.outDir).filter((n) => n.endsWith('.partial'))).toEqual([]);
    },
    TIMEOUT,
  );
});
