import { describe, expect, it } from 'vitest';
import { writeRefusal } from '../../../src/batch/redis-trouble.js';

describe('writeRefusal: why Redis refuses a write, from its reply', () => {
  it.each([
    [
      "OOM command not allowed when used memory > 'maxmemory'.",
      'Redis refuses writes: it is out of memory (used memory over maxmemory, no key it may evict)',
    ],
    [
      "READONLY You can't write against a read only replica.",
      'Redis refuses writes: it is a read-only replica',
    ],
    [
      'MISCONF Redis is configured to save RDB snapshots, but it is currently not able to persist on disk.',
      'Redis refuses writes: it cannot save its snapshot to disk (stop-writes-on-bgsave-error)',
    ],
  ])('%s', (reply, said) => {
    expect(writeRefusal(new Error(reply))).toBe(said);
  });

  it('anything else is not a refusal', () => {
    expect(writeRefusal(new Error('Connection is closed.'))).toBeNull();
    expect(writeRefusal(new Error('NOSCRIPT No matching script'))).toBeNull();
  });
});
