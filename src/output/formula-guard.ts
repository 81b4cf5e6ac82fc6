/**
 * Spreadsheet formula injection guard (OWASP "CSV injection"): a cell starting with `=`, `+`, `-`, `@`, tab or
 * CR is prefixed with `'` so Excel and Sheets show it as text instead of running it. Plain numbers such as
 * `+447911123456` or `-12.5` are left alone: they are data, not formulas.
 */
const TRIGGER = /^[=+\-@\t\r]/;
const PLAIN_NUMBER = /^[+-]?[\d\s().-]*\d[\d\s().-]*$/;

export function guardFormula(cell: string): string {
  if (!TRIGGER.test(cell)) return cell;
  // A leading tab or CR is never part of a plain number.
  if (PLAIN_NUMBER.test(cell) && !/^[\t\r]/.test(cell)) return cell;
  return `'${cell}`;
}
