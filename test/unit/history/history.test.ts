import { describe, expect, it } from 'vitest';
import { cachedAnswer, liveAnswer } from '../../../src/history/annotate.js';
import { changesSince } from '../../../src/history/changes.js';
import { nextState, isFresh, type NumberState } from '../../../src/history/number-state.js';
import { decodeState, encodeState } from '../../../src/history/state-store.js';
import type { CarrierAnswer, StoredAnswer } from '../../../src/core/answer.js';
import { carrierAnswer } from '../../support/rows.js';

const DAY = 86_400_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (day: number) => T0 + day * DAY;
const iso = (ms: number) => new Date(ms).toISOString();

const answer = carrierAnswer;
const offline = answer({ reachable: 'false', connectivity: '' });
const notFound = answer({
  reachable: '',
  connectivity: '',
  roaming: '',
  reachability_status: 'NOT_FOUND',
  roaming_status: 'NOT_FOUND',
});
const roamingIn = (country: string, mcc: string) =>
  answer({ roaming: 'true', roaming_countries: country, roaming_mcc: mcc });

/** Runs answers through the history one day at a time, as scans would; returns the last annotation. */
function run(days: readonly [number, CarrierAnswer][]) {
  let state: NumberState | null = null;
  let last: StoredAnswer | null = null;
  for (const [day, a] of days) {
    last = liveAnswer({ ...a, checked_at: iso(at(day)) }, state, 'device-status', at(day));
    // What the finalize step remembers: live answers without an error.
    if (last.error === '') state = decodeState(encodeState(nextState(state, last, 'device-status', at(day))));
  }
  if (last === null) throw new Error('no answers given');
  return { last, state };
}

describe('no connectivity: the earliest proven bound', () => {
  it('counts from the first check that found the device unreachable, not from the last reachable one', () => {
    // Reachable on day 0, unreachable on days 10 and 70: the gap between day 0 and day 10 is not proven outage.
    const { last } = run([
      [0, answer({})],
      [10, offline],
      [70, offline],
    ]);
    expect(last).toMatchObject({
      no_connectivity_since: iso(at(10)),
      no_connectivity_evidence: 'history',
      last_seen_connected_at: iso(at(0)),
    });
  });

  it('sparse scans: reachable on day 0, unreachable on day 61 proves no connectivity since day 61 only', () => {
    const { last } = run([
      [0, answer({})],
      [61, offline],
    ]);
    expect(last).toMatchObject({
      no_connectivity_since: iso(at(61)),
      no_connectivity_evidence: 'history',
      last_seen_connected_at: iso(at(0)),
    });
  });

  it('ignores a carrier status time older than a later sighting of the device', () => {
    // Seen reachable on day 60; on day 70 the carrier says "not reachable" with a status time of day 0.
    const { last } = run([
      [60, answer({})],
      [70, { ...offline, last_status_at: iso(at(0)) }],
    ]);
    expect(last).toMatchObject({
      no_connectivity_since: iso(at(70)),
      no_connectivity_evidence: 'history',
      last_seen_connected_at: iso(at(60)),
    });
  });

  it('keeps the carrier status time when it is later than the last sighting', () => {
    // Seen reachable on day 0, unreachable on day 61 with a status time of day 30: proven since day 30.
    const { last } = run([
      [0, answer({})],
      [61, { ...offline, last_status_at: iso(at(30)) }],
    ]);
    expect(last).toMatchObject({
      no_connectivity_since: iso(at(30)),
      no_connectivity_evidence: 'status_time',
      last_seen_connected_at: iso(at(0)),
    });
  });

  it('counts a device never seen reachable from its first unreachable check; unknown answers do not break it', () => {
    const { last, state } = run([
      [0, offline],
      [20, notFound],
      [61, offline],
    ]);
    expect(last).toMatchObject({
      no_connectivity_since: iso(at(0)),
      no_connectivity_evidence: 'history',
      last_seen_connected_at: '',
    });
    expect(state?.unreachableSince).toBe(at(0));
  });

  it('starts again when the device comes back', () => {
    const { last } = run([
      [0, offline],
      [30, answer({})],
      [40, offline],
    ]);
    expect(last.no_connectivity_since).toBe(iso(at(40)));
    expect(last.last_seen_connected_at).toBe(iso(at(30)));
  });

  it('takes the earlier bound: the first unreachable check when it precedes the status time', () => {
    const { last } = run([
      [0, answer({})],
      [10, offline],
      [70, { ...offline, last_status_at: iso(at(65)) }],
    ]);
    expect(last).toMatchObject({ no_connectivity_since: iso(at(10)), no_connectivity_evidence: 'history' });
  });

  it('never believes a yes/no that comes with a non-success status', () => {
    const ghost = { ...notFound, reachable: 'false', roaming: 'false' };
    const { last, state } = run([
      [0, answer({})],
      [70, ghost],
    ]);
    expect(last).toMatchObject({ no_connectivity_since: '', changes: 'became_not_found' });
    expect(state?.knownReachable).toBe(true);
    expect(state?.unreachableSince).toBeNull();
  });

  it('takes the carrier status time of a number never seen before, and never marks unknown or failed rows', () => {
    const withTime = run([[5, { ...offline, last_status_at: iso(at(-100)) }]]);
    expect(withTime.last).toMatchObject({
      no_connectivity_since: iso(at(-100)),
      no_connectivity_evidence: 'status_time',
      last_seen_connected_at: '',
    });
    expect(run([[5, notFound]]).last.no_connectivity_since).toBe('');
    const failed = run([
      [0, answer({})],
      [5, { ...offline, error: 'HTTP 503' }],
    ]);
    expect(failed.last.no_connectivity_since).toBe('');
    expect(failed.last.last_seen_connected_at).toBe(iso(at(0))); // still what the history knows
    expect(failed.state?.checkedAt).toBe(at(0)); // a row in error leaves the history alone
  });
});

