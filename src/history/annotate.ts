import type { ProviderName } from '../core/lookup-result.js';
import { SOURCE } from '../output/columns.js';
import type { BatchAnswer, CarrierAnswer } from '../output/answer.js';
import { changesSince } from './changes.js';
import { noConnectivity } from './no-connectivity.js';
import { answerOfState, nextState, type NumberState } from './number-state.js';
import { encodeState } from './state-store.js';

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * A carrier answer asked for in this run, with what the history adds: changes since the previous check, since
 * when the device has had no connectivity, and the state to remember once the batch's results are final.
 */
export function liveAnswer(
  carrier: CarrierAnswer,
  previous: NumberState | null,
  provider: ProviderName,
  checkedAtMs: number,
): BatchAnswer {
  const next = carrier.error === '' ? nextState(previous, carrier, provider, checkedAtMs) : null;
  const gone = noConnectivity(carrier, next);
  return {
    answer: {
      ...carrier,
      source: SOURCE.live,
      no_connectivity_since: gone?.since ?? '',
      no_connectivity_evidence: gone?.evidence ?? '',
      changes: changesSince(previous, carrier).join(';'),
      previous_checked_at: previous === null ? '' : iso(previous.checkedAt),
      previous_roaming_countries: previous?.knownRoaming === true ? previous.knownRoamingCountries : '',
    },
    next: next === null ? null : encodeState(next),
  };
}

/** The answer the history holds, served instead of asking the carrier: nothing changed, nothing to remember. */
export function cachedAnswer(state: NumberState): BatchAnswer {
  const carrier = answerOfState(state);
  const gone = noConnectivity(carrier, state);
  return {
    answer: {
      ...carrier,
      source: SOURCE.cache,
      no_connectivity_since: gone?.since ?? '',
      no_connectivity_evidence: gone?.evidence ?? '',
      changes: '',
      previous_checked_at: '',
      previous_roaming_countries: '',
    },
    next: null,
  };
}
