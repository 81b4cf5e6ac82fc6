import { parseArgs, type ParseArgsConfig } from 'node:util';
import { isSupportedCountry } from 'libphonenumber-js/max';
import type { CountryCode } from '../core/e164.js';
import { UsageError } from '../core/errors.js';

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

/** Node's parseArgs errors are precise but verbose; keep the first sentence as a usage error. */
export function asUsageError(error: unknown): UsageError {
  const message = error instanceof Error ? error.message : String(error);
  return new UsageError(message.split('\n')[0]?.replace(/\. To specify .*$/, '') ?? message);
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

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

const HELP_OPTION = { help: { type: 'boolean', short: 'h', default: false } } as const;

/**
 * A command's flags and positionals, with `--help`/`-h` always there. Unknown flags and missing values become
 * one usage line (exit 2) instead of Node's multi-line error.
 */
interface CommandConfig<T extends OptionsConfig> {
  args: string[];
  allowPositionals: true;
  strict: true;
  options: T & typeof HELP_OPTION;
}

export function parseCommandArgs<T extends OptionsConfig>(
  argv: readonly string[],
  options: T,
): ReturnType<typeof parseArgs<CommandConfig<T>>> {
  try {
    return parseArgs<CommandConfig<T>>({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: { ...options, ...HELP_OPTION },
    });
  } catch (error) {
    throw asUsageError(error);
  }
}
