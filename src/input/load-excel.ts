import type ExcelJS from 'exceljs';

/**
 * exceljs, loaded the first time an Excel file is read or written. Loaded with the program, it added about 30 MB
 * to every process (a worker, a scan of a CSV file) that never touches one.
 */
export async function loadExcel(): Promise<typeof ExcelJS> {
  // A CommonJS package: imported at run time, its exports are the default export.
  const loaded = (await import('exceljs')) as unknown as { default: typeof ExcelJS };
  return loaded.default;
}
