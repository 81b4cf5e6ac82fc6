/** The columns a carrier answer fills, in results.csv order. */
export const CARRIER_COLUMNS = [
  'reachable',
  'connectivity',
  'last_status_at',
  'roaming',
  'roaming_countries',
  'roaming_mcc',
  'reachability_status',
  'roaming_status',
  'checked_at',
  'error',
] as const;

/** Where the answer came from, and what the history adds to it (a lookup without history leaves most empty). */
export const HISTORY_COLUMNS = [
  'source',
  'no_connectivity_since',
  'no_connectivity_evidence',
  'changes',
  'previous_checked_at',
  'previous_roaming_countries',
  'last_seen_connected_at',
] as const;

/**
 * What identifies the carrier's side of an answer, to dispute a charge or a wrong answer with the carrier: the
 * request id (Identity Insights' `request_id`, or the `x-correlator` sent to a CAMARA API). Always last.
 */
export const TRACE_COLUMNS = ['request_id'] as const;

/** The columns reachscan appends to every input row, in this order. Scripts rely on these names. */
export const RESULT_COLUMNS = [
  'phone_e164',
  ...CARRIER_COLUMNS,
  ...HISTORY_COLUMNS,
  ...TRACE_COLUMNS,
] as const;
export type ResultColumn = (typeof RESULT_COLUMNS)[number];
export type ResultFields = Readonly<Record<ResultColumn, string>>;

/**
 * `source`: a carrier answer asked for in this run, one served from the history (`--max-age`), or one the
 * built-in simulator gave in this run: never real carrier data.
 */
export const SOURCE = { live: 'live', cache: 'cache', simulated: 'simulated' } as const;

/** Status codes reachscan writes itself when no carrier answer applies. */
export const LOCAL_STATUS = {
  invalidNumber: 'INVALID_NUMBER_FORMAT',
  excelMangled: 'EXCEL_MANGLED',
  notProcessed: 'ERROR_NOT_PROCESSED',
} as const;

/**
 * Output header: the input headers unchanged, then ours. When the input already has a column of one of our
 * names, ours gets a `reachscan_` prefix (repeated until unique): an input column is never overwritten.
 */
export function resultHeader(inputHeaders: readonly string[]): string[] {
  const taken = new Set(inputHeaders);
  const ours = RESULT_COLUMNS.map((name) => {
    let candidate: string = name;
    while (taken.has(candidate)) candidate = `reachscan_${candidate}`;
    taken.add(candidate);
    return candidate;
  });
  return [...inputHeaders, ...ours];
}

export function resultValues(fields: ResultFields): string[] {
  return RESULT_COLUMNS.map((c) => fields[c]);
}
