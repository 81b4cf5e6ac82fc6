/** Exit codes, documented in `--help` and docs/outputs.md#exit-codes; scripts rely on them. */
export const EXIT = {
  /** Every valid number answered (invalid cells and malformed records are findings, not failures). */
  ok: 0,
  /** Finished, but lookups failed after their retries (with `scan --strict`: also invalid or malformed input). */
  rowErrors: 1,
  /** Bad usage or bad input. */
  usage: 2,
  /** Infrastructure or credentials: configuration, Redis, carrier authentication. */
  infrastructure: 3,
  /** Stopped by Ctrl-C or SIGTERM; the same command resumes. */
  interrupted: 130,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
