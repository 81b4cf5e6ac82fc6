import { ConfigError } from '../core/errors.js';
import { PROVIDER_NAMES, type ProviderName } from '../core/lookup-result.js';
import { canonicalTimeZone } from '../core/quota-day.js';
import { DEFAULTS } from './defaults.js';
import { readEnv, type Env } from './env.js';

/**
 * The daily quota: upstream requests a day per provider, for every batch and worker of a deployment together,
 * counted in days of `timeZone`. A provider without a limit is only counted.
 */
export interface QuotaSettings {
  readonly limits: Readonly<Partial<Record<ProviderName, number>>>;
  /** IANA name, as Intl spells it (REACHSCAN_QUOTA_TZ; default UTC). */
  readonly timeZone: string;
}

/** No limit for any provider, days in UTC: what a process without the variables counts with. */
export const NO_QUOTA: QuotaSettings = { limits: {}, timeZone: DEFAULTS.quotaTimeZone };

const QUOTA = 'REACHSCAN_DAILY_QUOTA';
const ZONE = 'REACHSCAN_QUOTA_TZ';
const COUNT = /^\d+$/;
const EXAMPLE = '5000, or identity-insights=5000,camara=20000';

/**
 * REACHSCAN_DAILY_QUOTA and REACHSCAN_QUOTA_TZ, checked together: a ConfigError with one line per problem,
 * each naming its variable.
 */
export function readQuota(env: Env): QuotaSettings {
  const problems: string[] = [];
  const text = readEnv(env, QUOTA);
  const limits = text === undefined ? {} : parseQuota(text, problems);
  const zoneText = readEnv(env, ZONE) ?? DEFAULTS.quotaTimeZone;
  const timeZone = canonicalTimeZone(zoneText);
  if (timeZone === null)
    problems.push(`${ZONE}: unknown time zone "${zoneText}" (an IANA name such as Europe/Paris, or UTC)`);
  if (problems.length > 0) throw new ConfigError(problems);
  return { limits, timeZone: timeZone ?? DEFAULTS.quotaTimeZone };
}

/**
 * `5000` (each provider), `identity-insights=5000,camara=20000` (those named; the others have none), or both:
 * `5000,camara=20000` (camara 20,000, the others 5,000). Problems are pushed, naming the variable.
 */
export function parseQuota(text: string, problems: string[]): Partial<Record<ProviderName, number>> {
  let every: number | undefined;
  const named: Partial<Record<ProviderName, number>> = {};
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry === '') {
      problems.push(`${QUOTA}: an empty entry in "${text}" (e.g. ${EXAMPLE})`);
      continue;
    }
    const eq = entry.indexOf('=');
    const name = eq === -1 ? null : entry.slice(0, eq).trim();
    const count = requests(eq === -1 ? entry : entry.slice(eq + 1).trim(), entry, problems);
    if (count === null) continue;
    if (name === null) {
      if (every !== undefined) problems.push(`${QUOTA}: more than one number for every provider ("${text}")`);
      every = count;
      continue;
    }
    const provider = PROVIDER_NAMES.find((p) => p === name);
    if (provider === undefined)
      problems.push(`${QUOTA}: unknown provider "${name}" (use ${PROVIDER_NAMES.join(', ')})`);
    else if (named[provider] !== undefined) problems.push(`${QUOTA}: ${provider} is given twice`);
    else named[provider] = count;
  }
  const limits: Partial<Record<ProviderName, number>> = {};
  for (const provider of PROVIDER_NAMES) {
    const limit = named[provider] ?? every;
    if (limit !== undefined) limits[provider] = limit;
  }
  return limits;
}

/** One entry's number of requests (1 or more), or null with the problem pushed. */
function requests(text: string, entry: string, problems: string[]): number | null {
  const value = Number(text);
  if (!COUNT.test(text) || !Number.isSafeInteger(value)) {
    problems.push(`${QUOTA}: "${entry}" is not a number of requests a day (e.g. ${EXAMPLE})`);
    return null;
  }
  if (value < 1) {
    problems.push(`${QUOTA}: "${entry}" must be 1 request a day or more`);
    return null;
  }
  return value;
}
