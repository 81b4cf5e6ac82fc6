/**
 * The error-ratio breaker: when more than a set share of a batch's recent upstream calls fail, the batch is
 * paused instead of spending the carrier quota on calls that fail. Each worker process keeps its own window
 * per batch (every process sees the same carrier, so they agree closely); the first to trip pauses the batch
 * for everyone in Redis.
 */

import type { BreakerSettings } from '../core/settings.js';
import { DEFAULTS } from '../config/defaults.js';
import { setupReason, type SetupCause } from './call-outcome.js';

export const DEFAULT_BREAKER: BreakerSettings = DEFAULTS.breaker;

/** A failed call as the breaker keeps it: its name, and what to fix when it is a setup failure. */
export interface BreakerFailure {
  /** e.g. `HTTP 503`, `ERROR_TIMEOUT`, `UNAUTHORIZED (reachability)`. */
  readonly label: string;
  readonly cause?: SetupCause;
}

/** What one upstream call came to, for the breaker: `null` when it was answered, else what failed. */
export type WindowEntry = string | BreakerFailure | null;

export interface Trip {
  readonly failed: number;
  readonly calls: number;
  /** The most frequent failure in the window, e.g. `HTTP 503` or `ERROR_TIMEOUT`. */
  readonly mostly: string;
  /** Set when the most frequent failure is a setup failure: the reason then says what to fix. */
  readonly setup?: SetupCause;
}

/** The last `size` outcomes of one batch's calls, in a ring. */
export class ErrorWindow {
  private readonly ring: (BreakerFailure | null)[];
  private next = 0;
  private seen = 0;
  private failed = 0;

  constructor(readonly size: number) {
    this.ring = new Array<BreakerFailure | null>(size).fill(null);
  }

  record(entry: WindowEntry): void {
    const outcome = typeof entry === 'string' ? { label: entry } : entry;
    const old = this.ring[this.next] ?? null;
    if (this.seen >= this.size && old !== null) this.failed--;
    this.ring[this.next] = outcome;
    if (outcome !== null) this.failed++;
    this.next = (this.next + 1) % this.size;
    this.seen++;
  }

  /** The trip, when the window is full and its failed share is above `threshold`; null otherwise. */
  check(threshold: number): Trip | null {
    if (threshold >= 1 || this.seen < this.size || this.failed / this.size <= threshold) return null;
    const counts = new Map<string, number>();
    // The latest cause per label: the one the reason quotes (the carrier's words may vary per call).
    const causes = new Map<string, SetupCause>();
    for (const o of this.ring) {
      if (o === null) continue;
      counts.set(o.label, (counts.get(o.label) ?? 0) + 1);
      if (o.cause !== undefined) causes.set(o.label, o.cause);
    }
    const mostly = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'unknown';
    const setup = causes.get(mostly);
    return { failed: this.failed, calls: this.size, mostly, ...(setup !== undefined ? { setup } : {}) };
  }
}

/**
 * One process's windows, per batch and per resume (a resumed batch starts with a clean window, or the old
 * failures would pause it again at its first call).
 */
export class BreakerBoard {
  private readonly windows = new Map<string, ErrorWindow>();

  record(batchId: string, resumes: number, settings: BreakerSettings, outcome: WindowEntry): Trip | null {
    if (settings.threshold >= 1) return null;
    const key = `${batchId}#${resumes}`;
    let window = this.windows.get(key);
    if (window === undefined) {
      // Windows of earlier resumes of this batch are done with.
      for (const k of this.windows.keys()) if (k.startsWith(`${batchId}#`)) this.windows.delete(k);
      // A few batches at once is normal; hundreds means stale ones: drop the oldest.
      if (this.windows.size >= 256) this.windows.delete(this.windows.keys().next().value as string);
      window = new ErrorWindow(settings.window);
      this.windows.set(key, window);
    }
    window.record(outcome);
    return window.check(settings.threshold);
  }
}

/**
 * The line a paused batch carries, shown by `scan`, the API and the logs: for a setup failure what to fix,
 * else how many calls failed and mostly how.
 */
export function pauseReason(trip: Trip, batchId: string): string {
  if (trip.setup !== undefined) return setupReason(trip.setup, batchId);
  const share = Math.round((trip.failed / trip.calls) * 100);
  return (
    `${share}% of the last ${trip.calls} carrier calls failed (mostly ${trip.mostly}); ` +
    `paused to save the quota: fix the cause, then run reachscan resume ${batchId}`
  );
}
