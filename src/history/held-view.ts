import { noConnectivity, lastSeenConnectedAt } from './no-connectivity.js';
import { answerOfState } from './number-state.js';
import type { HeldAbout } from './state-store.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const text = (value: boolean | null) => (value === null ? null : value);

/** What the history holds about one number, as `reachscan history <number>` and `POST /history` show it. */
export interface HeldView {
  readonly number: string;
  readonly held: boolean;
  readonly provider?: string;
  readonly simulated?: boolean;
  readonly checked_at?: string;
  readonly last_answer?: Record<string, string>;
  readonly last_seen_connected_at?: string | null;
  readonly no_connectivity_since?: string | null;
  /** What was last known when the latest answer left it unknown: what the next run's changes compare with. */
  readonly last_known?: {
    readonly reachable: boolean | null;
    readonly roaming: boolean | null;
    readonly roaming_countries: string;
  };
  readonly purpose?: string | null;
  readonly written_at?: string | null;
  readonly expires_at?: string | null;
}

export function heldView(number: string, held: HeldAbout | null): HeldView {
  if (held === null) return { number, held: false };
  const { state } = held;
  const answer = answerOfState(state);
  const { error: _none, request_id: _asked, ...lastAnswer } = answer;
  return {
    number,
    held: true,
    provider: state.provider,
    simulated: state.simulated,
    checked_at: answer.checked_at,
    last_answer: lastAnswer,
    last_seen_connected_at: lastSeenConnectedAt(state) || null,
    no_connectivity_since: noConnectivity(answer, state)?.since ?? null,
    last_known: {
      reachable: text(state.knownReachable),
      roaming: text(state.knownRoaming),
      roaming_countries: state.knownRoamingCountries,
    },
    purpose: held.purpose,
    written_at: iso(held.writtenAt),
    expires_at: iso(held.expiresAt),
  };
}

/** The view as lines for a terminal. */
export function formatHeld(view: HeldView): string {
  if (!view.held) return `${view.number}: nothing held\n`;
  const a = view.last_answer ?? {};
  const lines = [
    `${view.number}${view.simulated === true ? ' (simulated answers)' : ''}`,
    `  last checked           ${view.checked_at} with ${view.provider}`,
    `  last answer            reachable=${a.reachable || 'unknown'} connectivity=${a.connectivity || '-'} roaming=${a.roaming || 'unknown'}${a.roaming_countries ? ` (${a.roaming_countries})` : ''} status=${a.reachability_status || '-'}`,
    `  last seen connected    ${view.last_seen_connected_at ?? 'never'}`,
    `  no connectivity since  ${view.no_connectivity_since ?? '-'}`,
    `  last known             reachable=${view.last_known?.reachable ?? 'unknown'} roaming=${view.last_known?.roaming ?? 'unknown'}${view.last_known?.roaming_countries ? ` (${view.last_known.roaming_countries})` : ''}`,
    `  purpose                ${view.purpose ?? 'not recorded'}`,
    `  written                ${view.written_at ?? '-'}`,
    `  forgotten by           ${view.expires_at ?? '-'}`,
  ];
  return `${lines.join('\n')}\n`;
}
