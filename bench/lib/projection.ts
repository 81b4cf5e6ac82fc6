import { DEFAULTS } from '../../src/config/defaults.js';
import { historyOptions } from '../../src/config/settings.js';
import { bucketPrefixes } from '../../src/history/number-key.js';
import { bullPrefix } from '../../src/queue/keys.js';

/** A straight line y = intercept + slope × x. */
export interface LinearFit {
  readonly intercept: number;
  readonly slope: number;
  at(x: number): number;
}

/** The least-squares line through the points (at least two distinct x). */
export function linearFit(points: readonly (readonly [x: number, y: number])[]): LinearFit {
  const n = points.length;
  const meanX = points.reduce((sum, [x]) => sum + x, 0) / n;
  const meanY = points.reduce((sum, [, y]) => sum + y, 0) / n;
  let covariance = 0;
  let variance = 0;
  for (const [x, y] of points) {
    covariance += (x - meanX) * (y - meanY);
    variance += (x - meanX) ** 2;
  }
  if (!(variance > 0)) throw new RangeError('a line needs points at two different x at least');
  const slope = covariance / variance;
  const intercept = meanY - slope * meanX;
  return { intercept, slope, at: (x) => intercept + slope * x };
}

const SLOTS = 16_384;

/** CRC-16/XMODEM, the checksum Redis Cluster takes a key's slot from. */
function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** The Redis Cluster slot of a key: of its hash tag (the first non-empty `{…}`) when it has one. */
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  const close = open < 0 ? -1 : key.indexOf('}', open + 1);
  const hashed = close > open + 1 ? key.slice(open + 1, close) : key;
  return crc16(Buffer.from(hashed)) % SLOTS;
}

/** The first slot of each master, as `redis-cli --cluster create` splits the 16,384 slots over `masters`. */
export function clusterSlotStarts(masters: number): number[] {
  const perMaster = SLOTS / masters;
  return Array.from({ length: masters }, (_, i) => Math.round(perMaster * i));
}

function masterOfSlot(starts: readonly number[], slot: number): number {
  return starts.findLastIndex((start) => start <= slot);
}

/** How a cluster of `masters` holds reachscan's default keys: history buckets by master, the batch's one. */
export interface ClusterShares {
  readonly masters: number;
  readonly buckets: number;
  /** History buckets each master holds. */
  readonly bucketsPerMaster: readonly number[];
  /** The master holding the queue's hash tag: every batch's own keys (queue, jobs, owners, answers). */
  readonly batchMaster: number;
}

/**
 * The spread of the default names (`{reachscan}` for the queues and batches, `{reachscan-state:<n>}` for the
 * history's REACHSCAN_STATE_BUCKETS buckets, 64 by default) over a cluster made by `redis-cli --cluster
 * create`.
 */
export function clusterShares(masters: number, buckets: number = DEFAULTS.historyBuckets): ClusterShares {
  const starts = clusterSlotStarts(masters);
  const bucketsPerMaster = Array.from({ length: masters }, () => 0);
  const { prefix } = historyOptions({}, false);
  for (const bucket of bucketPrefixes(prefix, buckets)) {
    const master = masterOfSlot(starts, keySlot(bucket));
    bucketsPerMaster[master] = (bucketsPerMaster[master] ?? 0) + 1;
  }
  const batchMaster = masterOfSlot(starts, keySlot(bullPrefix(DEFAULTS.queuePrefix)));
  return { masters, buckets, bucketsPerMaster, batchMaster };
}

/**
 * Memory of the masters, bytes: each has its baseline and its buckets' share of the history; the one holding
 * the queue's hash tag has the batch's own keys on top. `even` is the history split evenly, for comparison.
 */
export function memoryPerMaster(
  shares: ClusterShares,
  memory: { readonly baseline: number; readonly history: number; readonly batchPeak: number },
): { readonly batchMaster: number; readonly largestOther: number; readonly even: number } {
  const historyOn = (held: number) => memory.baseline + (memory.history * held) / shares.buckets;
  const held = shares.bucketsPerMaster;
  const others = held.filter((_, master) => master !== shares.batchMaster);
  return {
    batchMaster: historyOn(held[shares.batchMaster] ?? 0) + memory.batchPeak,
    largestOther: historyOn(Math.max(0, ...others)),
    even: memory.baseline + memory.history / shares.masters + memory.batchPeak,
  };
}