describe('changes since the previous check', () => {
  const state = (a: CarrierAnswer, previous: NumberState | null = null) =>
    nextState(previous, a, 'identity-insights', at(0));

  it('names each kind', () => {
    expect(changesSince(state(answer({})), offline)).toEqual(['went_offline']);
    expect(changesSince(state(offline), answer({}))).toEqual(['came_back']);
    expect(changesSince(state(answer({})), roamingIn('DE', '262'))).toEqual(['started_roaming']);
    expect(changesSince(state(roamingIn('DE', '262')), answer({}))).toEqual(['stopped_roaming']);
    expect(changesSince(state(roamingIn('DE', '262')), roamingIn('FR', '208'))).toEqual([
      'roaming_country_changed',
    ]);
    expect(changesSince(state(answer({})), notFound)).toEqual(['became_not_found']);
    expect(changesSince(state(notFound), notFound)).toEqual([]);
    expect(changesSince(null, offline)).toEqual([]);
  });

  it('does not call a new order or an unplaceable MCC a change of country', () => {
    expect(changesSince(state(roamingIn('DE;FR', '1')), roamingIn('FR;DE', '1'))).toEqual([]);
    expect(changesSince(state(roamingIn('', '901')), roamingIn('DE', '262'))).toEqual([]);
  });

  it('compares with what was last known, across an unknown answer', () => {
    const known = state(notFound, state(roamingIn('DE', '262')));
    expect(changesSince(known, { ...offline, roaming: 'false' })).toEqual([
      'went_offline',
      'stopped_roaming',
    ]);
  });
});

describe('state encoding', () => {
  it('round-trips every field, and leaves out what it can', () => {
    const s = nextState(
      nextState(null, roamingIn('BL;GF', '340'), 'identity-insights', at(0) + 1234),
      { ...notFound, last_status_at: iso(at(-3)) },
      'device-status',
      at(2),
    );
    const fields = encodeState(s);
    expect(decodeState(fields)).toEqual({ ...s, checkedAt: at(2), lastSeenReachableAt: at(0) + 1000 });
    expect(Object.keys(encodeState(nextState(null, answer({}), 'identity-insights', at(0))))).toEqual([
      'c',
      'p',
      'r',
      'k',
      'm',
      'rs',
      'sr',
    ]);
    expect(decodeState({})).toBeNull();
  });
});

describe('cache', () => {
  it('serves the same provider within max age only, with the stored answer', () => {
    const s = nextState(null, answer({ checked_at: iso(at(0)) }), 'identity-insights', at(0));
    expect(isFresh(s, 'identity-insights', at(0) + 3_600_000, 24 * 3_600_000)).toBe(true);
    expect(isFresh(s, 'identity-insights', at(2), 24 * 3_600_000)).toBe(false);
    expect(isFresh(s, 'device-status', at(0), 24 * 3_600_000)).toBe(false);
    expect(isFresh(s, 'identity-insights', at(0), 0)).toBe(false);
    const served = cachedAnswer(s);
    expect(served).toMatchObject({
      source: 'cache',
      reachable: 'true',
      checked_at: iso(at(0)),
      changes: '',
    });
  });
});
