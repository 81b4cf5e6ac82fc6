/** Plain setting types every layer passes around (values and checks live in config/). */

/** How the history is kept: where (key prefix and buckets) and for how long. Chosen by whoever submits the batch. */
export interface HistoryOptions {
  /**
   * Key prefix of the per-number hashes, with a hash tag, e.g. `{reachscan-state}:`. The numbers' keys carry the
   * bucket in that tag (`{reachscan-state:7}:…`); the prefix's own keys (layout, run logs, monitor) keep it as is.
   */
  readonly prefix: string;
  /**
   * Hash-tag buckets the numbers' keys are spread over (REACHSCAN_STATE_BUCKETS, 1..16384), so a Redis Cluster
   * spreads the history over its masters. Absent (jobs queued before buckets existed): 1, the single-slot layout.
   */
  readonly buckets?: number;
  /** A number not checked for this long is forgotten (Redis expires its hash; reads ignore it already). */
  readonly retentionDays: number;
}

/**
 * REACHSCAN_STATE_SECRET, held by every process that reads or writes the history (never in job data nor in
 * Redis), or null when it is not set and the history's keys name the numbers.
 */
export type StateSecret = string | null;

/** When the error-ratio breaker pauses a batch. */
export interface BreakerSettings {
  /** Pause when the failed share of the last `window` calls is above this (0..1); 1 turns the breaker off. */
  readonly threshold: number;
  /** Calls the share is taken over; nothing trips before this many calls were seen. */
  readonly window: number;
}

/** The field delimiters reachscan reads. */
export const DELIMITERS = [',', ';', '\t', '|'] as const;
export type Delimiter = (typeof DELIMITERS)[number];

/**
 * Every key reachscan writes carries a hash tag, `{name}`, so on Redis Cluster all of a prefix's keys live in
 * one slot and BullMQ's multi-key scripts and ours keep working.
 */
export function hashTagged(name: string): string {
  return `{${name}}`;
}
