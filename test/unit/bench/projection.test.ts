import { describe, expect, it } from 'vitest';
import {
  clusterShares,
  clusterSlotStarts,
  keySlot,
  linearFit,
  memoryPerMaster,
} from '../../../bench/lib/projection.js';

describe('linearFit', () => {
  it('is the least-squares line: exact through points on a line, the mean slope through scattered ones', () => {
    const exact = linearFit([
      [1, 12],
      [2, 22],
      [5, 52],
    ]);
    expect(exact.slope).toBeCloseTo(10);
    expect(exact.intercept).toBeCloseTo(2);
    expect(exact.at(100)).toBeCloseTo(1002);
    const scattered = linearFit([
      [0, 1],
      [1, 1],
      [2, 3],
    ]);
    expect(scattered.slope).toBeCloseTo(1);
    expect(scattered.intercept).toBeCloseTo(2 / 3);
  });

  it('needs two different x', () => {
    expect(() => linearFit([[1, 2]])).toThrow(RangeError);
  });
});

describe('keySlot', () => {
  it('is Redis Cluster slot of a key, from its hash tag when it has a non-empty one', () => {
    // The values of the Redis Cluster specification.
    expect(keySlot('123456789')).toBe(0x31c3);
    expect(keySlot('foo')).toBe(12182);
    expect(keySlot('{user1000}.following')).toBe(keySlot('user1000'));
  });
});

describe('cluster shares', () => {
  it('splits the slots as redis-cli --cluster create does', () => {
    expect(clusterSlotStarts(3)).toEqual([0, 5461, 10923]);
    expect(clusterSlotStarts(6)).toEqual([0, 2731, 5461, 8192, 10923, 13653]);
  });

  it('counts every bucket once, and finds the master of the queue tag', () => {
    for (const masters of [3, 6]) {
      const shares = clusterShares(masters);
      expect(shares.bucketsPerMaster).toHaveLength(masters);
      expect(shares.bucketsPerMaster.reduce((a, b) => a + b, 0)).toBe(64);
      const [start, next] = clusterSlotStarts(masters).slice(shares.batchMaster);
      expect(keySlot('{reachscan}')).toBeGreaterThanOrEqual(start ?? NaN);
      expect(keySlot('{reachscan}')).toBeLessThan(next ?? 16_384);
    }
  });

  it("puts the batch's keys on one master, the history by buckets on each", () => {
    const shares = { masters: 2, buckets: 4, bucketsPerMaster: [1, 3], batchMaster: 0 };
    const memory = memoryPerMaster(shares, { baseline: 1, history: 400, batchPeak: 50 });
    expect(memory).toEqual({ batchMaster: 1 + 100 + 50, largestOther: 1 + 300, even: 1 + 200 + 50 });
  });
});
