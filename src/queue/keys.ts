/** Queue names; with the prefix they make BullMQ's keys. */
export const BATCH_QUEUE = 'batches';
export const CHUNK_QUEUE = 'chunks';

/**
 * Every key reachscan writes carries one hash tag, `{name}`, so on Redis Cluster all of them live in one slot
 * and BullMQ's multi-key scripts and ours keep working.
 */
export function bullPrefix(name: string): string {
  return `{${name}}`;
}

export interface BatchKeys {
  /** Hash: state, counters, timestamps, abort reason. */
  readonly meta: string;
  /** Hash: E.164 → index of the chunk that asks for it (first occurrence wins: the dedupe). */
  readonly owners: string;
  /** Hash: E.164 → encoded answer. */
  readonly answers: string;
}

export function batchKeys(prefix: string, batchId: string): BatchKeys {
  const base = `${prefix}:batch:${batchId}`;
  return { meta: `${base}:meta`, owners: `${base}:owners`, answers: `${base}:answers` };
}

/** The shared pacing key: one per prefix, so every worker and batch on this Redis shares one rate cap. */
export function rateKey(prefix: string): string {
  return `${prefix}:rate`;
}
