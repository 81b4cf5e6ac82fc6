import type { LookupOutcome } from './lookup-result.js';
import type { PhoneCell } from './e164.js';
import type { CARRIER_COLUMNS, TRACE_COLUMNS } from './columns.js';
import { LOCAL_STATUS, RESULT_COLUMNS, type ResultFields } from './columns.js';
import { packValue, unpackValue, type PackedKind } from './packed-value.js';

/** The columns one carrier answer fills. */
export type CarrierAnswer = Readonly<
  Record<(typeof CARRIER_COLUMNS)[number] | (typeof TRACE_COLUMNS)[number], string>
>;

/** A number's answer as kept between the worker that asked and the step that writes results. */
export type StoredAnswer = Omit<ResultFields, 'phone_e164'>;

const STORED = RESULT_COLUMNS.filter((c) => c !== 'phone_e164');

/** Every history column empty. */
const NO_HISTORY = {
  source: '',
  no_connectivity_since: '',
  no_connectivity_evidence: '',
  changes: '',
  previous_checked_at: '',
  previous_roaming_countries: '',
  last_seen_connected_at: '',
} as const;

/** Every answer column empty: the start of a row without a carrier answer. */
const NO_ANSWER = {
  reachable: '',
  connectivity: '',
  last_status_at: '',
  roaming: '',
  roaming_countries: '',
  roaming_mcc: '',
  checked_at: '',
  request_id: '',
} as const;

/** Flattens a provider outcome into result columns; `checkedAt` is when the carrier was asked. */
export function answerFromOutcome(outcome: LookupOutcome, checkedAt: string): CarrierAnswer {
  if (outcome.kind === 'failed') {
    return {
      ...NO_ANSWER,
      reachability_status: outcome.failure.upstreamCode ?? outcome.failure.code,
      roaming_status: outcome.failure.upstreamCode ?? outcome.failure.code,
      checked_at: checkedAt,
      error: outcome.failure.detail,
    };
  }
  const { reachability: r, roaming: m } = outcome;
  return {
    reachable: r.reachable === null ? '' : String(r.reachable),
    connectivity: r.connectivity.join(';'),
    last_status_at: r.latestStatusAt ?? '',
    roaming: m.roaming === null ? '' : String(m.roaming),
    roaming_countries: m.countries.join(';'),
    roaming_mcc: m.mcc === null ? '' : String(m.mcc),
    reachability_status: r.status.code,
    roaming_status: m.status.code,
    checked_at: checkedAt,
    // Only final answers are stored: a transient code here means the retries ran out.
    error: outcome.transient
      ? 'the carrier could not answer for now (transient status after every attempt); try again later'
      : '',
    request_id: outcome.requestId ?? '',
  };
}

/** Between an answer's values in Redis: a control character that no value holds in practice. */
const SEPARATOR = '\x1f';

/** How each stored column's values may be packed (see packed-value.ts). */
const KIND_OF: ReadonlyMap<string, PackedKind> = new Map([
  ['last_status_at', 'time'],
  ['checked_at', 'time'],
  ['previous_checked_at', 'time'],
  ['last_seen_connected_at', 'time'],
  ['no_connectivity_since', 'time'],
  ['request_id', 'id'],
]);
const STORED_KINDS: readonly PackedKind[] = STORED.map((c) => KIND_OF.get(c) ?? 'text');

/**
 * Compact form for Redis, where a large batch's answers wait for its outputs (a million of them for a million
 * numbers): the values in column order, times and request ids packed, joined by {@link SEPARATOR}. About 100
 * bytes where the JSON array of earlier releases took 190, which Redis's allocator keeps in a 112-byte block
 * instead of a 224-byte one. An answer with a value that cannot be kept plain (it holds the separator or starts
 * with the packing mark), or whose first value starts like JSON, is stored as that JSON array.
 */
export function encodeAnswer(answer: StoredAnswer): string {
  const values = STORED.map((c) => answer[c]);
  if (values[0]?.startsWith('[')) return JSON.stringify(values);
  const plain: string[] = [];
  for (let i = 0; i < values.length; i++) {
    const value = values[i] as string;
    const packed = value.includes(SEPARATOR) ? null : packValue(STORED_KINDS[i] as PackedKind, value);
    if (packed === null) return JSON.stringify(values);
    plain.push(packed);
  }
  return plain.join(SEPARATOR);
}

/** Columns an answer stored by the previous release has: later columns were added at the end. */
const OLDEST_STORED_LENGTH = STORED.length - 2;

/**
 * Decodes a stored answer, in either form (a batch stored by an earlier release finishes after an upgrade); one
 * stored before the last columns were added gets them empty.
 */
export function decodeAnswer(text: string): StoredAnswer {
  const values = text.startsWith('[') ? (JSON.parse(text) as unknown) : unpacked(text.split(SEPARATOR));
  if (
    !Array.isArray(values) ||
    values.length < OLDEST_STORED_LENGTH ||
    values.length > STORED.length ||
    !values.every((v) => typeof v === 'string')
  ) {
    throw new TypeError('stored answer has an unexpected shape');
  }
  return Object.fromEntries(STORED.map((c, i) => [c, values[i] ?? ''])) as StoredAnswer;
}

function unpacked(values: string[]): string[] {
  return values.map((value, i) => unpackValue(STORED_KINDS[i] ?? 'text', value));
}

/**
 * The result columns of one row: the carrier's answer for a valid number, or a local status saying why there
 * is none (invalid, Excel-mangled, or no answer recorded).
 */
export function resultFields(phone: PhoneCell, answer: StoredAnswer | undefined): ResultFields {
  switch (phone.kind) {
    case 'invalid':
      return {
        ...NO_ANSWER,
        ...NO_HISTORY,
        phone_e164: '',
        reachability_status: LOCAL_STATUS.invalidNumber,
        roaming_status: LOCAL_STATUS.invalidNumber,
        error: phone.reason,
      };
    case 'excel-mangled':
      return {
        ...NO_ANSWER,
        ...NO_HISTORY,
        phone_e164: '',
        reachability_status: LOCAL_STATUS.excelMangled,
        roaming_status: LOCAL_STATUS.excelMangled,
        error:
          'a spreadsheet turned this number into scientific notation and its digits are lost; re-export the column as text',
      };
    case 'valid':
      if (answer === undefined) {
        return {
          ...NO_ANSWER,
          ...NO_HISTORY,
          phone_e164: phone.e164,
          reachability_status: LOCAL_STATUS.notProcessed,
          roaming_status: LOCAL_STATUS.notProcessed,
          error: 'no answer was recorded for this number',
        };
      }
      return { ...answer, phone_e164: phone.e164 };
  }
}
