import type { CarrierAnswer } from '../core/answer.js';
import { factReachable, type NumberState } from './number-state.js';

export type NoConnectivityEvidence = 'status_time' | 'history';

export interface NoConnectivity {
  /** ISO time from which the device is proven to have had no connectivity, up to the check. */
  readonly since: string;
  readonly evidence: NoConnectivityEvidence;
}

const DAY_MS = 86_400_000;

/**
 * Since when a device that is not reachable now has *proven* to have had no connectivity. Two bounds can
 * prove it, and the earlier of those that hold wins (a tie goes to the carrier's):
 *  - the carrier's status time (`last_status_at`): the last time the network updated or confirmed the status
 *    (Vonage: `latest_status_at`; CAMARA: `lastStatusTime`), so "not reachable" held from then on. It holds
 *    only when it is later than the last check at which reachscan saw the device reachable: a sighting after
 *    it proves the device was connected in between, whatever the carrier's date says;
 *  - the history: the first check of the current run of "not reachable" answers. The time between the last
 *    reachable check and that one is a gap in the evidence, never counted as outage.
 * `state` is the number's history including this answer. Answers that are not a yes/no from the carrier
 * (errors, NOT_FOUND, NO_COVERAGE…) are never "not connected": null.
 */
export function noConnectivity(answer: CarrierAnswer, state: NumberState | null): NoConnectivity | null {
  if (factReachable(answer) !== false) return null;
  const statusTime = answer.last_status_at === '' ? NaN : Date.parse(answer.last_status_at);
  const lastSeen = state?.lastSeenReachableAt ?? null;
  const carrierHolds = !Number.isNaN(statusTime) && (lastSeen === null || statusTime > lastSeen);
  const firstUnreachable = state?.unreachableSince ?? null;
  if (carrierHolds && (firstUnreachable === null || statusTime <= firstUnreachable)) {
    return { since: new Date(statusTime).toISOString(), evidence: 'status_time' };
  }
  return firstUnreachable === null
    ? null
    : { since: new Date(firstUnreachable).toISOString(), evidence: 'history' };
}

/** The last check at which reachscan found the device reachable, as ISO; empty when never. */
export function lastSeenConnectedAt(state: NumberState | null): string {
  const at = state?.lastSeenReachableAt ?? null;
  return at === null ? '' : new Date(at).toISOString();
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
