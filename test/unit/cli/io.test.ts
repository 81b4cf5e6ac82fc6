import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { lineWriter } from '../../../src/cli/io.js';

describe('lineWriter', () => {
  it('writes what it is given as exactly one line, whatever the text holds', () => {
    let written = '';
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        written += chunk.toString();
        done();
      },
    });
    const say = lineWriter(stream, 'reachscan watch: ');
    say('taken a.csv → processing/a.csv');
    say("cannot take b.csv (EACCES: open '/in/b\nreachscan watch: done c.csv')");
    expect(written.split('\n')).toEqual([
      'reachscan watch: taken a.csv → processing/a.csv',
      "reachscan watch: cannot take b.csv (EACCES: open '/in/b\\nreachscan watch: done c.csv')",
      '',
    ]);
  });
});
