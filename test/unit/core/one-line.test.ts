import { describe, expect, it } from 'vitest';
import { escapeControls, oneLine, quoted } from '../../../src/core/one-line.js';

describe('oneLine', () => {
  it('leaves plain names as they are, spaces, quotes inside and backslashes included', () => {
    for (const name of [
      'crm.csv',
      'crm export (2).csv',
      'Zoë’s list.csv',
      'C:\\data\\x.csv',
      'say "hi".csv',
      '名前.csv',
    ])
      expect(oneLine(name)).toBe(name);
  });

  it('quotes and escapes a name with a line break, so it cannot start a line of its own', () => {
    const forged = 'x.csv\nreachscan watch: done fake.csv → /tmp/out';
    expect(oneLine(forged)).toBe('"x.csv\\nreachscan watch: done fake.csv → /tmp/out"');
    expect(oneLine(forged)).not.toMatch(/[\n\r]/);
    expect(oneLine('a\r\nb')).toBe('"a\\r\\nb"');
    expect(oneLine('tab\there')).toBe('"tab\\there"');
  });

  it('escapes what a terminal or a viewer would act on: ESC, DEL, C1, U+2028, bidi overrides, BOM, lone surrogates', () => {
    expect(oneLine('\u001b[31mred')).toBe('"\\u001b[31mred"');
    expect(oneLine('a\u007fb\u0085c')).toBe('"a\\u007fb\\u0085c"');
    expect(oneLine('line\u2028sep')).toBe('"line\\u2028sep"');
    expect(oneLine('invoice\u202Etxt.exe')).toBe('"invoice\\u202etxt.exe"');
    expect(oneLine('\ufeffbom.csv')).toBe('"\\ufeffbom.csv"');
    expect(oneLine('half\ud800')).toBe('"half\\ud800"');
    // A whole surrogate pair is a character like any other.
    expect(oneLine('emoji 😀.csv')).toBe('emoji 😀.csv');
  });

  it('quotes what would be ambiguous unquoted: empty, spaces at the ends, a leading quote', () => {
    expect(oneLine('')).toBe('""');
    expect(oneLine(' padded.csv ')).toBe('" padded.csv "');
    expect(oneLine('"quoted".csv')).toBe('"\\"quoted\\".csv"');
  });

  it('quotes as JSON does, so a reader can take the value back with JSON.parse', () => {
    for (const name of ['plain', 'a\nb', 'q"uo\\te', '\u0000\u001f', 'x\u2028y', '\u202e'])
      expect(JSON.parse(quoted(name))).toBe(name);
  });
});

describe('escapeControls', () => {
  it('escapes control characters left in a line, without adding quotes', () => {
    expect(escapeControls("cannot read it (ENOENT: open '/in/a\nb.csv')")).toBe(
      "cannot read it (ENOENT: open '/in/a\\nb.csv')",
    );
    expect(escapeControls('already "quoted\\n" stays')).toBe('already "quoted\\n" stays');
  });
});
