import type { Clock } from '../core/clock.js';
import { FINISHED_STATES, type BatchService } from './batches.js';
import type { DataDir } from './data-dir.js';

const DAY_MS = 24 * 60 * 60 * 1_000;
/** How often a running server sweeps again. */
export const SWEEP_INTERVAL_MS = 60 * 60 * 1_000;

export interface SweepDeps {
  readonly dataDir: DataDir;
  readonly batches: BatchService;
  readonly clock: Clock;
  readonly retentionDays: number;
}

/**
 * Removes finished batches submitted more than `retentionDays` ago (folder and, unless another batch reads it,
 * upload), then uploads that old that no batch reads. A batch still running is kept whatever its age.
 */
export async function sweepOldBatches(deps: SweepDeps): Promise<{ batches: number; uploads: number }> {
  if (deps.retentionDays <= 0) return { batches: 0, uploads: 0 };
  const cutoff = deps.clock() - deps.retentionDays * DAY_MS;
  let batches = 0;
  for (const id of await deps.dataDir.batchIds()) {
    const record = await deps.dataDir.readRecord(id).catch(() => null);
    if (record === null || Date.parse(record.submittedAt) >= cutoff) continue;
    const view = await deps.batches.view(id).catch(() => null);
    if (view !== null && !FINISHED_STATES.includes(view.state)) continue;
    await deps.dataDir.removeBatch(id, record.inputSha256);
    batches++;
  }
  let uploads = 0;
  for (const upload of await deps.dataDir.uploadFiles()) {
    if (upload.modifiedMs >= cutoff || (await deps.dataDir.uploadInUse(upload.sha256))) continue;
    await deps.dataDir.removeUpload(upload.sha256);
    uploads++;
  }
  return { batches, uploads };
}
