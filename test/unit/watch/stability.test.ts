import { describe, expect, it } from 'vitest';
import { assessStability, type FileSnapshot, type Observation } from '../../../src/watch/stability.js';

const SETTLE = 5_000;
const T0 = 1_800_000_000_000;

/** Polls one file at the given times with the given snapshots; returns each verdict. */
function poll(steps: readonly { at: number; snapshot: FileSnapshot }[]): string[] {
  let observation: Observation | undefined;
  return steps.map(({ at, snapshot }) => {
    const verdict = assessStability(observation, snapshot, at, SETTLE);
    observation = verdict.observation;
    return verdict.kind;
  });
}

describe('assessStability', () => {
  it('a file written just now is complete only after it stayed unchanged for the settle time', () => {
    const snap = { size: 100, mtimeMs: T0, ino: 7 };
    expect(
      poll([
        { at: T0, snapshot: snap },
        { at: T0 + 1_000, snapshot: snap },
        { at: T0 + 4_999, snapshot: snap },
        { at: T0 + 5_000, snapshot: snap },
      ]),
    ).toEqual(['settling', 'settling', 'settling', 'complete']);
  });

  it('every change of size or modification time starts the wait again', () => {
    expect(
      poll([
        { at: T0, snapshot: { size: 10, mtimeMs: T0, ino: 7 } },
        { at: T0 + 4_000, snapshot: { size: 20, mtimeMs: T0 + 4_000, ino: 7 } },
        { at: T0 + 8_000, snapshot: { size: 20, mtimeMs: T0 + 8_000, ino: 7 } },
        { at: T0 + 12_000, snapshot: { size: 20, mtimeMs: T0 + 8_000, ino: 7 } },
        { at: T0 + 13_000, snapshot: { size: 20, mtimeMs: T0 + 8_000, ino: 7 } },
      ]),
    ).toEqual(['settling', 'settling', 'settling', 'settling', 'complete']);
  });

  it('a file replaced under the same name (another inode) starts again', () => {
    expect(
      poll([
        { at: T0, snapshot: { size: 10, mtimeMs: T0, ino: 7 } },
        { at: T0 + 6_000, snapshot: { size: 10, mtimeMs: T0, ino: 8 } },
      ]),
    ).toEqual(['settling', 'settling']);
  });

  it('a file moved in with an old modification time goes at the second look, not after the settle time', () => {
    const old = { size: 100, mtimeMs: T0 - 60_000, ino: 7 };
    expect(
      poll([
        { at: T0, snapshot: old },
        { at: T0 + 200, snapshot: old },
      ]),
    ).toEqual(['settling', 'complete']);
  });

  it('a modification time in the future (clock skew) never shortens the wait', () => {
    const future = { size: 100, mtimeMs: T0 + 3_600_000, ino: 7 };
    expect(
      poll([
        { at: T0, snapshot: future },
        { at: T0 + 200, snapshot: future },
        { at: T0 + 5_000, snapshot: future },
      ]),
    ).toEqual(['settling', 'settling', 'complete']);
  });
});
