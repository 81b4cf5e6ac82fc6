import { parseBudget } from '../config/budget.js';
import { isAbsolute, resolve } from 'node:path';
import { SCAN_DEFAULTS } from '../config/defaults.js';
import { isHttpUrl } from '../config/env.js';
import { countryFlag, durationFlag, idColumnsFlag, labelFlag, sheetFlag } from '../config/options.js';
import { purposeFlag } from '../config/privacy.js';
import type { ProviderName } from '../core/lookup-result.js';
import { PROVIDER_LIST, PROVIDER_NAMES } from '../core/lookup-result.js';
import { cronProblem, isTimeZone } from './cron.js';
import { SCHEDULE_DATA_VERSION, type ScheduleDefinition } from './definition.js';

/** A job's id is its file name: it names the scheduler, the run folders and log lines, so keep it plain. */
export const JOB_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Every field a job file may hold; anything else is refused so a typo cannot silently fall back to a default. */
export const JOB_FIELDS = [
  'description',
  'source',
  'provider',
  'cron',
  'timezone',
  'out',
  'staleDays',
  'maxAge',
  'column',
  'defaultCountry',
  'rate',
  'enabled',
  'idColumns',
  'label',
  'purpose',
  'sheet',
  'xlsx',
  'webhook',
  'budget',
] as const;
const REQUIRED_FIELDS = ['source', 'cron', 'timezone', 'out'] as const;

export type JobFileResult =
  | { readonly ok: true; readonly definition: ScheduleDefinition }
  | { readonly ok: false; readonly problems: readonly string[] };

export interface JobFileInput {
  /** The file as the user would name it (`jobs/nightly-fleet.json`), at the start of every problem. */
  readonly label: string;
  /** The file's base name, `nightly-fleet.json`. */
  readonly fileName: string;
  readonly text: string;
  /** Relative `source` and `out` resolve against this folder (the job file's). */
  readonly baseDir: string;
}

type FileProblem = (reason: string) => void;
type FieldProblem = (field: string, reason: string) => void;

/**
 * Checks one job file and builds its definition. Every problem is reported, each naming the file and the
 * field, e.g. `jobs/nightly-fleet.json: "timezone": unknown time zone "Europe/Pari"`.
 */
export function parseJobFile(input: JobFileInput): JobFileResult {
  const problems: string[] = [];
  const fileProblem = (reason: string) => problems.push(`${input.label}: ${reason}`);
  const fieldProblem = (field: string, reason: string) =>
    problems.push(`${input.label}: "${field}": ${reason}`);

  const id = jobId(input.fileName, fileProblem);
  const fields = readJsonObject(input.text, fileProblem);
  if (fields === null) return { ok: false, problems };
  checkFieldNames(fields, fieldProblem);

  // Each group reports what it cannot use and goes on, so one pass tells every problem of the file.
  const job = new JobFields(fields, input.baseDir, fieldProblem);
  const target = readScanTarget(job);
  const { cron, timezone } = readWhen(job);
  const options = readScanOptions(job);
  const enabled = readEnabled(job);

  const { source, out } = target;
  if (
    problems.length > 0 ||
    source === undefined ||
    out === undefined ||
    cron === undefined ||
    timezone === undefined
  ) {
    return { ok: false, problems };
  }
  return {
    ok: true,
    definition: {
      version: SCHEDULE_DATA_VERSION,
      id,
      jobFile: input.label,
      description: target.description ?? null,
      source,
      provider: target.provider,
      cron: cron.trim().split(/\s+/).join(' '),
      timezone,
      out,
      ...options,
      enabled,
    },
  };
}

/** The schedule's id: the file name without `.json`. */
function jobId(fileName: string, fileProblem: FileProblem): string {
  const id = fileName.replace(/\.json$/, '');
  if (!JOB_ID_PATTERN.test(id)) {
    fileProblem(
      `the file name is the schedule's id and may hold only letters, digits, _ and - (at most 64), before ".json"`,
    );
  }
  return id;
}

