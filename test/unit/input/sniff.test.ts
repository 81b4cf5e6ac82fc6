import { describe, expect, it } from 'vitest';
import { detectDelimiter, splitLogicalLines } from '../../../src/input/sniff.js';

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
});
