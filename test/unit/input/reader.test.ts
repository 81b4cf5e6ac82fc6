import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLineCounter, readInput, readInputBatches, type InputItem } from '../../../src/input/reader.js';
import { sniffInput } from '../../../src/input/sniff.js';

const dir = mkdtempSync(join(tmpdir(), 'reachscan-reader-'));
let n = 0;

/** Writes `content` to a file and reads it the way ingest does (a shape rebuilt without the encoding). */
async function read(content: string | Buffer, options: { maxRecordBytes?: number } = {}) {
  const path = join(dir, `f${n++}.csv`);
  writeFileSync(path, content);
  const shape = await sniffInput(path);
  const items: InputItem[] = [];
  for await (const item of readInput(
    path,
    { delimiter: shape.delimiter, headers: shape.headers, sizeBytes: 0 },
    path,
    options,
  ))
    items.push(item);
  return items.map((i) => (i.kind === 'record' ? { line: i.line, fields: i.fields } : i));
}

describe('readInput: an unclosed quote costs one line, not the rest of the file', () => {
  it.each([
    ['LF', '\n'],
    ['CRLF', '\r\n'],
    ['CR', '\r'],
  ])('%s: rejects the line that opens the quote and reads on from the next', async (_name, eol) => {
    const items = await read(
      [
        'id,phone,note',
        '1,+990123400,ok',
        '2,+990123411,"never closed',
        '3,+990123422,ok',
        '4,+990123433,ok',
        '',
      ].join(eol),
    );
    expect(items).toEqual([
      { line: 2, fields: ['1', '+990123400', 'ok'] },
      {
        kind: 'reject',
        line: 3,
        raw: '2,+990123411,"never closed',
        reason:
          'quote not closed: the quoted field opened on line 3 never ends; this line is rejected and reading goes on from line 4',
      },
      { line: 4, fields: ['3', '+990123422', 'ok'] },
      { line: 5, fields: ['4', '+990123433', 'ok'] },
    ]);
  });

  it('a line of another field count right after it is a reject, not the length every record must have', async () => {
    const items = await read(
      'id,phone,note\n1,+990123400,ok\n2,+990123411,"never closed\n3,too,many,fields\n4,+990123422,ok\n',
    );
    expect(items).toEqual([
      { line: 2, fields: ['1', '+990123400', 'ok'] },
      expect.objectContaining({ kind: 'reject', line: 3 }),
      { kind: 'reject', line: 4, raw: '3,too,many,fields', reason: 'wrong field count: expected 3, got 4' },
      { line: 5, fields: ['4', '+990123422', 'ok'] },
    ]);
  });

  it('a record over the size limit: its first line is rejected (raw cut short), the rest is read', async () => {
    const items = await read(
      `id,phone,note\n1,+990123400,ok\n2,+990123411,${'x'.repeat(50_000)}\n3,+990123422,ok`,
      {
        maxRecordBytes: 20_000,
      },
    );
    expect(items).toHaveLength(3);
    expect(items[0]).toEqual({ line: 2, fields: ['1', '+990123400', 'ok'] });
    expect(items[1]).toMatchObject({
      kind: 'reject',
      line: 3,
      reason:
        'a record over 20000 bytes from line 3 (a runaway field or an unclosed quote); this line is rejected (raw shows its first 10000 characters) and reading goes on from line 4',
    });
    expect((items[1] as { raw: string }).raw).toBe(`2,+990123411,${'x'.repeat(10_000 - 13)}…`);
    expect(items[2]).toEqual({ line: 4, fields: ['3', '+990123422', 'ok'] });
  });
});

