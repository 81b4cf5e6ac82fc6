import { describe, expect, it } from 'vitest';
import {
  decodeBytes,
  detectEncodingOf,
  EncodingScan,
  encodingNotes,
  firstInvalidUtf8,
  latin1ToWindows1252,
} from '../../../src/input/encoding.js';

describe('encoding detection', () => {
  it('UTF-8, with or without BOM, is UTF-8', () => {
    expect(detectEncodingOf(Buffer.from('id,name\n1,José €\n'))).toMatchObject({
      encoding: 'utf-8',
      lineBreak: 'lf',
      firstInvalid: null,
      invalidLineCount: 0,
      bom: false,
    });
    expect(detectEncodingOf(Buffer.from('\ufeffid\n1\n')).bom).toBe(true);
  });

  it('bytes that are not UTF-8, in a file with no UTF-8 character, make it Windows-1252, naming the first line', () => {
    // The lone CR is inside line 2 (the file's lines end with LF and CRLF).
    const bytes = Buffer.from('id,name\r\n1,Ana\r2,Jos\xe9\n3,Ren\xe9\n', 'latin1');
    expect(detectEncodingOf(bytes)).toMatchObject({
      encoding: 'windows-1252',
      lineBreak: 'lf',
      firstInvalid: { line: 2, byte: 0xe9 },
      invalidLineCount: 2,
      bom: false,
    });
    expect(encodingNotes('crm.csv', detectEncodingOf(bytes))).toEqual([
      'crm.csv: line 2: not UTF-8 text (byte 0xE9); the file is read as Windows-1252 (Latin-1), as Excel\'s plain "CSV" writes it',
    ]);
  });

  it('a UTF-8 file with a few bytes that are not stays UTF-8, and names each such line', () => {
    const bytes = Buffer.concat([
      Buffer.from('id,name\n1,Zoë\n2,'),
      Buffer.from('Jos\xe9\n', 'latin1'),
      Buffer.from('3,Zoë\n4,'),
      Buffer.from('M\xfcller \x96 GmbH', 'latin1'),
    ]);
    const verdict = detectEncodingOf(bytes);
    expect(verdict).toMatchObject({
      encoding: 'utf-8-mixed',
      invalidLines: [
        { line: 3, byte: 0xe9 },
        { line: 5, byte: 0xfc },
      ],
      invalidLineCount: 2,
      lastInvalidLine: 5,
    });
    expect(encodingNotes('f.csv', verdict)).toEqual([
      'f.csv: line 3: not UTF-8 text (byte 0xE9); its bytes that are not UTF-8 are read as Windows-1252 (Latin-1), the rest of the file as UTF-8',
      'f.csv: line 5: not UTF-8 text (byte 0xFC); its bytes that are not UTF-8 are read as Windows-1252 (Latin-1), the rest of the file as UTF-8',
    ]);
    expect(decodeBytes(bytes, 'utf-8-mixed')).toBe('id,name\n1,Zoë\n2,José\n3,Zoë\n4,Müller – GmbH');
  });

  it('names the first 20 such lines, then counts the others up to the last', () => {
    const lines = ['id,name', '1,Zoë'];
    for (let i = 0; i < 25; i++) lines.push(`${i},Jos\xe9`);
    const verdict = detectEncodingOf(
      Buffer.concat([Buffer.from('id,name\n1,Zoë\n'), Buffer.from(lines.slice(2).join('\n'), 'latin1')]),
    );
    const notes = encodingNotes('f.csv', verdict);
    expect(notes).toHaveLength(21);
    expect(notes[19]).toMatch(/^f\.csv: line 22: /);
    expect(notes[20]).toBe(
      'f.csv: 5 more lines up to line 27 are not UTF-8 text either, and read as Windows-1252 (Latin-1) too',
    );
  });

  it("a UTF-8 BOM keeps UTF-8 even with no other UTF-8 character; the stray byte's line says so", () => {
    const verdict = detectEncodingOf(Buffer.from('\xef\xbb\xbfid\n\xe9\n', 'latin1'));
    expect(verdict.encoding).toBe('utf-8-mixed');
    expect(encodingNotes('f.csv', verdict)).toEqual([
      'f.csv: line 2: not UTF-8 text (byte 0xE9); its bytes that are not UTF-8 are read as Windows-1252 (Latin-1), the rest of the file as UTF-8',
    ]);
  });

  it('a file with no LF at all has CR line ends, and its lines are counted by them', () => {
    const verdict = detectEncodingOf(Buffer.from('id\r1\rJos\xe9\r', 'latin1'));
    expect(verdict).toMatchObject({ lineBreak: 'cr', firstInvalid: { line: 3, byte: 0xe9 } });
  });

  it('a multi-byte character cut by a chunk boundary is still UTF-8', () => {
    const scan = new EncodingScan();
    const bytes = Buffer.from('id\nZoë\n');
    scan.push(bytes.subarray(0, 6)); // ends after the first byte of ë
    scan.push(bytes.subarray(6));
    expect(scan.finish()).toMatchObject({ encoding: 'utf-8', firstInvalid: null });
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
