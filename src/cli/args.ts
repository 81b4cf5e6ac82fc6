import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../core/errors.js';

/** Node's parseArgs errors are precise but verbose; keep the first sentence as a usage error. */
export function asUsageError(error: unknown): UsageError {
  const message = error instanceof Error ? error.message : String(error);
  return new UsageError(message.split('\n')[0]?.replace(/\. To specify .*$/, '') ?? message);
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
