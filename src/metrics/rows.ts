import type { BatchReport } from '../output/report.js';
import type { RedisClient } from '../queue/connection.js';
import type { BatchKeys } from '../queue/keys.js';
import { FIELD, metricsKey } from './keys.js';

/** Status label of records that were not valid CSV (rejects.csv). */
export const REJECTED_STATUS = 'REJECTED_RECORD';

/**
 * Adds a finished batch's rows to `reachscan_rows_total`, by reachability status. Once per batch run: a
 * finalize step that runs again (its worker died after writing) does not count its rows twice.
 */
export async function recordBatchRows(
  redis: RedisClient,
  prefix: string,
  keys: BatchKeys,
  report: BatchReport,
): Promise<void> {
  if ((await redis.hsetnx(keys.meta, 'rowsCounted', '1')) === 0) return;
  const key = metricsKey(prefix);
  const multi = redis.multi();
  for (const [status, rows] of Object.entries(report.status_counts.reachability))
    multi.hincrby(key, FIELD.rows(status), rows);
  if (report.rows.rejected > 0) multi.hincrby(key, FIELD.rows(REJECTED_STATUS), report.rows.rejected);
  await multi.exec();
}
