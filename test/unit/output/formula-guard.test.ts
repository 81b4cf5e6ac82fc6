import { describe, expect, it } from 'vitest';
import { guardFormula } from '../../../src/output/formula-guard.js';

describe('guardFormula', () => {
  it.each([
    '=1+1',
    '=HYPERLINK("http://x")',
    '+cmd|x',
    '-2+3',
    '@SUM(A1)',
    '\tx',
    '\rx',
    '\t123',
    '\r5',
    '+44 abc',
  ])('neutralises %j', (cell) => {
    expect(guardFormula(cell)).toBe(`'${cell}`);
  });
  it.each(['+447911123456', '+44 7911 123456', '-12.5', '+1 (415) 555-0100', 'plain', '', 'a=b'])(
    'leaves %j alone',
    (cell) => {
      expect(guardFormula(cell)).toBe(cell);
    },
  );
});
