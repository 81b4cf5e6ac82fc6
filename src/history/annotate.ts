import type { ProviderName } from '../core/lookup-result.js';
import { SOURCE } from '../core/columns.js';
import type { CarrierAnswer, StoredAnswer } from '../core/answer.js';
import { changesSince } from './changes.js';
import { noConnectivity } from './no-connectivity.js';
import { answerOfState, nextState, type NumberState } from './number-state.js';
import { encodeState, type StateStore } from './state-store.js';

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * A carrier answer asked for in this run, with what the history adds: changes since the previous check, and
 * since when the device has had no connectivity (counting this answer in).
 */
export function liveAnswer(
  carrier: CarrierAnswer,
  previous: NumberState | null,
  provider: ProviderName,
  checkedAtMs: number,
): StoredAnswer {
  const next = carrier.error === '' ? nextState(previous, carrier, provider, checkedAtMs) : null;
  const gone = noConnectivity(carrier, next);
  return {
    ...carrier,
    source: SOURCE.live,
    no_connectivity_since: gone?.since ?? '',
    no_connectivity_evidence: gone?.evidence ?? '',
    changes: changesSince(previous, carrier).join(';'),
    previous_checked_at: previous === null ? '' : iso(previous.checkedAt),
    previous_roaming_countries: previous?.knownRoaming === true ? previous.knownRoamingCountries : '',
  };
}

/** The answer the history holds, served instead of asking the carrier: nothing changed, nothing to remember. */
export function cachedAnswer(state: NumberState): StoredAnswer {
  const carrier = answerOfState(state);
  const gone = noConnectivity(carrier, state);
  return {
    ...carrier,
    source: SOURCE.cache,
    no_connectivity_since: gone?.since ?? '',
    no_connectivity_evidence: gone?.evidence ?? '',
    changes: '',
    previous_checked_at: '',
    previous_roaming_countries: '',
  };
}

/**
 * The states a group of final answers leaves in the history: only live answers without an error are facts
 * (cached ones are the history already). Applied to the state stored now, so a concurrent batch's sighting is
 * kept; nextState is idempotent for the same answer, so a resumed finalize writes the same states again.
 */
export async function rememberAnswers(
  store: StateStore,
  answers: ReadonlyMap<string, StoredAnswer>,
  provider: ProviderName,
  nowMs: number,
): Promise<number> {
  const facts = [...answers].filter(([, a]) => a.source === SOURCE.live && a.error === '');
  if (facts.length === 0) return 0;
  const current = await store.read(
    facts.map(([n]) => n),
    nowMs,
  );
  return store.write(
    facts.map(([number, answer]) => [
      number,
      encodeState(nextState(current.get(number) ?? null, answer, provider, Date.parse(answer.checked_at))),
    ]),
  );
}
