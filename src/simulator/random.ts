import { createHash } from 'node:crypto';

/**
 * Deterministic draws in [0, 1) for one number under one seed: the same inputs always give the same device,
 * so a user can predict an answer and a test can repeat one.
 */
export function numberDraws(seed: string, phoneNumber: string, salt = ''): (index: number) => number {
  const digest = createHash('sha256').update(`${seed}\u0000${salt}\u0000${phoneNumber}`).digest();
  return (index: number) => {
    if (index < 0 || index > 7) throw new RangeError('draw index must be 0..7');
    return digest.readUInt32BE(index * 4) / 0x1_0000_0000;
  };
}

/** A small seeded PRNG (mulberry32) for fault injection: a sequence that repeats under the same seed. */
export function seededRandom(seed: string): () => number {
  let state = createHash('sha256').update(`faults\u0000${seed}`).digest().readUInt32BE(0);
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  };
}
