/** What a finished batch's exit code depends on: report.json's counts of the same names. */
export interface ExitCounts {
  /** Valid numbers without an answer after their retries (carrier errors, ERROR_NOT_PROCESSED). */
  readonly lookups_failed: number;
  /** Cells that hold no usable number (invalid, empty, Excel-mangled). */
  readonly invalid_numbers: number;
  /** Records that are not valid CSV (rejects.csv). */
  readonly malformed_records: number;
}

/**
 * 0 when every valid number got an answer: invalid cells and malformed records are findings about the input,
 * counted and listed, not failures of the run (a CRM export always has some, and a cron job must be able to
 * tell them from failed lookups). 1 when lookups failed after their retries. `strict` (`--strict`) also makes
 * invalid numbers and malformed records exit 1.
 */
export function batchExitCode(counts: ExitCounts, strict: boolean): 0 | 1 {
  if (counts.lookups_failed > 0) return 1;
  if (strict && (counts.invalid_numbers > 0 || counts.malformed_records > 0)) return 1;
  return 0;
}
