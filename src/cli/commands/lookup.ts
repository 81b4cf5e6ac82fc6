import pLimit from 'p-limit';
import { UsageError } from '../../core/errors.js';
import { createLogger } from '../../logging/logger.js';
import { normalisePhone } from '../../input/phone.js';
import { liveAnswer } from '../../history/annotate.js';
import { answerFromOutcome, resultFields, type StoredAnswer } from '../../core/answer.js';
import { HISTORY_COLUMNS, RESULT_COLUMNS, type ResultFields } from '../../core/columns.js';
import { providerFromEnv } from '../../providers/registry.js';
import { lookupWithRetries } from '../../providers/retry.js';
import { parseCommandArgs } from '../args.js';
import { countryFlag, numberFlag, providerFlag } from '../../config/options.js';
import { startBuiltInSimulator, type BuiltInSimulator } from '../simulate/built-in.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { LOOKUP_HELP } from '../help.js';
import type { CliIo } from '../io.js';
import { logLevel } from '../../config/settings.js';

/** One printed row: the input as given, then the columns results.csv carries. */
export type LookupRow = { readonly input: string } & ResultFields;

export async function runLookup(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs(argv, {
    simulate: { type: 'boolean', default: false },
    'default-country': { type: 'string' },
    json: { type: 'boolean', default: false },
    concurrency: { type: 'string' },
    provider: { type: 'string', default: 'identity-insights' },
  });
  if (values.help) {
    io.stdout.write(LOOKUP_HELP);
    return EXIT.ok;
  }
  if (positionals.length === 0) throw new UsageError('lookup needs at least one phone number');
  const country = countryFlag(values['default-country']);
  const concurrency = numberFlag(values.concurrency, 'concurrency', { min: 1, max: 256 }) ?? 8;
  const providerName = providerFlag(values.provider);

  let sim: BuiltInSimulator | null = null;
  let env = io.env;
  if (values.simulate) {
    sim = await startBuiltInSimulator(io.env);
    env = sim.env;
    io.stderr.write(`reachscan: using the built-in simulator at ${sim.url} (no carrier is called)\n`);
  }
  try {
    const logger = createLogger({ level: logLevel(env) });
    const provider = providerFromEnv(env, providerName, { logger, connections: concurrency });
    const limit = pLimit(concurrency);
    // The first refusal of our credentials, or of how we ask (a setup failure, a used-up quota), stops
    // everything: the other numbers would only be refused too.
    const stop: { fatal: string | null } = { fatal: null };
    const rows = await Promise.all(
      positionals.map((input) =>
        limit(async (): Promise<{ row: LookupRow; ok: boolean }> => {
          const phone = normalisePhone(input, country);
          let answer: StoredAnswer | undefined;
          // After a refused credential nothing is asked any more (and nothing is printed).
          if (phone.kind === 'valid' && stop.fatal === null) {
            const outcome = await lookupWithRetries(provider, phone.e164);
            if (outcome.kind === 'failed' && outcome.failure.retry === 'fatal')
              stop.fatal ??= `the carrier refused our credentials: ${outcome.failure.detail}`;
            else if (outcome.kind === 'failed' && outcome.failure.pause !== undefined)
              stop.fatal ??= outcome.failure.pause.reason;
            const now = Date.now();
            // No history here: a lookup neither reads nor writes it.
            answer = liveAnswer(
              answerFromOutcome(outcome, new Date(now).toISOString()),
              null,
              provider.name,
              now,
              provider.servedBySimulator?.() === true,
            );
          }
          const row: LookupRow = { input, ...resultFields(phone, answer) };
          // Invalid numbers, failures and answers still transient after the retries all carry an error.
          return { row, ok: row.error === '' };
        }),
      ),
    );
    await provider.close();
    logger.flush();
    if (stop.fatal !== null) {
      io.stderr.write(`reachscan: ${stop.fatal}\n`);
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

/** The table leaves out what only a file needs; --json has every column. */
const TABLE_COLUMNS = RESULT_COLUMNS.filter(
  (c) =>
    c !== 'roaming_mcc' &&
    c !== 'checked_at' &&
    c !== 'request_id' &&
    !(HISTORY_COLUMNS as readonly string[]).includes(c),
);

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