/** The file's one JSON object, or null (with the problem) when it holds anything else. */
function readJsonObject(text: string, fileProblem: FileProblem): Record<string, unknown> | null {
  let raw: unknown;
  try {
    raw = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    fileProblem(`not valid JSON (${(error as Error).message})`);
    return null;
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    fileProblem('must hold one JSON object ({"source": …, "cron": …, …})');
    return null;
  }
  return raw as Record<string, unknown>;
}

/** Unknown fields (with the field meant, when only its case differs) and missing required ones. */
function checkFieldNames(fields: Readonly<Record<string, unknown>>, fieldProblem: FieldProblem): void {
  for (const key of Object.keys(fields)) {
    if ((JOB_FIELDS as readonly string[]).includes(key)) continue;
    const meant = JOB_FIELDS.find((f) => f.toLowerCase() === key.toLowerCase());
    fieldProblem(
      key,
      meant !== undefined
        ? `unknown field; did you mean "${meant}"?`
        : `unknown field (the fields are ${JOB_FIELDS.join(', ')})`,
    );
  }
  for (const key of REQUIRED_FIELDS) {
    if (fields[key] === undefined) fieldProblem(key, 'is required');
  }
}

/** A job file's fields, read one at a time: a value that cannot be used is reported, then read as absent. */
class JobFields {
  constructor(
    private readonly fields: Readonly<Record<string, unknown>>,
    /** Relative paths resolve against this folder (the job file's). */
    private readonly baseDir: string,
    readonly problem: FieldProblem,
  ) {}

  value(field: string): unknown {
    return this.fields[field];
  }

  text(field: string): string | undefined {
    const value = this.fields[field];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value.trim() === '') {
      this.problem(field, `must be a non-empty string (got ${JSON.stringify(value)})`);
      return undefined;
    }
    return value;
  }

  path(field: string): string | undefined {
    const value = this.text(field);
    return value === undefined ? undefined : isAbsolute(value) ? value : resolve(this.baseDir, value);
  }

  number(field: string, min: number, max: number, integer: boolean): number | undefined {
    const value = this.fields[field];
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
      this.problem(
        field,
        `must be ${integer ? 'a whole number' : 'a number'} (got ${JSON.stringify(value)})`,
      );
      return undefined;
    }
    if (value < min || value > max) {
      this.problem(field, `must be between ${min} and ${max} (got ${value})`);
      return undefined;
    }
    return value;
  }

  /** A string field read with one of the command line's grammars (its message names a flag: ours names the field). */
  withGrammar<T>(field: string, read: (value: string) => T | undefined, expected: string): T | undefined {
    const value = this.fields[field];
    if (value === undefined || value === null) return undefined;
    try {
      if (typeof value !== 'string') throw new TypeError('not a string');
      return read(value);
    } catch {
      this.problem(field, `must be ${expected} (got ${JSON.stringify(value)})`);
      return undefined;
    }
  }
}

/** What to scan, where each run writes, and with which provider. */
function readScanTarget(job: JobFields) {
  const description = job.text('description');
  const source = job.path('source');
  const out = job.path('out');
  return { description, source, out, provider: readProvider(job) };
}

function readProvider(job: JobFields): ProviderName {
  const value = job.value('provider');
  if (value === undefined) return 'identity-insights';
  if ((PROVIDER_NAMES as readonly unknown[]).includes(value)) return value as ProviderName;
  job.problem('provider', `must be ${PROVIDER_LIST} (got ${JSON.stringify(value)})`);
  return 'identity-insights';
}

/** When it runs: the time zone, then the cron pattern read in it. */
function readWhen(job: JobFields): { cron: string | undefined; timezone: string | undefined } {
  const timezone = job.text('timezone');
  const timezoneKnown = timezone !== undefined && isTimeZone(timezone);
  if (timezone !== undefined && !timezoneKnown) {
    job.problem('timezone', `unknown time zone "${timezone}"`);
  }
  const cron = job.text('cron');
  if (cron !== undefined) {
    // Checked in UTC when the zone is wrong, so both problems are told at once.
    const problem = cronProblem(cron, timezoneKnown ? timezone : 'UTC');
    if (problem !== null) job.problem('cron', problem);
  }
  return { cron, timezone };
}

