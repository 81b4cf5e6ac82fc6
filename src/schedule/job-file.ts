import { isAbsolute, resolve } from 'node:path';
import { SCAN_DEFAULTS } from '../config/defaults.js';
import { durationFlag } from '../config/options.js';
import { countryFlag } from '../config/options.js';
import type { ProviderName } from '../core/lookup-result.js';
import { PROVIDER_NAMES } from '../core/lookup-result.js';
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

/**
 * Checks one job file and builds its definition. Every problem is reported, each naming the file and the
 * field, e.g. `jobs/nightly-fleet.json: "timezone": unknown time zone "Europe/Pari"`.
 */
export function parseJobFile(input: JobFileInput): JobFileResult {
  const problems: string[] = [];
  const fileProblem = (reason: string) => problems.push(`${input.label}: ${reason}`);
  const fieldProblem = (field: string, reason: string) =>
    problems.push(`${input.label}: "${field}": ${reason}`);

  const id = input.fileName.replace(/\.json$/, '');
  if (!JOB_ID_PATTERN.test(id)) {
    fileProblem(
      `the file name is the schedule's id and may hold only letters, digits, _ and - (at most 64), before ".json"`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(input.text.replace(/^\uFEFF/, ''));
  } catch (error) {
    fileProblem(`not valid JSON (${(error as Error).message})`);
    return { ok: false, problems };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    fileProblem('must hold one JSON object ({"source": …, "cron": …, …})');
    return { ok: false, problems };
  }
  const fields = raw as Record<string, unknown>;
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

  const text = (field: string): string | undefined => {
    const value = fields[field];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value.trim() === '') {
      fieldProblem(field, `must be a non-empty string (got ${JSON.stringify(value)})`);
      return undefined;
    }
    return value;
  };
  const path = (field: string) => {
    const value = text(field);
    return value === undefined ? undefined : isAbsolute(value) ? value : resolve(input.baseDir, value);
  };
  const number = (field: string, min: number, max: number, integer: boolean): number | undefined => {
    const value = fields[field];
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
      fieldProblem(
        field,
        `must be ${integer ? 'a whole number' : 'a number'} (got ${JSON.stringify(value)})`,
      );
      return undefined;
    }
    if (value < min || value > max) {
      fieldProblem(field, `must be between ${min} and ${max} (got ${value})`);
      return undefined;
    }
    return value;
  };

  const description = text('description');
  const source = path('source');
  const out = path('out');
  const providerValue = fields.provider;
  let provider: ProviderName = 'identity-insights';
  if (providerValue !== undefined) {
    if ((PROVIDER_NAMES as readonly unknown[]).includes(providerValue))
      provider = providerValue as ProviderName;
    else
      fieldProblem(
        'provider',
        `must be ${PROVIDER_NAMES.join(' or ')} (got ${JSON.stringify(providerValue)})`,
      );
  }
  const timezone = text('timezone');
  const timezoneKnown = timezone !== undefined && isTimeZone(timezone);
  if (timezone !== undefined && !timezoneKnown) {
    fieldProblem('timezone', `unknown time zone "${timezone}"`);
  }
  const cron = text('cron');
  if (cron !== undefined) {
    // Checked in UTC when the zone is wrong, so both problems are told at once.
    const problem = cronProblem(cron, timezoneKnown ? timezone : 'UTC');
    if (problem !== null) fieldProblem('cron', problem);
  }
  const staleDays = number('staleDays', 1, 36_500, true);
  const rate = number('rate', 0, 100_000, false);
  const maxAgeMs = optional(
    'maxAge',
    (value) => durationFlag(value, 'maxAge'),
    'a duration such as 90s, 30m, 24h or 7d, or "0"',
  );
  const defaultCountry = optional(
    'defaultCountry',
    (value) => countryFlag(value),
    'an ISO country code such as GB, or null',
  );
  // null says "detect it", as leaving the field out does.
  const column = fields.column === null ? undefined : text('column');
  const enabled = fields.enabled;
  if (enabled !== undefined && typeof enabled !== 'boolean') {
    fieldProblem('enabled', `must be true or false (got ${JSON.stringify(enabled)})`);
  }

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
      description: description ?? null,
      source,
      provider,
      cron: cron.trim().split(/\s+/).join(' '),
      timezone,
      out,
      staleDays: staleDays ?? SCAN_DEFAULTS.staleDays,
      maxAgeMs: maxAgeMs ?? 0,
      column: column ?? null,
      defaultCountry: defaultCountry ?? null,
      rate: rate ?? SCAN_DEFAULTS.rate,
      enabled: enabled !== false,
    },
  };

  /** A string field read with one of the command line's grammars (its message names a flag: ours names the field). */
  function optional<T>(
    field: string,
    read: (value: string) => T | undefined,
    expected: string,
  ): T | undefined {
    const value = fields[field];
    if (value === undefined || value === null) return undefined;
    try {
      if (typeof value !== 'string') throw new TypeError('not a string');
      return read(value);
    } catch {
      fieldProblem(field, `must be ${expected} (got ${JSON.stringify(value)})`);
      return undefined;
    }
  }
}
