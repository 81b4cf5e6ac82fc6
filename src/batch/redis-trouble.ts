import { errorMessage, ReachscanError } from '../core/errors.js';

/**
 * What to say when Redis can no longer carry a batch: its state is gone (a restart without persistence, a
 * FLUSHALL, keys evicted under maxmemory), or it refuses writes. Nothing can resume such a batch, so nothing
 * here says "resume": the batch must be started again, and Redis set up so that it keeps what it is given.
 */

/** Why Redis refuses writes, from the reply's first word; null when the error is something else. */
export function writeRefusal(error: unknown): string | null {
  const message = errorMessage(error);
  if (message.startsWith('OOM'))
    return `Redis refuses writes: it is out of memory (used memory over maxmemory, no key it may evict)`;
  if (message.startsWith('READONLY')) return 'Redis refuses writes: it is a read-only replica';
  if (message.startsWith('MISCONF'))
    return 'Redis refuses writes: it cannot save its snapshot to disk (stop-writes-on-bgsave-error)';
  return null;
}

/** What to do, the same advice for both troubles. */
const ADVICE =
  'run Redis with persistence (appendonly yes) and maxmemory-policy noeviction, with memory to spare (docs/operations.md#redis)';

/** Redis no longer has the batch's state. */
export function lostBatchMessage(batchId: string): string {
  return (
    `Redis no longer has batch ${batchId} (restarted without persistence, flushed, or its keys evicted): ` +
    `the batch's progress and its answers are lost; start the batch again, and ${ADVICE}`
  );
}

/** Redis refuses the writes the batch needs. */
export function refusedWritesMessage(batchId: string | null, refusal: string): string {
  const batch = batchId === null ? 'the batch' : `batch ${batchId}`;
  return (
    `${refusal}: ${batch} cannot save its progress or its answers, so they are lost; ` +
    `start the batch again once Redis takes writes, and ${ADVICE}`
  );
}

/** A batch Redis cannot carry: exit 3, one line. */
export class RedisTroubleError extends ReachscanError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('REDIS_LOST_BATCH', message, options);
  }
}

/** Rethrows a write Redis refused as the one line that says so; anything else as it is. */
export function rethrowRefusal(error: unknown, batchId: string | null): never {
  const refusal = writeRefusal(error);
  if (refusal !== null) throw new RedisTroubleError(refusedWritesMessage(batchId, refusal), { cause: error });
  throw error;
}
