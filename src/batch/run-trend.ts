import { RunLog } from '../history/run-log.js';
import type { BatchReport } from '../output/report.js';
import { parseTrend, trendEntry, trendRunId, type TrendEntry } from '../output/report-trend.js';
import type { RedisClient } from '../queue/connection.js';
import type { BatchJobData } from '../queue/job-data.js';

/**
 * The reports' trend for a batch with a label: records the run in the label's log (once: a finalize run again
 * replaces its own entry) and returns the label's runs, this one included. Undefined without a label.
 */
export function labelTrend(
  redis: RedisClient,
  data: Pick<BatchJobData, 'label' | 'history'>,
): ((report: BatchReport) => Promise<readonly TrendEntry[]>) | undefined {
  const label = data.label ?? null;
  if (label === null) return undefined;
  const log = new RunLog(redis, data.history);
  return async (report) =>
    parseTrend(await log.record(label, trendRunId(report), JSON.stringify(trendEntry(report))));
}
