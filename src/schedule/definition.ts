import type { Budget } from '../config/budget.js';
import type { CountryCode } from '../core/e164.js';
import type { ProviderName } from '../core/lookup-result.js';
import { PROVIDER_NAMES } from '../core/lookup-result.js';

/** The name of the jobs the schedulers produce, one per tick. */
export const SCHEDULED_SCAN_JOB = 'scheduled-scan';
/** Bumped when the job data's shape changes, so `schedule sync` rewrites every scheduler once. */
export const SCHEDULE_DATA_VERSION = 1;

/**
 * A named scan, from `jobs/<id>.json`, validated; paths are absolute (resolved against the job file's folder).
 * This is also the data of every job its scheduler produces: paths and options, never credentials.
 */
export interface ScheduleDefinition {
  readonly version: typeof SCHEDULE_DATA_VERSION;
  /** The job file's name without `.json`: the scheduler's id and the prefix of each run's folder. */
  readonly id: string;
  /** The job file as the user named it, for messages. */
  readonly jobFile: string;
  readonly description: string | null;
  /** The CSV file to scan, absolute. */
  readonly source: string;
  readonly provider: ProviderName;
  /** Cron pattern, 5 fields (minute first) or 6 (second first). */
  readonly cron: string;
  /** IANA time zone the pattern is read in. */
  readonly timezone: string;
  /** Folder under which each run writes `<id>-<UTC timestamp>/`, absolute. */
  readonly out: string;
  readonly staleDays: number;
  /** Answers from the history younger than this are reused (ms); 0 = always ask. */
  readonly maxAgeMs: number;
  /** The phone column by name; detected when null. */
  readonly column: string | null;
  readonly defaultCountry: CountryCode | null;
  /** Upstream requests per second for all workers together; 0 = no cap of ours. */
  readonly rate: number;
  readonly enabled: boolean;
  /** Input columns shown beside each number in the longest-gaps list; absent: the default ones. */
  readonly idColumns?: readonly string[];
  /** The trend's label; absent: the schedule's id. Runs of one label share a trend. */
  readonly label?: string;
  /** Why its runs ask (`purpose`); absent: the provider's configured purpose. */
  readonly purpose?: string;
  /** The worksheet of an Excel source; absent: its first sheet. */
  readonly sheet?: string;
  /** Also write results.xlsx. */
  readonly xlsx?: boolean;
  /** Where each run's webhook events go; absent: REACHSCAN_WEBHOOK_URL of the worker, if set. */
  readonly webhook?: string;
  /** What each run may spend on upstream requests (`--budget`); absent: no cap. */
  readonly budget?: Budget;
}

/** Job data comes back from Redis untyped: check the shape before trusting it. */
export function assertScheduleDefinition(data: unknown): asserts data is ScheduleDefinition {
  const d = data as Partial<ScheduleDefinition> | null;
  const stringOrNull = (v: unknown) => v === null || typeof v === 'string';
  if (
    typeof d !== 'object' ||
    d === null ||
    d.version !== SCHEDULE_DATA_VERSION ||
    typeof d.id !== 'string' ||
    typeof d.jobFile !== 'string' ||
    typeof d.source !== 'string' ||
    !(PROVIDER_NAMES as readonly unknown[]).includes(d.provider) ||
    typeof d.cron !== 'string' ||
    typeof d.timezone !== 'string' ||
    typeof d.out !== 'string' ||
    typeof d.staleDays !== 'number' ||
    typeof d.maxAgeMs !== 'number' ||
    !stringOrNull(d.column) ||
    !stringOrNull(d.defaultCountry) ||
    typeof d.rate !== 'number' ||
    !(
      d.idColumns === undefined ||
      (Array.isArray(d.idColumns) && d.idColumns.every((c) => typeof c === 'string'))
    ) ||
    !(d.label === undefined || typeof d.label === 'string') ||
    !(d.sheet === undefined || typeof d.sheet === 'string') ||
    !(d.xlsx === undefined || typeof d.xlsx === 'boolean') ||
    !(d.webhook === undefined || typeof d.webhook === 'string')
  ) {
    throw new TypeError('scheduled scan data has an unexpected shape');
  }
}