type ScanOptions = Pick<
  ScheduleDefinition,
  | 'staleDays'
  | 'maxAgeMs'
  | 'column'
  | 'defaultCountry'
  | 'rate'
  | 'idColumns'
  | 'label'
  | 'purpose'
  | 'sheet'
  | 'xlsx'
  | 'webhook'
  | 'budget'
>;

/** How each run scans; a field left out takes `reachscan scan`'s default. */
function readScanOptions(job: JobFields): ScanOptions {
  const staleDays = job.number('staleDays', 1, 36_500, true);
  const rate = job.number('rate', 0, 100_000, false);
  const maxAgeMs = job.withGrammar(
    'maxAge',
    (value) => durationFlag(value, 'maxAge'),
    'a duration such as 90s, 30m, 24h or 7d, or "0"',
  );
  const defaultCountry = job.withGrammar(
    'defaultCountry',
    (value) => countryFlag(value),
    'an ISO country code such as GB, or null',
  );
  // null says "detect it", as leaving the field out does.
  const column = job.value('column') === null ? undefined : job.text('column');
  const idColumns = readIdColumns(job);
  const label = job.withGrammar('label', (value) => labelFlag(value), '1 to 100 printable characters');
  const xlsx = readXlsx(job);
  const purpose = job.withGrammar(
    'purpose',
    (value) => purposeFlag(value),
    'a purpose name such as FraudPreventionAndDetection',
  );
  const sheet = job.withGrammar('sheet', (value) => sheetFlag(value), 'a sheet name of 1 to 31 characters');
  const webhook = job.withGrammar(
    'webhook',
    (value) => (isHttpUrl(value) ? value : undefined),
    'an http(s) URL',
  );
  const budget = job.withGrammar(
    'budget',
    (value) => parseBudget(value, 'budget'),
    'a number of requests such as "500" or an amount such as "25EUR"',
  );
  return {
    staleDays: staleDays ?? SCAN_DEFAULTS.staleDays,
    maxAgeMs: maxAgeMs ?? 0,
    column: column ?? null,
    defaultCountry: defaultCountry ?? null,
    rate: rate ?? SCAN_DEFAULTS.rate,
    // Left out when not given, so the definitions of existing job files stay as they were.
    ...(idColumns !== undefined ? { idColumns } : {}),
    ...(label !== undefined ? { label } : {}),
    ...(purpose !== undefined ? { purpose } : {}),
    ...(sheet !== undefined ? { sheet } : {}),
    ...(xlsx === true ? { xlsx } : {}),
    ...(webhook !== undefined ? { webhook } : {}),
    ...(budget !== undefined ? { budget } : {}),
  };
}

/** `idColumns`: a list of column names (`["customer_id", "name"]`), or the flag's `"customer_id,name"`. */
function readIdColumns(job: JobFields): string[] | undefined {
  const value = job.value('idColumns');
  const expected = 'a list of column names such as ["customer_id", "name"]';
  if (Array.isArray(value)) {
    if (value.length > 0 && value.every((v) => typeof v === 'string' && v.trim() !== ''))
      return [...new Set((value as string[]).map((v) => v.trim()))];
    job.problem('idColumns', `must be ${expected} (got ${JSON.stringify(value)})`);
    return undefined;
  }
  return job.withGrammar('idColumns', (v) => idColumnsFlag(v), expected);
}

function readEnabled(job: JobFields): boolean {
  const enabled = job.value('enabled');
  if (enabled !== undefined && typeof enabled !== 'boolean') {
    job.problem('enabled', `must be true or false (got ${JSON.stringify(enabled)})`);
  }
  return enabled !== false;
}

/** `xlsx: true` also writes results.xlsx. */
function readXlsx(job: JobFields): boolean {
  const xlsx = job.value('xlsx');
  if (xlsx !== undefined && typeof xlsx !== 'boolean')
    job.problem('xlsx', `must be true or false (got ${JSON.stringify(xlsx)})`);
  return xlsx === true;
}
