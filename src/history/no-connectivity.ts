import type { CarrierAnswer } from '../core/answer.js';
import { factReachable, type NumberState } from './number-state.js';

export type NoConnectivityEvidence = 'status_time' | 'history';

export interface NoConnectivity {
  /** ISO time since when the device has had no connectivity, as far as the evidence goes. */
  readonly since: string;
  readonly evidence: NoConnectivityEvidence;
}

const DAY_MS = 86_400_000;

/**
 * Since when a device that is not reachable now has had no connectivity, by the earliest of two pieces of
 * evidence: the carrier's status time (`last_status_at`), and the history (the last check that found it
 * reachable or, for a device never seen reachable, the first check of its unreachable run). Either one is
 * enough to qualify, so the earlier wins; a tie goes to the carrier's. Answers that are not a yes/no from the
 * carrier (errors, NOT_FOUND, NO_COVERAGE…) are never "not connected": null.
 */
export function noConnectivity(answer: CarrierAnswer, state: NumberState | null): NoConnectivity | null {
  if (factReachable(answer) !== false) return null;
  const statusTime = answer.last_status_at === '' ? NaN : Date.parse(answer.last_status_at);
  const seen = state?.lastSeenReachableAt ?? state?.unreachableSince ?? null;
  if (!Number.isNaN(statusTime) && (seen === null || statusTime <= seen)) {
    return { since: new Date(statusTime).toISOString(), evidence: 'status_time' };
  }
  return seen === null ? null : { since: new Date(seen).toISOString(), evidence: 'history' };
}

/**
 * Whole days without connectivity as of the check (`checked_at`), so a report rebuilt later from results.csv
 * counts the same days as the scan did. Null when the row does not say.
 */
export function daysWithoutConnectivity(since: string, checkedAt: string): number | null {
  const from = Date.parse(since);
  const to = Date.parse(checkedAt);
  if (Number.isNaN(from) || Number.isNaN(to)) return null;
  return Math.max(0, Math.floor((to - from) / DAY_MS));
}
