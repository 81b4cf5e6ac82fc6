import type { BatchReport } from './report.js';

/** A table for both reports: headers, cells as shown, and which columns hold counts (right-aligned). */
export interface ReportTable {
  readonly head: readonly string[];
  readonly numeric: readonly boolean[];
  readonly rows: readonly (readonly string[])[];
}

/**
 * The longest-gaps list as a table both reports draw: the identifying input columns first (who the number
 * belongs to), then the number, how many input rows hold it (only when some number is on several), the days,
 * since when and the evidence. Numbers are shown in full, as in the CSV files beside the report.
 */
export function longestGapsTable(
  stale: BatchReport['stale'],
  format: { count: (n: number) => string; time: (iso: string) => string },
): ReportTable {
  const repeated = stale.top.some((e) => e.rows > 1);
  const ids = stale.id_columns.length;
  return {
    head: [...stale.id_columns, 'number', ...(repeated ? ['rows'] : []), 'days', 'since', 'evidence'],
    numeric: [...Array<boolean>(ids + 1).fill(false), ...(repeated ? [true] : []), true, false, false],
    rows: stale.top.map((e) => [
      ...stale.id_columns.map((name) => e.ids[name] ?? ''),
      e.phone_e164,
      ...(repeated ? [format.count(e.rows)] : []),
      format.count(e.days),
      format.time(e.since),
      e.evidence === 'status_time' ? "carrier's status time" : e.evidence,
    ]),
  };
}
