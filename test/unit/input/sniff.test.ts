import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  detectDelimiter,
  MAX_HEADER_BYTES,
  sniffInput,
  splitLogicalLines,
} from '../../../src/input/sniff.js';

describe('delimiter detection', () => {
  it.each([
    [['id,phone,name', '1,+44,a', '2,+44,b'], ','],
    [['id;phone;name', '1;+44;"a, b"', '2;+44;c'], ';'],
    [['id\tphone', '1\t+44'], '\t'],
    [['id|phone|note', '1|+44|x;y', '2|+44|z'], '|'],
    [['phone', '+44'], ','],
    // Commas inside quotes do not count.
    [['"name, full";phone', '"a, b";+44'], ';'],
  ] as const)('%j → %j', (lines, delimiter) => {
    expect(detectDelimiter(lines)).toBe(delimiter);
  });

  it('keeps quoted newlines inside one logical line, and drops CR', () => {
    expect(splitLogicalLines('a,b\r\n"x\ny",z\r\n\r\nlast')).toEqual(['a,b', '"x\ny",z', 'last']);
  });
});

describe('line splitting for sniffing', () => {
  it('takes a lone CR as a line break (old Mac exports), outside quotes only', () => {
    expect(splitLogicalLines('a,b\r1,"x\ry"\r2,z')).toEqual(['a,b', '1,"x\ry"', '2,z']);
  });

  it('keeps a lone CR in its line when the lines end with LF or CRLF', () => {
    expect(splitLogicalLines('a,b\n1,Jo\rhn\r\n2,c')).toEqual(['a,b', '1,Jo\rhn', '2,c']);
    expect(splitLogicalLines('a,b\r\n1,Jo\rhn', 'lf')).toEqual(['a,b', '1,Jo\rhn']);
  });
});

describe('sniffInput refuses what it cannot read', () => {
  const dir = mkdtempSync(join(tmpdir(), 'reachscan-sniff-'));
  let n = 0;
  const file = (content: string | Buffer) => {
    const path = join(dir, `f${n++}.csv`);
    writeFileSync(path, content);
    return path;
  };

  it.each([
    ['little-endian', Buffer.from([0xff, 0xfe, 0, 0, 0x70, 0, 0, 0, 0x0a, 0, 0, 0])],
    ['big-endian', Buffer.from([0, 0, 0xfe, 0xff, 0, 0, 0, 0x70, 0, 0, 0, 0x0a])],
  ])('UTF-32 %s with its BOM: called UTF-32', async (order, bytes) => {
    await expect(sniffInput(file(bytes), 'u.csv')).rejects.toThrow(
      `u.csv: the file is UTF-32 text (${order}, with a BOM); save it as UTF-8 (CSV UTF-8 in Excel)`,
    );
  });

  it('a header row over 1 MiB, before reading the rest', async () => {
    const path = file(`${'h'.repeat(MAX_HEADER_BYTES + 1)}\n1\n`);
    await expect(sniffInput(path, 'big.csv')).rejects.toThrow(
      `big.csv: line 1: the header row is longer than the limit of 1 MiB (no line break in the first ${MAX_HEADER_BYTES} bytes); is this a CSV file?`,
    );
    // No line break at all, in a file over the limit.
    await expect(sniffInput(file('x'.repeat(MAX_HEADER_BYTES + 10)), 'one-line.csv')).rejects.toThrow(
      /^one-line\.csv: line 1: the header row is longer than the limit of 1 MiB/,
    );
  });

  it('a header longer than the first 64 KiB but under 1 MiB is read whole', async () => {
    const names = Array.from({ length: 10_000 }, (_, i) => `column_${i}`);
    const shape = await sniffInput(file(`phone,${names.join(',')}\n+990123400,${names.join(',')}\n`));
    expect(shape.headers).toHaveLength(10_001);
    expect(shape.headers.at(-1)).toBe('column_9999');
  });
});
