import { parseArgs } from 'node:util';
import pLimit from 'p-limit';
import { loadVonageConfig } from '../../config/vonage.js';
import { parseE164, type CountryCode } from '../../core/e164.js';
import { UsageError } from '../../core/errors.js';
import type { LookupOutcome } from '../../core/lookup-result.js';
import { isTransientInsightStatus } from '../../core/insight-status.js';
import { createLogger } from '../../logging/logger.js';
import { answerFromOutcome } from '../../output/answer.js';
import { createProvider } from '../../providers/create-provider.js';
import { lookupWithRetries } from '../../providers/retry.js';
import { asUsageError, numberFlag } from '../args.js';
import { startBuiltInSimulator, type BuiltInSimulator } from '../built-in-simulator.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { LOOKUP_HELP } from '../help.js';
import type { CliIo } from '../io.js';
import { logLevel } from '../runtime.js';

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
    const logger = createLogger({ level: logLevel(env) });
    const provider = createProvider(config, { logger, connections: concurrency });
    const limit = pLimit(concurrency);
    // The first refusal of our credentials stops everything: the other numbers would only be refused too.
    const stop: { fatal: string | null } = { fatal: null };
    const rows = await Promise.all(
      positionals.map((input) =>
        limit(async (): Promise<{ row: LookupRow; ok: boolean }> => {
          const e164 = parseE164(input, country as CountryCode | undefined);
          if (e164 === null) return { row: invalidRow(input), ok: false };
          if (stop.fatal !== null) return { row: invalidRow(input), ok: false }; // never printed: we stop
          const outcome = await lookupWithRetries(provider, e164);
          if (outcome.kind === 'failed' && outcome.failure.retry === 'fatal') {
            stop.fatal ??= outcome.failure.detail;
          }
          const row = toRow(input, outcome);
          return {
            row,
            ok:
              row.error === '' && !isLocalError(row.reachability_status) && !isLocalError(row.roaming_status),
          };
        }),
      ),
    );
    await provider.close();
    logger.flush();
    if (stop.fatal !== null) {
      io.stderr.write(`reachscan: the carrier refused our credentials: ${stop.fatal}\n`);
      return EXIT.infrastructure;
    }
    io.stdout.write(
      values.json
        ? rows.map((r) => JSON.stringify(r.row)).join('\n') + '\n'
        : formatTable(rows.map((r) => r.row)),
    );
    return rows.every((r) => r.ok) ? EXIT.ok : EXIT.rowErrors;
  } finally {
    await sim?.close();
  }
}

/** Local failure codes, and transient insight codes still standing after the retries. */
function isLocalError(code: string): boolean {
  return code.startsWith('ERROR_') || isTransientInsightStatus(code);
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
  const a = answerFromOutcome(outcome, '');
  return {
    input,
    phone_e164: outcome.phoneNumber,
    reachable: a.reachable,
    connectivity: a.connectivity,
    last_status_at: a.last_status_at,
    roaming: a.roaming,
    roaming_countries: a.roaming_countries,
    reachability_status: a.reachability_status,
    roaming_status: a.roaming_status,
    error: a.error,
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
