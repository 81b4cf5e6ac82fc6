import type { CarrierAnswer } from '../../src/core/answer.js';
import type { ResultFields } from '../../src/core/columns.js';

/** A carrier answer for tests: reachable with data and SMS, at home, `OK`; override what a case is about. */
export const carrierAnswer = (over: Partial<CarrierAnswer> = {}): CarrierAnswer => ({
  reachable: 'true',
  connectivity: 'DATA;SMS',
  last_status_at: '',
  roaming: 'false',
  roaming_countries: '',
  roaming_mcc: '',
  reachability_status: 'OK',
  roaming_status: 'OK',
  checked_at: '',
  error: '',
  request_id: '',
  ...over,
});

/** A results.csv row for tests: a live answer for +447400123456 checked on 2026-03-01, no history. */
export const resultRow = (over: Partial<ResultFields> = {}): ResultFields => ({
  phone_e164: '+447400123456',
  ...carrierAnswer({ last_status_at: '2026-01-01T00:00:00.000Z', checked_at: '2026-03-01T00:00:00.000Z' }),
  source: 'live',
  no_connectivity_since: '',
  no_connectivity_evidence: '',
  changes: '',
  previous_checked_at: '',
  previous_roaming_countries: '',
  last_seen_connected_at: '',
  ...over,
});
