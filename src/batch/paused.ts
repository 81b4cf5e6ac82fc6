import type { Clock } from '../core/clock.js';
import type { Logger } from '../logging/logger.js';
import type { RedisClient } from '../queue/connection.js';
import type { ChunkVerdict } from '../queue/chunk-job.js';
import { batchKeys, type BatchKeys } from '../queue/keys.js';
import { resumeDuePause } from './resume.js';
import { readControl, type BatchControl } from './state.js';

/** A paused batch's chunks look again this often; `reachscan resume` brings them back at once. */
export const PAUSED_RECHECK_MS = 60_000;
/** A pause that lifts itself is looked at again no sooner than this (workers' clocks may differ a little). */
const DUE_RECHECK_MIN_MS = 200;

/**
 * When a paused batch's chunk should look again: at the end of a pause that lifts itself (the daily quota's
 * reset: no chunk wakes for nothing in between), else after PAUSED_RECHECK_MS.
 */
export function pausedRecheckMs(until: number | null, now: number): number {
  return until === null ? PAUSED_RECHECK_MS : Math.max(DUE_RECHECK_MIN_MS, until - now);
}

/**
 * A paused batch's chunk goes back to the queue until the pause's end, or a recheck. A `reachscan resume` that
 * came between this chunk's read of the pause and its return to the queue found nothing to bring back: the
 * chunk then looks again once it is back, rather than waiting out the recheck.
 */
export function handBackPaused(
  deps: { readonly redis: RedisClient; readonly clock: Clock },
  keys: BatchKeys,
  until: number | null,
): ChunkVerdict & { kind: 'hand-back' } {
  return {
    kind: 'hand-back',
    delayMs: pausedRecheckMs(until, deps.clock()),
    stillPaused: async () => (await readControl(deps.redis, keys)).paused,
  };
}

/**
 * A batch's control, with a pause whose end has come (the daily quota was reset) lifted first and the batch's
 * other chunks brought back: the batch goes on by itself, whichever worker runs its next job.
 */
export async function controlAfterDuePause(
  deps: {
    readonly redis: RedisClient;
    readonly prefix: string;
    readonly clock: Clock;
    readonly logger: Logger;
  },
  batchId: string,
): Promise<BatchControl> {
  const keys = batchKeys(deps.prefix, batchId);
  const control = await readControl(deps.redis, keys);
  if (!control.paused || control.until === null || deps.clock() < control.until) return control;
  const chunks = await resumeDuePause(deps.redis, deps.prefix, batchId, deps.clock());
  if (chunks !== null)
    deps.logger.child({ batch: batchId }).info({ chunks }, 'batch resumed: the daily quota was reset');
  return readControl(deps.redis, keys);
}
