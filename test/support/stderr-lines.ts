/**
 * Lines every run of a command may print before it gets to the point: the batch it started, which Redis it
 * uses, that it waits for a worker, and the warning that the history keeps numbers in clear. Tests that check
 * "one line says why" look at the rest.
 */
const EVERY_RUN = [
  'started batch',
  'using Redis at',
  'waiting for reachscan worker',
  'REACHSCAN_STATE_SECRET is not set',
];

/** The `reachscan: ` lines of stderr that say something about this run in particular. */
export function reasonLines(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('reachscan: ') && !EVERY_RUN.some((said) => line.includes(said)));
}
