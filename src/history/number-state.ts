import type { ProviderName } from '../core/lookup-result.js';
import type { CarrierAnswer } from '../core/answer.js';

/**
 * What the store remembers about one number: its latest carrier answer, when it was asked, and the history
 * that one answer cannot hold (last seen reachable, start of the current unreachable streak, and the last
 * known reachability and roaming when the latest answer left them unknown). Times are ms since the epoch.
 */
export interface NumberState {
  readonly checkedAt: number;
  readonly provider: ProviderName;
  /** The latest carrier answer, as its result columns (used by the cache and for changes). */
  readonly reachable: boolean | null;
  readonly connectivity: string;
  readonly lastStatusAt: number | null;
  readonly roaming: boolean | null;
  readonly roamingCountries: string;
  readonly roamingMcc: string;
  readonly reachabilityStatus: string;
  readonly roamingStatus: string;
  /** The last check that found the device reachable. */
  readonly lastSeenReachableAt: number | null;
  /** The first check of the current run of "not reachable" answers (unknown answers do not break it). */
  readonly unreachableSince: number | null;
  /** Reachability and roaming as last known: the latest answer's, or an earlier one's when it said nothing. */
  readonly knownReachable: boolean | null;
  readonly knownRoaming: boolean | null;
  readonly knownRoamingCountries: string;
  /** The answers came from the built-in simulator: never compared with, nor served for, a real carrier's. */
  readonly simulated: boolean;
}

const bool = (value: string): boolean | null => (value === 'true' ? true : value === 'false' ? false : null);

/** Insight status codes whose yes/no can be believed: anything else (NOT_FOUND, NO_COVERAGE, errors) is unknown. */
const ANSWERED = new Set(['OK', 'PARTIAL_SUCCESS']);

/** Reachability as a fact about the device: null unless the carrier answered it with a success status. */
export function factReachable(answer: CarrierAnswer): boolean | null {
  return answer.error === '' && ANSWERED.has(answer.reachability_status) ? bool(answer.reachable) : null;
}

/** Roaming as a fact about the device, on the same terms. */
export function factRoaming(answer: CarrierAnswer): boolean | null {
  return answer.error === '' && ANSWERED.has(answer.roaming_status) ? bool(answer.roaming) : null;
}
const timeOf = (iso: string): number | null => {
  if (iso === '') return null;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
};

/**
 * The state after a carrier answer. Only answers without an error get here: a row in error is not a fact about
 * the device and leaves its history as it was.
 */
export function nextState(
  previousState: NumberState | null,
  answer: CarrierAnswer,
  provider: ProviderName,
  checkedAt: number,
  simulated = false,
): NumberState {
  const previous = sameWorld(previousState, simulated);
  const reachable = factReachable(answer);
  const roaming = factRoaming(answer);
  const knownReachable = reachable ?? previous?.knownReachable ?? null;
  let unreachableSince = previous?.unreachableSince ?? null;
  if (reachable === true) unreachableSince = null;
  else if (reachable === false && previous?.knownReachable !== false) unreachableSince = checkedAt;
  // A first sighting that is "not reachable" starts the streak too.
  if (reachable === false && unreachableSince === null) unreachableSince = checkedAt;
  return {
    checkedAt,
    provider,
    reachable,
    connectivity: answer.connectivity,
    lastStatusAt: timeOf(answer.last_status_at),
    roaming,
    roamingCountries: answer.roaming_countries,
    roamingMcc: answer.roaming_mcc,
    reachabilityStatus: answer.reachability_status,
    roamingStatus: answer.roaming_status,
    lastSeenReachableAt: reachable === true ? checkedAt : (previous?.lastSeenReachableAt ?? null),
    unreachableSince,
    knownReachable,
    knownRoaming: roaming ?? previous?.knownRoaming ?? null,
    knownRoamingCountries:
      roaming !== null ? answer.roaming_countries : (previous?.knownRoamingCountries ?? ''),
    simulated,
  };
}

/**
 * The previous state when it comes from the same world as the new answer (both real or both simulated), else
 * null: a simulated history is no evidence about a real device, nor the other way round.
 */
export function sameWorld(previous: NumberState | null, simulated: boolean): NumberState | null {
  return previous !== null && previous.simulated === simulated ? previous : null;
}

/** The carrier answer a state holds, as result columns: what the cache serves. */
export function answerOfState(state: NumberState): CarrierAnswer {
  const iso = (ms: number | null) => (ms === null ? '' : new Date(ms).toISOString());
  const text = (value: boolean | null) => (value === null ? '' : String(value));
  return {
    reachable: text(state.reachable),
    connectivity: state.connectivity,
    last_status_at: iso(state.lastStatusAt),
    roaming: text(state.roaming),
    roaming_countries: state.roamingCountries,
    roaming_mcc: state.roamingMcc,
    reachability_status: state.reachabilityStatus,
    roaming_status: state.roamingStatus,
    checked_at: iso(state.checkedAt),
    error: '',
    // The carrier's id belongs to the run that asked; a served answer asks nobody.
    request_id: '',
  };
}

/** A state fresh enough to answer for the number instead of the carrier, for the same provider. */
export function isFresh(
  state: NumberState,
  provider: ProviderName,
  nowMs: number,
  maxAgeMs: number,
): boolean {
  return maxAgeMs > 0 && state.provider === provider && nowMs - state.checkedAt <= maxAgeMs;
}
