import type { CarrierAnswer } from '../core/answer.js';
import { factReachable, factRoaming, type NumberState } from './number-state.js';

/** What can change between two checks of a number. Names are written to results.csv and changes.csv. */
export const CHANGE_KINDS = [
  'went_offline',
  'came_back',
  'started_roaming',
  'stopped_roaming',
  'roaming_country_changed',
  'became_not_found',
] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

const NOT_FOUND = 'NOT_FOUND';

/**
 * Changes from the number's previous state to a new carrier answer. Each side is compared with what was last
 * known, so an unknown answer in between neither hides a change nor invents one. No previous state: none.
 */
export function changesSince(previous: NumberState | null, answer: CarrierAnswer): ChangeKind[] {
  if (previous === null || answer.error !== '') return [];
  const changes: ChangeKind[] = [];
  const reachable = factReachable(answer);
  if (reachable !== null && previous.knownReachable !== null && reachable !== previous.knownReachable) {
    changes.push(reachable ? 'came_back' : 'went_offline');
  }
  const roaming = factRoaming(answer);
  if (roaming !== null && previous.knownRoaming !== null) {
    if (roaming && !previous.knownRoaming) changes.push('started_roaming');
    else if (!roaming && previous.knownRoaming) changes.push('stopped_roaming');
    else if (roaming && countriesDiffer(previous.knownRoamingCountries, answer.roaming_countries)) {
      changes.push('roaming_country_changed');
    }
  }
  const notFound = answer.reachability_status === NOT_FOUND || answer.roaming_status === NOT_FOUND;
  const wasNotFound = previous.reachabilityStatus === NOT_FOUND || previous.roamingStatus === NOT_FOUND;
  if (notFound && !wasNotFound) changes.push('became_not_found');
  return changes;
}

/**
 * A different place, not just a different way of naming it: order does not matter, and a side without a
 * country (an MCC we cannot place) is not evidence of a move.
 */
function countriesDiffer(before: string, after: string): boolean {
  if (before === '' || after === '') return false;
  const set = (list: string) => [...new Set(list.split(';'))].sort().join(';');
  return set(before) !== set(after);
}

/** The two sides of a change as people read them, for changes.csv and the report. */
export function describeChange(
  kind: ChangeKind,
  row: { readonly connectivity: string; readonly roaming_countries: string; readonly roaming_mcc: string },
  previousCountries: string,
): { before: string; after: string } {
  const place = (countries: string, mcc = '') =>
    countries !== '' ? countries : mcc !== '' ? `MCC ${mcc}` : 'unknown country';
  switch (kind) {
    case 'went_offline':
      return { before: 'reachable', after: 'not reachable' };
    case 'came_back':
      return { before: 'not reachable', after: `reachable (${row.connectivity || 'connected'})` };
    case 'started_roaming':
      return { before: 'home network', after: place(row.roaming_countries, row.roaming_mcc) };
    case 'stopped_roaming':
      return { before: place(previousCountries), after: 'home network' };
    case 'roaming_country_changed':
      return { before: place(previousCountries), after: place(row.roaming_countries, row.roaming_mcc) };
    case 'became_not_found':
      return { before: 'known to the network', after: NOT_FOUND };
  }
}
