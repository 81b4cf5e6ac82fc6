import { describe, expect, it } from 'vitest';
import {
  decodeBytes,
  detectEncodingOf,
  encodingNote,
  firstInvalidUtf8,
  latin1ToWindows1252,
} from '../../../src/input/encoding.js';

describe('encoding detection', () => {
  it('UTF-8, with or without BOM, is UTF-8', () => {
    expect(detectEncodingOf(Buffer.from('id,name\n1,José €\n'))).toEqual({
      encoding: 'utf-8',
      firstInvalid: null,
      bom: false,
    });
    expect(detectEncodingOf(Buffer.from('\ufeffid\n1\n')).bom).toBe(true);
  });

  it('bytes that are not UTF-8 make the file Windows-1252, naming the first one and its line', () => {
    const bytes = Buffer.from('id,name\r\n1,Ana\r2,Jos\xe9\n', 'latin1');
    expect(detectEncodingOf(bytes)).toEqual({
      encoding: 'windows-1252',
      firstInvalid: { line: 3, byte: 0xe9 },
      bom: false,
    });
    expect(encodingNote('crm.csv', detectEncodingOf(bytes))).toBe(
      'crm.csv: line 3: not UTF-8 text (byte 0xE9); the file is read as Windows-1252 (Latin-1), as Excel\'s plain "CSV" writes it',
    );
  });

  it('a UTF-8 BOM keeps UTF-8 even with a stray byte, and says so', () => {
    const verdict = detectEncodingOf(Buffer.from('\xef\xbb\xbfid\n\xe9\n', 'latin1'));
    expect(verdict.encoding).toBe('utf-8');
    expect(encodingNote('f.csv', verdict)).toMatch(/^f\.csv: line 2: not valid UTF-8 \(byte 0xE9\)/);
  });

  it.each([
    ['ascii', [0x61, 0x62], 2],
    ['overlong NUL', [0x61, 0xc0, 0x80], 1],
    ['surrogate', [0xed, 0xa0, 0x80], 0],
    ['cut 3-byte sequence', [0x61, 0xe2, 0x82], 1],
    ['4-byte emoji', [0xf0, 0x9f, 0x98, 0x80], 4],
  ])('first invalid UTF-8 byte: %s', (_name, bytes, at) => {
    expect(firstInvalidUtf8(Buffer.from(bytes))).toBe(at);
  });

  it('decodes Windows-1252, where Latin-1 has control codes at 0x80–0x9F', () => {
    expect(latin1ToWindows1252(Buffer.from([0x80, 0x96, 0x92, 0xe9]).toString('latin1'))).toBe('€–’é');
    expect(decodeBytes(Buffer.from('M\xfcller', 'latin1'), 'windows-1252')).toBe('Müller');
  });
});
