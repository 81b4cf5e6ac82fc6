import type { CarrierAnswer } from '../output/answer.js';
import type { NumberState } from './number-state.js';

export type NoConnectivityEvidence = 'status_time' | 'history';

export interface NoConnectivity {
  /** ISO time since when the device has had no connectivity, as far as the evidence goes. */
  readonly since: string;
  readonly evidence: NoConnectivityEvidence;
}

const DAY_MS = 86_400_000;

/**
 * Since when a device that is not reachable now has had no connectivity. The carrier's own status time decides
 * when it gives one (it knows about changes between our checks); otherwise the history does: the last check
 * that found it reachable, or, for a device never seen reachable, the first check of its unreachable streak.
 * Unknown answers (errors, NOT_FOUND, NO_COVERAGE…) are never "not connected": null.
 */
export function noConnectivity(answer: CarrierAnswer, state: NumberState | null): NoConnectivity | null {
  if (answer.reachable !== 'false' || answer.error !== '') return null;
  if (answer.last_status_at !== '') return { since: answer.last_status_at, evidence: 'status_time' };
  const since = state?.lastSeenReachableAt ?? state?.unreachableSince ?? null;
  return since === null ? null : { since: new Date(since).toISOString(), evidence: 'history' };
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
