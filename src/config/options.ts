import { isSupportedCountry } from 'libphonenumber-js/max';
import type { CountryCode } from '../core/e164.js';
import { UsageError } from '../core/errors.js';
import { PROVIDER_LIST, PROVIDER_NAMES, type ProviderName } from '../core/lookup-result.js';
import type { BreakerSettings } from '../core/settings.js';
import { DEFAULTS } from './defaults.js';

/**
 * A scan's options as text (a flag, an API option, a field of a job file), read and checked with one set of
 * rules and ranges wherever they come from. A bad value is a UsageError naming the flag.
 */

/** Reads a numeric flag; a non-number or an out-of-range value is a usage error naming the flag. */
export function numberFlag(
  value: string | undefined,
  flag: string,
  {
    min = 0,
    max = Number.MAX_SAFE_INTEGER,
    integer = true,
  }: { min?: number; max?: number; integer?: boolean } = {},
): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || (integer && !Number.isInteger(parsed))) {
    throw new UsageError(`--${flag} must be ${integer ? 'a whole number' : 'a number'} (got "${value}")`);
  }
  if (parsed < min || parsed > max) throw new UsageError(`--${flag} must be between ${min} and ${max}`);
  return parsed;
}

/** `--default-country`: an ISO country libphonenumber knows, any case. */
export function countryFlag(value: string | undefined): CountryCode | undefined {
  if (value === undefined) return undefined;
  const upper = value.toUpperCase();
  if (!isSupportedCountry(upper)) {
    throw new UsageError(`--default-country must be an ISO country code such as GB (got "${value}")`);
  }
  return upper;
}

const DURATION_UNITS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--max-age 24h`: a duration with its unit (s, m, h, d), or 0 for "never". In ms. */
export function durationFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (value.trim() === '0') return 0;
  const match = /^(\d+(?:\.\d+)?)\s*([smhd])$/i.exec(value.trim());
  const unit = DURATION_UNITS[(match?.[2] ?? '').toLowerCase()];
  if (!match || unit === undefined) {
    throw new UsageError(`--${flag} must be a duration such as 90s, 30m, 24h or 7d (got "${value}")`);
  }
  return Math.round(Number(match[1]) * unit);
}

export function providerFlag(value: string): ProviderName {
  const provider = PROVIDER_NAMES.find((p) => p === value);
  if (provider === undefined) {
    throw new UsageError(`--provider must be ${PROVIDER_LIST} (got "${value}")`);
  }
  return provider;
}

/** `--error-threshold` and `--error-window`: when the error-ratio breaker pauses a batch. */
export function breakerFromFlags(values: {
  readonly 'error-threshold'?: string | undefined;
  readonly 'error-window'?: string | undefined;
}): BreakerSettings {
  return {
    threshold:
      numberFlag(values['error-threshold'], 'error-threshold', { min: 0.01, max: 1, integer: false }) ??
      DEFAULTS.breaker.threshold,
    window:
      numberFlag(values['error-window'], 'error-window', { min: 10, max: 100_000 }) ??
      DEFAULTS.breaker.window,
  };
}

/** `--id-columns a,b`: column names, comma-separated, each non-empty (a repeated name counts once). */
export function idColumnsFlag(value: string | undefined, flag = 'id-columns'): string[] | undefined {
  if (value === undefined) return undefined;
  const names = value.split(',').map((name) => name.trim());
  if (names.some((name) => name === '')) {
    throw new UsageError(
      `--${flag} must name columns separated by commas, e.g. customer_id,name (got "${value}")`,
    );
  }
  return [...new Set(names)];
}

/** The most a `--label` may hold; it names a Redis key and heads the report's trend. */
export const LABEL_MAX_LENGTH = 100;

/** `--label NAME`: the name runs of one source share, for the report's trend. Printable, 1–100 characters. */
export function labelFlag(value: string | undefined, flag = 'label'): string | undefined {
  if (value === undefined) return undefined;
  const label = value.trim();
  // eslint-disable-next-line no-control-regex
  if (label === '' || label.length > LABEL_MAX_LENGTH || /[\u0000-\u001f\u007f]/.test(label)) {
    throw new UsageError(
      `--${flag} must be 1 to ${LABEL_MAX_LENGTH} printable characters (got ${JSON.stringify(value)})`,
    );
  }
  return label;
}

/** `--sheet NAME`: a worksheet's name as Excel shows it on its tab (1 to 31 characters, taken as given). */
export function sheetFlag(value: string | undefined, flag = 'sheet'): string | undefined {
  if (value === undefined) return undefined;
  // eslint-disable-next-line no-control-regex
  if (value === '' || value.length > 31 || /[\u0000-\u001f\u007f]/.test(value)) {
    throw new UsageError(
      `--${flag} must be a sheet name of 1 to 31 characters (got ${JSON.stringify(value)})`,
    );
  }
  return value;
}
