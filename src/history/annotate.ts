import type { ProviderName } from '../core/lookup-result.js';
import { SOURCE } from '../core/columns.js';
import type { CarrierAnswer, StoredAnswer } from '../core/answer.js';
import { changesSince } from './changes.js';
import { lastSeenConnectedAt, noConnectivity } from './no-connectivity.js';
import { answerOfState, nextState, sameWorld, type NumberState } from './number-state.js';
import { encodeState, type StateStore } from './state-store.js';

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * A carrier answer asked for in this run, with what the history adds: changes since the previous check, and
 * since when the device has had no connectivity (counting this answer in). `simulated`: the built-in
 * simulator answered, so the row says so and only a simulated history is compared with it.
 */
export function liveAnswer(
  carrier: CarrierAnswer,
  previousState: NumberState | null,
  provider: ProviderName,
  checkedAtMs: number,
  simulated = false,
): StoredAnswer {
  const previous = sameWorld(previousState, simulated);
  const next = carrier.error === '' ? nextState(previous, carrier, provider, checkedAtMs, simulated) : null;
  const gone = noConnectivity(carrier, next);
  return {
    ...carrier,
    source: simulated ? SOURCE.simulated : SOURCE.live,
    no_connectivity_since: gone?.since ?? '',
    no_connectivity_evidence: gone?.evidence ?? '',
    changes: changesSince(previous, carrier).join(';'),
    previous_checked_at: previous === null ? '' : iso(previous.checkedAt),
    previous_roaming_countries: previous?.knownRoaming === true ? previous.knownRoamingCountries : '',
    last_seen_connected_at: lastSeenConnectedAt(next ?? previous),
  };
}

/** The answer the history holds, served instead of asking the carrier: nothing changed, nothing to remember. */
export function cachedAnswer(state: NumberState): StoredAnswer {
  const carrier = answerOfState(state);
  const gone = noConnectivity(carrier, state);
  return {
    ...carrier,
    // `cache` whoever answered first: nobody was asked in this run. (Simulated runs keep a history of their
    // own, so a real run is served real answers.)
    source: SOURCE.cache,
    no_connectivity_since: gone?.since ?? '',
    no_connectivity_evidence: gone?.evidence ?? '',
    changes: '',
    previous_checked_at: '',
    previous_roaming_countries: '',
    last_seen_connected_at: lastSeenConnectedAt(state),
  };
}

/** Answers asked for in this run (of a carrier or the simulator) that are facts: no error. */
function isFact(answer: StoredAnswer): boolean {
  return answer.error === '' && (answer.source === SOURCE.live || answer.source === SOURCE.simulated);
}

/**
 * The states a group of final answers leaves in the history: only answers asked for in this run without an
 * error are facts. Applied to the state stored now, so a concurrent batch's sighting is kept; nextState is
 * idempotent for the same answer, so a resumed finalize writes the same states again.
 */
export async function rememberAnswers(
  store: StateStore,
  answers: ReadonlyMap<string, StoredAnswer>,
  provider: ProviderName,
  nowMs: number,
  purpose: string,
): Promise<number> {
  const facts = [...answers].filter(([, a]) => isFact(a));
  if (facts.length === 0) return 0;
  const current = await store.read(
    facts.map(([n]) => n),
    nowMs,
  );
  return store.write(
    facts.map(([number, answer]) => {
      const simulated = answer.source === SOURCE.simulated;
      const state = nextState(
        current.get(number) ?? null,
        answer,
        provider,
        Date.parse(answer.checked_at),
        simulated,
      );
      return [number, encodeState(state)];
    }),
    { purpose, writtenAtMs: nowMs },
  );
}
