import type { BatchStatus } from '../../batch/state.js';
import { waitForBatch, type BatchEnd } from '../../batch/wait.js';
import type { Clock } from '../../core/clock.js';
import { ReachscanError } from '../../core/errors.js';
import type { RedisClient } from '../../queue/connection.js';
import type { CliIo } from '../io.js';
import { createProgress, type Progress } from '../progress.js';

/** After this long without any progress, the waiting scan says what may be wrong (once). */
const STALL_HINT_MS = 15_000;

/** The batch a scan waits for, and how it talks about it. */
export interface ScanWait {
  readonly redis: RedisClient;
  readonly prefix: string;
  readonly batchId: string;
  /** The input's size, for progress while it is read. */
  readonly sizeBytes: number;
  /** What `reachscan resume` needs set to reach this run's queues when they are not the usual ones. */
  readonly resumeEnv: readonly string[];
  readonly clock: Clock;
  readonly say: (line: string) => void;
}

/** How waiting ended: the batch's end, and the signal that stopped the waiting (null when none did). */
export interface WaitOutcome {
  readonly end: BatchEnd;
  readonly interrupted: string | null;
}

/**
 * Waits for the batch with a progress display, saying when it pauses, resumes or seems stuck. A stop signal
 * (Ctrl-C, SIGTERM) ends the waiting, not the batch. Losing Redis throws, saying what can be done.
 */
export async function waitWithProgress(wait: ScanWait, io: CliIo): Promise<WaitOutcome> {
  const progress = createProgress(io.stderr, wait.clock, wait.sizeBytes);
  const interrupt: { signal: string | null } = { signal: null };
  const stopWaiting = new AbortController();
  void io.stopSignal.then((signal) => {
    interrupt.signal = signal;
    stopWaiting.abort();
  });
  let end: BatchEnd;
  try {
    end = await waitForBatch(wait.redis, wait.prefix, wait.batchId, {
      signal: stopWaiting.signal,
      onStatus: statusReporter(wait, progress),
    });
  } catch (error) {
    // Whether the batch can be resumed depends on what Redis kept: say both ways, not a promise.
    if (error instanceof ReachscanError)
      throw new ReachscanError(
        error.code,
        `${error.message}; once Redis answers, the same command resumes the batch if Redis kept its data (persistence), else start the batch again`,
      );
    throw error;
  }
  progress.finish();
  return { end, interrupted: interrupt.signal };
}

/**
 * What the waiting scan does with each status it reads: updates the progress display, says when the batch
 * pauses or resumes, and once, after STALL_HINT_MS without a move, what may be wrong.
 */
function statusReporter(wait: ScanWait, progress: Progress): (status: BatchStatus) => void {
  const { batchId, clock, say } = wait;
  let hinted = false;
  let pausedSaid: string | null = null;
  let lastMove = { at: clock(), mark: '' };
  return (status) => {
    if (status.paused !== null && status.paused !== pausedSaid) {
      progress.finish();
      say(`batch ${batchId} paused: ${status.paused}`);
      const resume = `${[...wait.resumeEnv, 'reachscan resume'].join(' ')} ${batchId}`;
      say(
        status.pausedUntil !== null
          ? `waiting; the batch goes on by itself at the reset (to go on sooner, with more quota: ${resume})`
          : wait.resumeEnv.length > 0
            ? `waiting; from another terminal: ${resume}`
            : `waiting; Ctrl-C stops waiting (the batch stays paused; run this command again to follow it)`,
      );
      pausedSaid = status.paused;
    } else if (status.paused === null && pausedSaid !== null) {
      say(`batch ${batchId} resumed`);
      pausedSaid = null;
    }
    progress.update(status);
    const mark = `${status.state}:${status.records}:${status.answered}`;
    if (mark !== lastMove.mark) lastMove = { at: clock(), mark };
    else if (!hinted && status.paused === null && clock() - lastMove.at > STALL_HINT_MS) {
      progress.finish();
      say(
        status.state === 'queued'
          ? `batch ${batchId} is still queued: is a reachscan worker running against the same Redis?`
          : `no progress for ${STALL_HINT_MS / 1000} s: a worker may have died; another takes its jobs over within a minute or two`,
      );
      hinted = true;
    }
  };
}
