/** What one poll sees of a file (from lstat). */
export interface FileSnapshot {
  readonly size: number;
  readonly mtimeMs: number;
  /** The inode: a file replaced under the same name starts settling again. */
  readonly ino: number;
}

/** A file's last snapshot and since when (watcher's clock, ms) it has looked like that. */
export interface Observation {
  readonly snapshot: FileSnapshot;
  readonly unchangedSince: number;
}

export type Stability =
  | { readonly kind: 'settling'; readonly observation: Observation }
  | { readonly kind: 'complete'; readonly observation: Observation };

const same = (a: FileSnapshot, b: FileSnapshot) =>
  a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;

/**
 * The completeness rule. A file is complete when its size, modification time and inode have not changed for
 * `settleMs` of the watcher's clock. A file that already looked the same at the previous poll and whose
 * modification time is itself at least `settleMs` in the past (written elsewhere, then moved in) is complete
 * at once: nothing has written to it for the settle time, so waiting again would only add latency. A
 * modification time in the future (clock skew on a share) never counts.
 */
export function assessStability(
  previous: Observation | undefined,
  snapshot: FileSnapshot,
  nowMs: number,
  settleMs: number,
): Stability {
  if (previous === undefined || !same(previous.snapshot, snapshot)) {
    return { kind: 'settling', observation: { snapshot, unchangedSince: nowMs } };
  }
  const observation = previous;
  if (nowMs - observation.unchangedSince >= settleMs) return { kind: 'complete', observation };
  const quietFor = nowMs - snapshot.mtimeMs;
  if (quietFor >= settleMs && snapshot.mtimeMs <= nowMs) return { kind: 'complete', observation };
  return { kind: 'settling', observation };
}