describe('readInput: line numbers and reasons', () => {
  it('counts a CRLF inside a quoted field as one line, and blank lines as lines', async () => {
    const items = await read('id,note\r\n1,"a\r\nb\r\nc"\r\n\r\n2,x,extra\r\n3,y\r\n');
    expect(items).toEqual([
      { line: 2, fields: ['1', 'a\r\nb\r\nc'] },
      { kind: 'reject', line: 6, raw: '2,x,extra', reason: 'wrong field count: expected 2, got 3' },
      { line: 7, fields: ['3', 'y'] },
    ]);
  });

  it('says when a line uses another delimiter than the file', async () => {
    const items = await read('id;phone;note\n1;+990123400;a\n2,+990123411,b\n3;+990123422;c\n');
    expect(items[1]).toEqual({
      kind: 'reject',
      line: 3,
      raw: '2,+990123411,b',
      reason:
        'wrong field count: expected 3, got 1; this line seems to be separated by "," where the file uses ";"',
    });
  });

  it('reads a file that is not UTF-8 as Windows-1252, even when the odd byte is past the first MiB', async () => {
    const filler = Array.from({ length: 40_000 }, (_, i) => `${i},+990123400,plain ascii text`).join('\n');
    const items = await read(
      Buffer.from(`id,phone,note\n${filler}\n40000,+990123411,Jos\xe9 \x96 \x80\n`, 'latin1'),
    );
    expect(items).toHaveLength(40_001);
    expect(items[40_000]).toEqual({ line: 40_002, fields: ['40000', '+990123411', 'José – €'] });
  });
});

describe('readInputBatches: a file over many reads', () => {
  it('hands over the items readInput gives, every line once and in order, rejects in their place', async () => {
    const rows = Array.from({ length: 8_000 }, (_, i) => {
      if (i === 1_234) return `${i},+990123400,an extra,field`;
      if (i === 6_000) return `${i},+990123400,"a quote never closed`;
      // No quote after the one never closed: the rest of the file is read in a second pass.
      if (i > 6_000) return `${i},+990123400,text ${'x'.repeat(i % 40)}`;
      return `${i},+990123400,"text, quoted ${'x'.repeat(i % 40)}"`;
    });
    const path = join(dir, `f${n++}.csv`);
    writeFileSync(path, `id,phone,note\n${rows.join('\n')}\n`);
    const { delimiter, headers } = await sniffInput(path);
    const shape = { delimiter, headers, sizeBytes: 0 };
    const batches: (readonly InputItem[])[] = [];
    for await (const batch of readInputBatches(path, shape, path)) batches.push(batch);
    expect(batches.length).toBeGreaterThan(5);
    const items = batches.flat();
    const single: InputItem[] = [];
    for await (const item of readInput(path, shape, path)) single.push(item);
    expect(items).toEqual(single);
    expect(items.map((item) => item.line)).toEqual(rows.map((_, i) => i + 2));
    expect(items.filter((item) => item.kind === 'reject').map((item) => item.line)).toEqual([1_236, 6_002]);
    expect(items.filter((item) => item.kind === 'record').map((item) => item.index)).toEqual(
      Array.from({ length: 7_998 }, (_, i) => i),
    );
  });
});

describe('readInputBatches from a record boundary', () => {
  it('reads on as the whole read did: the same records, lines and indexes, and the rejects after it', async () => {
    const rows = Array.from({ length: 3_000 }, (_, i) => {
      if (i === 2_500) return `${i},+990123400,"a quote never closed`;
      if (i > 2_500) return `${i},+990123400,plain`;
      // Right after record 1999: the boundary there starts on a malformed line.
      if (i % 7 === 0) return `${i},+990123400,"two\nlines"`;
      return i === 2_000 ? `${i},too,many,fields` : `${i},+990123400,one line`;
    });
    const path = join(dir, `f${n++}.csv`);
    writeFileSync(path, `id,phone,note\n${rows.join('\n')}\n`);
    const { delimiter, headers } = await sniffInput(path);
    const shape = { delimiter, headers, sizeBytes: 0 };
    const whole: InputItem[] = [];
    for await (const item of readInput(path, shape, path)) whole.push(item);
    for (const at of [0, 699, 1_500, 1_999]) {
      const record = whole.find((item) => item.kind === 'record' && item.index === at);
      if (record?.kind !== 'record') throw new Error(`no record ${at}`);
      const from = { offset: record.bytes, line: record.endLine + 1, index: at + 1 };
      const rest: InputItem[] = [];
      for await (const item of readInput(path, shape, path, { from })) rest.push(item);
      expect(rest).toEqual(whole.slice(whole.indexOf(record) + 1));
    }
  });
});

