import { describe, expect, it } from 'vitest';
import { historyOptions } from '../../../src/config/settings.js';
import { ConfigError } from '../../../src/core/errors.js';
import {
  bucketOf,
  bucketPrefix,
  bucketPrefixes,
  historyKeyPattern,
  numberDigest,
  numberKey,
  numberKeyOf,
  parseHistoryKey,
} from '../../../src/history/number-key.js';

const SECRET = 'a-secret-of-at-least-16-chars';
const fleet = Array.from({ length: 6_400 }, (_, i) => `+4474${String(i).padStart(8, '0')}`);

describe('history buckets', () => {
  it('puts the bucket inside the hash tag, and keeps the single-slot prefix for one bucket', () => {
    expect(bucketPrefix('{reachscan-state}:', 64, 7)).toBe('{reachscan-state:7}:');
    expect(bucketPrefix('app:{fleet}:h:', 64, 63)).toBe('app:{fleet:63}:h:');
    // Redis's rule: the first `{`, then the first `}` after it.
    expect(bucketPrefix('a}b{tag}{x}:', 4, 2)).toBe('a}b{tag:2}{x}:');
    expect(bucketPrefix('{reachscan-state}:', 1, 0)).toBe('{reachscan-state}:');
    expect(new Set(bucketPrefixes('{s}:', 64)).size).toBe(64);
  });

  it('assigns a number the same bucket every time, from its key name (HMAC or number)', () => {
    const history = { prefix: '{reachscan-state}:', buckets: 64 };
    const number = '+447400123456';
    const hashed = numberKeyOf(history, SECRET, number);
    const digest = numberDigest(SECRET, number);
    expect(hashed.key).toBe(`{reachscan-state:${bucketOf(digest, 64)}}:${digest}`);
    expect(hashed.bucket).toBe(`{reachscan-state:${bucketOf(digest, 64)}}:`);
    expect(numberKey(history, SECRET, number)).toBe(hashed.key);
    expect(numberKey(history, null, number)).toBe(`{reachscan-state:${bucketOf(number, 64)}}:${number}`);
    // A known value: the bucket is CRC-32 (IEEE) mod the count, so it never changes between versions.
    expect(bucketOf('123456789', 1 << 30)).toBe(0xcbf43926 % (1 << 30));
    // Options from before buckets (none given): the single-slot layout.
    expect(numberKey({ prefix: '{s}:' }, null, number)).toBe(`{s}:${number}`);
  });

  it('spreads consecutive numbers and their HMACs evenly over the buckets', () => {
    for (const ids of [fleet, fleet.map((n) => numberDigest(SECRET, n))]) {
      const counts = new Array<number>(64).fill(0);
      for (const id of ids) counts[bucketOf(id, 64)] = (counts[bucketOf(id, 64)] ?? 0) + 1;
      // 100 a bucket on average; a fair spread stays well within half and twice that.
      expect(Math.min(...counts)).toBeGreaterThan(50);
      expect(Math.max(...counts)).toBeLessThan(200);
    }
  });

  it('reads keys of any layout back, and nothing else under the prefix', () => {
    const prefix = '{reachscan-state}:';
    const digest = numberDigest(SECRET, '+447400123456');
    expect(parseHistoryKey(prefix, `{reachscan-state}:${digest}`)).toEqual({
      kind: 'state',
      bucket: prefix,
      index: null,
      id: digest,
    });
    expect(parseHistoryKey(prefix, '{reachscan-state:12}:+447400123456')).toEqual({
      kind: 'state',
      bucket: '{reachscan-state:12}:',
      index: 12,
      id: '+447400123456',
    });
    expect(parseHistoryKey(prefix, '{reachscan-state:3}:purposes')).toEqual({
      kind: 'purposes',
      bucket: '{reachscan-state:3}:',
      index: 3,
    });
    expect(parseHistoryKey(prefix, '{reachscan-state}:purposes')).toMatchObject({
      kind: 'purposes',
      index: null,
    });
    for (const other of [
      '{reachscan-state}:layout',
      '{reachscan-state}:runs:nightly',
      '{reachscan-state}:monitor:index',
      '{reachscan-state-x}:+447400123456',
      '{reachscan-simulate-state}:+447400123456',
      '{reachscan-state:1}x+447400123456',
      '{reachscan-state}:+4474001234567890123',
      '{reachscan}:+447400123456',
    ])
      expect(parseHistoryKey(prefix, other), other).toBeNull();
    expect(historyKeyPattern(prefix)).toBe('{reachscan-state[}:]*');
    expect(historyKeyPattern('{a*b}:')).toBe('{a\\*b[}:]*');
  });
});

describe('REACHSCAN_STATE_BUCKETS', () => {
  it('is 64 by default, and any whole number from 1 to 16384', () => {
    expect(historyOptions({}, false).buckets).toBe(64);
    expect(historyOptions({ REACHSCAN_STATE_BUCKETS: '1' }, false).buckets).toBe(1);
    expect(historyOptions({ REACHSCAN_STATE_BUCKETS: '16384' }, false).buckets).toBe(16_384);
  });

  it.each(['0', '16385', '2.5', 'many', '-4'])('refuses %s with a line naming the variable', (value) => {
    expect(() => historyOptions({ REACHSCAN_STATE_BUCKETS: value }, false)).toThrow(ConfigError);
    expect(() => historyOptions({ REACHSCAN_STATE_BUCKETS: value }, false)).toThrow(
      `REACHSCAN_STATE_BUCKETS must be a whole number between 1 and 16384 (got "${value}")`,
    );
  });
});
