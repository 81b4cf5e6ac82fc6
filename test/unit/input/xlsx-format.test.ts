import { describe, expect, it } from 'vitest';
import { formatDate, formatGeneral, formatNumber, isDateFormat } from '../../../src/input/xlsx-format.js';

describe('a cell as Excel shows it', () => {
  it.each([
    [447700900123, '4.47701E+11'],
    [7700900123, '7700900123'],
    [0.1 + 0.2, '0.3'],
    [1234.5, '1234.5'],
    [-7, '-7'],
    [0, '0'],
  ])('General: %s → %s', (value, shown) => {
    expect(formatGeneral(value)).toBe(shown);
  });

  it.each([
    [1234.5, '#,##0.00', '1,234.50'],
    [1234567, '#,##0', '1,234,567'],
    [0.256, '0.0%', '25.6%'],
    [447700900123, '0', '447700900123'],
    [447700900123, '0.00E+00', '4.48E+11'],
    [-5, '0.00;(0.00)', '(5.00)'],
    [12, '"£"#,##0.00', '£12.00'],
    [3, '@', '3'],
    [0.5, 'General', '0.5'],
  ])('%s with %s → %s', (value, format, shown) => {
    expect(formatNumber(value, format)).toBe(shown);
  });

  it.each([
    ['yyyy-mm-dd', '2026-03-14'],
    ['dd/mm/yyyy hh:mm', '14/03/2026 09:05'],
    ['mm-dd-yy', '3/14/2026'],
    ['d mmm yyyy', '14 Mar 2026'],
    ['dddd, mmmm d', 'Saturday, March 14'],
    ['h:mm AM/PM', '9:05 AM'],
    ['hh:mm:ss', '09:05:07'],
  ])('a date with %s → %s', (format, shown) => {
    expect(formatDate(new Date(Date.UTC(2026, 2, 14, 9, 5, 7)), format)).toBe(shown);
  });

  it('tells date formats from number formats', () => {
    expect(isDateFormat('dd/mm/yyyy')).toBe(true);
    expect(isDateFormat('[$-409]h:mm AM/PM')).toBe(true);
    expect(isDateFormat('#,##0.00 "days"')).toBe(false);
    expect(isDateFormat('General')).toBe(false);
  });
});