describe('readInput: a lone CR', () => {
  it('stays in its field in a file of LF lines, and the lines after it keep their numbers', async () => {
    const items = await read('id,name,phone\n1,Jo\rhn,+990123400\n2,Ann,+990123411\n');
    expect(items).toEqual([
      { line: 2, fields: ['1', 'Jo\rhn', '+990123400'] },
      { line: 3, fields: ['2', 'Ann', '+990123411'] },
    ]);
  });

  it('stays in its field in a file of CRLF lines, at the start or the end of a field too', async () => {
    const items = await read('id,name\r\n1,Jo\rhn\r\n\r2,x\r\n3,y\r\r\n\r\n4,z\r\n');
    expect(items).toEqual([
      { line: 2, fields: ['1', 'Jo\rhn'] },
      { line: 3, fields: ['\r2', 'x'] },
      { line: 4, fields: ['3', 'y\r'] },
      { line: 6, fields: ['4', 'z'] },
    ]);
  });

  it('a blank CRLF line in a file of LF lines is a blank line, not a CR in the next field', async () => {
    expect(await read('a,b\n\r\n1,2\n3,4\n')).toEqual([
      { line: 3, fields: ['1', '2'] },
      { line: 4, fields: ['3', '4'] },
    ]);
  });

  it('an unclosed quote after a lone CR costs its own line only, named by its number', async () => {
    const items = await read('id,note\n1,a\rb\n2,"open\n3,c\n');
    expect(items).toEqual([
      { line: 2, fields: ['1', 'a\rb'] },
      expect.objectContaining({ kind: 'reject', line: 3, raw: '2,"open' }),
      { line: 4, fields: ['3', 'c'] },
    ]);
  });

  it('ends lines in a file with no LF at all (old Mac exports)', async () => {
    expect(await read('id,name\r1,Ann\r\r2,Bob\r')).toEqual([
      { line: 2, fields: ['1', 'Ann'] },
      { line: 4, fields: ['2', 'Bob'] },
    ]);
  });
});

describe('readInput: a UTF-8 file with a few bytes that are not', () => {
  const mixed = (bom: boolean) =>
    Buffer.concat([
      Buffer.from(`${bom ? '\ufeff' : ''}id,name,phone\n1,Zoë,+990123400\n2,`),
      Buffer.from('Jos\xe9,+990123411\n', 'latin1'),
      Buffer.from('3,Zoë "Z",+990123422\n4,'),
      Buffer.from('M\xfcller \x96,Zoë,+990123433', 'latin1'),
      Buffer.from(',Zoë\n'),
    ]);

  it.each([
    ['without a BOM', false],
    ['with a UTF-8 BOM', true],
  ])('%s: UTF-8 stays UTF-8, the fields that are not are read as Windows-1252', async (_name, bom) => {
    const items = await read(mixed(bom));
    expect(items).toEqual([
      { line: 2, fields: ['1', 'Zoë', '+990123400'] },
      { line: 3, fields: ['2', 'José', '+990123411'] },
      { line: 4, fields: ['3', 'Zoë "Z"', '+990123422'] },
      expect.objectContaining({ kind: 'reject', line: 5, raw: '4,Müller –,Zoë,+990123433,Zoë' }),
    ]);
  });

  it('sniffing names each such line in its notes, and reads the header as UTF-8', async () => {
    const path = join(dir, `f${n++}.csv`);
    writeFileSync(path, mixed(true));
    const shape = await sniffInput(path, 'crm.csv');
    expect(shape.headers).toEqual(['id', 'name', 'phone']);
    expect(shape.encoding).toBe('utf-8-mixed');
    expect(shape.notes).toEqual([
      'crm.csv: line 3: not UTF-8 text (byte 0xE9); its bytes that are not UTF-8 are read as Windows-1252 (Latin-1), the rest of the file as UTF-8',
      'crm.csv: line 5: not UTF-8 text (byte 0xFC); its bytes that are not UTF-8 are read as Windows-1252 (Latin-1), the rest of the file as UTF-8',
    ]);
  });
});

describe('createLineCounter', () => {
  it('takes back the extra line csv-parse counts for each quoted CRLF', () => {
    const lines = createLineCounter(0);
    // csv-parse reports the end line 3 for `1,"a<CRLF>b"` on lines 2–3 (it counted the CRLF twice).
    expect(lines.place(4, '1,"a\r\nb"\r\n')).toEqual({ start: 2, end: 3 });
    expect(lines.place(5, '2,c\r\n')).toEqual({ start: 4, end: 4 });
  });
});
