import { readFile } from 'node:fs/promises';
import { maskPhone, parseE164, type CountryCode } from '../../core/e164.js';
import { ReachscanError, UsageError } from '../../core/errors.js';
import { formatHeld, heldView } from '../../history/held-view.js';
import { StateStore } from '../../history/state-store.js';
import { createRedis, redactUrl, redisAnswers, type RedisClient } from '../../queue/connection.js';
import { countryFlag } from '../../config/options.js';
import { stateSecretFromEnv } from '../../config/privacy.js';
import { historyOptions, redisUrlFromEnv } from '../../config/settings.js';
import type { Env } from '../../config/env.js';
import { parseCommandArgs } from '../args.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { FORGET_HELP, HISTORY_HELP } from '../help.js';
import type { CliIo } from '../io.js';

/**
 * `reachscan history <number>` / `reachscan history migrate`: what is held about a number; moving old entries
 * into the configured buckets and names.
 */
export async function runHistory(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs(argv, {
    'default-country': { type: 'string' },
    simulate: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  });
  if (values.help) {
    io.stdout.write(HISTORY_HELP);
    return EXIT.ok;
  }
  if (positionals.length !== 1)
    throw new UsageError('history needs one phone number (reachscan history <number>) or "migrate"');
  const store = await openStore(io.env, values.simulate);
  try {
    if (positionals[0] === 'migrate') return await migrate(store.store, io);
    const number = parseNumber(positionals[0] as string, countryFlag(values['default-country']), 'argument');
    const view = heldView(number, await store.store.heldAbout(number));
    io.stdout.write(values.json ? `${JSON.stringify(view, null, 2)}\n` : formatHeld(view));
    return EXIT.ok;
  } finally {
    await store.redis.quit().catch(() => undefined);
  }
}

/** `reachscan forget <number>... | --file F`: erases numbers from the history and says how many were there. */
export async function runForget(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs(argv, {
    file: { type: 'string' },
    'default-country': { type: 'string' },
    simulate: { type: 'boolean', default: false },
  });
  if (values.help) {
    io.stdout.write(FORGET_HELP);
    return EXIT.ok;
  }
  const country = countryFlag(values['default-country']);
  const numbers = positionals.map((raw, i) => parseNumber(raw, country, `argument ${i + 1}`));
  if (values.file !== undefined) numbers.push(...(await numbersOfFile(values.file, country)));
  if (numbers.length === 0) throw new UsageError('forget needs phone numbers or --file F');
  const unique = [...new Set(numbers)];
  const store = await openStore(io.env, values.simulate);
  try {
    const held = await store.store.forget(unique);
    io.stdout.write(
      `forgot ${held} of ${unique.length} number${unique.length === 1 ? '' : 's'} (${unique.length - held} not in the history)\n`,
    );
    return EXIT.ok;
  } finally {
    await store.redis.quit().catch(() => undefined);
  }
}

async function migrate(store: StateStore, io: CliIo): Promise<ExitCode> {
  const { moved, hashed, keptNewer, buckets } = await store.migrate();
  const plural = (n: number) => (n === 1 ? '' : 's');
  io.stdout.write(
    `moved ${moved} number${plural(moved)} (${hashed} to hashed keys) into the history's ${buckets} bucket${plural(buckets)}; ` +
      `${keptNewer} already had a newer entry (old key removed)\n`,
  );
  return EXIT.ok;
}

async function openStore(env: Env, simulate: boolean): Promise<{ store: StateStore; redis: RedisClient }> {
  const secret = stateSecretFromEnv(env);
  const history = historyOptions(env, simulate);
  const { url } = redisUrlFromEnv(env);
  if (!(await redisAnswers(url)))
    throw new ReachscanError(
      'REDIS_UNAVAILABLE',
      `Redis at ${redactUrl(url)} is not answering (set REDIS_URL)`,
    );
  const redis = createRedis(url, 'client');
  redis.on('error', () => {});
  return { store: new StateStore(redis, history, secret), redis };
}

/** A number as E.164; a bad one is one usage line that shows only its last digits. */
function parseNumber(raw: string, country: CountryCode | undefined, where: string): string {
  const number = parseE164(raw, country);
  if (number === null)
    throw new UsageError(
      `${where}: ${maskPhone(raw.trim())} is not a valid phone number (national forms need --default-country)`,
    );
  return number;
}

/** One number per line (a CSV line's first cell); blank lines and lines starting with # are skipped. */
async function numbersOfFile(path: string, country: CountryCode | undefined): Promise<string[]> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`${path}: cannot be read (${error.code ?? 'error'})`);
  });
  const numbers: string[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const cell = (line.split(/[,;\t]/)[0] ?? '').replace(/^"|"$/g, '').trim();
    if (cell === '' || cell.startsWith('#')) return;
    numbers.push(parseNumber(cell, country, `${path} line ${i + 1}`));
  });
  return numbers;
}
