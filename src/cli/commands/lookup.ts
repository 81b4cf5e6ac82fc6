import { parseArgs } from 'node:util';
import pLimit from 'p-limit';
import { loadVonageConfig } from '../../config/vonage.js';
import { parseE164, type CountryCode } from '../../core/e164.js';
import { UsageError } from '../../core/errors.js';
import type { LookupOutcome } from '../../core/lookup-result.js';
import { createLogger, type LogLevel } from '../../logging/logger.js';
import { createProvider } from '../../providers/create-provider.js';
import { lookupWithRetries } from '../../providers/retry.js';
import { asUsageError, numberFlag } from '../args.js';
import { startBuiltInSimulator, type BuiltInSimulator } from '../built-in-simulator.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { LOOKUP_HELP } from '../help.js';
import type { CliIo } from '../io.js';

/** One printed row: the columns results.csv will carry. */
export interface LookupRow {
  readonly input: string;
  readonly phone_e164: string;
  readonly reachable: string;
  readonly connectivity: string;
  readonly last_status_at: string;
  readonly roaming: string;
  readonly roaming_countries: string;
  readonly reachability_status: string;
  readonly roaming_status: string;
  readonly error: string;
}

export async function runLookup(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        simulate: { type: 'boolean', default: false },
        'default-country': { type: 'string' },
        json: { type: 'boolean', default: false },
        concurrency: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw asUsageError(error);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(LOOKUP_HELP);
    return EXIT.ok;
  }
  if (positionals.length === 0) throw new UsageError('lookup needs at least one phone number');
  const country = values['default-country']?.toUpperCase();
  if (country !== undefined && !/^[A-Z]{2}$/.test(country)) {
    throw new UsageError(`--default-country must be an ISO country code such as GB (got "${country}")`);
  }
  const concurrency = numberFlag(values.concurrency, 'concurrency', { min: 1, max: 256 }) ?? 8;

  let sim: BuiltInSimulator | null = null;
  let env = io.env;
  if (values.simulate) {
    sim = await startBuiltInSimulator(io.env);
    env = sim.env;
    io.stderr.write(`reachscan: using the built-in simulator at ${sim.url} (no carrier is called)\n`);
  }
  try {
    const config = loadVonageConfig(env);
    const logger = createLogger({ level: (env.REACHSCAN_LOG_LEVEL as LogLevel | undefined) ?? 'warn' });
    const provider = createProvider(config, { logger, connections: concurrency });
    const limit = pLimit(concurrency);
    const rows = await Promise.all(
      positionals.map((input) =>
        limit(async (): Promise<{ row: LookupRow; fatal: boolean; ok: boolean }> => {
          const e164 = parseE164(input, country as CountryCode | undefined);
          if (e164 === null) return { row: invalidRow(input), fatal: false, ok: false };
          const outcome = await lookupWithRetries(provider, e164);
          return {
            row: toRow(input, outcome),
            fatal: outcome.kind === 'failed' && outcome.failure.retry === 'fatal',
            ok: outcome.kind === 'answered',
          };
        }),
      ),
    );
    await provider.close();
    logger.flush();

    io.stdout.write(
      values.json
        ? rows.map((r) => JSON.stringify(r.row)).join('\n') + '\n'
        : formatTable(rows.map((r) => r.row)),
    );
    const fatal = rows.find((r) => r.fatal);
    if (fatal) {
      io.stderr.write(`reachscan: the carrier refused our credentials: ${fatal.row.error}\n`);
      return EXIT.infrastructure;
    }
    return rows.every((r) => r.ok) ? EXIT.ok : EXIT.rowErrors;
  } finally {
    await sim?.close();
  }
}

function invalidRow(input: string): LookupRow {
  return {
    input,
    phone_e164: '',
    reachable: '',
    connectivity: '',
    last_status_at: '',
    roaming: '',
    roaming_countries: '',
    reachability_status: 'INVALID_NUMBER_FORMAT',
    roaming_status: 'INVALID_NUMBER_FORMAT',
    error: 'not a valid phone number',
  };
}

export function toRow(input: string, outcome: LookupOutcome): LookupRow {
  if (outcome.kind === 'failed') {
    return {
      input,
      phone_e164: outcome.phoneNumber,
      reachable: '',
      connectivity: '',
      last_status_at: '',
      roaming: '',
      roaming_countries: '',
      reachability_status: outcome.failure.code,
      roaming_status: outcome.failure.code,
      error: outcome.failure.detail,
    };
  }
  const { reachability: r, roaming: m } = outcome;
  return {
    input,
    phone_e164: outcome.phoneNumber,
    reachable: r.reachable === null ? '' : String(r.reachable),
    connectivity: r.connectivity.join(';'),
    last_status_at: r.latestStatusAt ?? '',
    roaming: m.roaming === null ? '' : String(m.roaming),
    roaming_countries: m.countries.join(';'),
    reachability_status: r.status.code,
    roaming_status: m.status.code,
    error: '',
  };
}

const TABLE_COLUMNS: readonly (keyof LookupRow)[] = [
  'phone_e164',
  'reachable',
  'connectivity',
  'last_status_at',
  'roaming',
  'roaming_countries',
  'reachability_status',
  'roaming_status',
  'error',
];

function formatTable(rows: readonly LookupRow[]): string {
  const cells = rows.map((row) =>
    TABLE_COLUMNS.map((c) => (c === 'phone_e164' ? row.phone_e164 || row.input : row[c])),
  );
  const widths = TABLE_COLUMNS.map((c, i) => Math.max(c.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(TABLE_COLUMNS), ...cells.map(line)].join('\n') + '\n';
}
