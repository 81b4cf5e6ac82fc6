import { resolve } from 'node:path';
import { sinkUrl, startMonitoring, stopMonitoring, type MonitorDeps } from '../../batch/monitor.js';
import { SCAN_DEFAULTS } from '../../config/defaults.js';
import { countryFlag, durationFlag, numberFlag } from '../../config/options.js';
import { historyOptions, logLevel, redisUrlFromEnv } from '../../config/settings.js';
import { systemClock } from '../../core/clock.js';
import { maskPhone, type E164 } from '../../core/e164.js';
import { UsageError } from '../../core/errors.js';
import { MonitorStore } from '../../history/monitor-store.js';
import { readNumberedRecords } from '../../input/batch-records.js';
import { choosePhoneColumn } from '../../input/phone-column.js';
import { sniffInput } from '../../input/sniff.js';
import { createLogger } from '../../logging/logger.js';
import type { MonitorFamily } from '../../providers/camara/subscriptions.js';
import { createRedis, type RedisClient } from '../../queue/connection.js';
import { parseCommandArgs } from '../args.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { CliIo } from '../io.js';
import { monitorDepsFromEnv } from '../monitor-setup.js';

export const MONITOR_HELP = `Usage: reachscan monitor start <fleet.csv> --events reachability,roaming [--expire 30d]
       reachscan monitor status
       reachscan monitor stop

Push monitoring with --provider camara (the only one that can push): the operator tells reachscan serve at
REACHSCAN_PUBLIC_URL/events/camara when a device connects, disconnects or changes roaming, and each event is
folded into the history (evidence "event").

  start    one CAMARA subscription per number and event type; a second start with the same file makes only
           what is missing. Paced like lookups (--rate, shared with every worker through Redis).
  status   the subscriptions, their expiry, the last events and the subscriptions that ended.
  stop     deletes every subscription.

Options (start):
  --events LIST            reachability, roaming or both (comma-separated)
  --expire DURATION        how long each subscription lasts, e.g. 30d (default 30d); serve renews them
  --provider camara        the default and only choice
  --rate R                 requests a second to the operator (default: learn the cap from its 429s)
  --column NAME            the phone column (default: found by its header)
  --default-country CC     country of national numbers

Environment: the CAMARA_* settings, REACHSCAN_PUBLIC_URL, REDIS_URL.
`;

const DEFAULT_EXPIRE_MS = 30 * 86_400_000;

/** `reachscan monitor start|status|stop`. */
export async function runMonitor(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs(argv, {
    events: { type: 'string' },
    expire: { type: 'string' },
    provider: { type: 'string', default: 'camara' },
    rate: { type: 'string' },
    column: { type: 'string' },
    'default-country': { type: 'string' },
  });
  const [action, ...files] = positionals;
  if (values.help || action === undefined) {
    io.stdout.write(MONITOR_HELP);
    return values.help ? EXIT.ok : EXIT.usage;
  }
  if (values.provider !== 'camara')
    throw new UsageError(
      `monitor works with --provider camara only (got "${values.provider}"): only CAMARA operators push events`,
    );
  const rate =
    numberFlag(values.rate, 'rate', { min: 0, max: 100_000, integer: false }) ?? SCAN_DEFAULTS.rate;
  const redis = createRedis(redisUrlFromEnv(io.env).url, 'client');
  const logger = createLogger({ level: logLevel(io.env) });
  try {
    if (action === 'status') return await printStatus(io, redis);
    const deps = monitorDepsFromEnv(
      io.env,
      { redis, logger, clock: io.clock ?? systemClock, ratePerSecond: rate },
      true,
    ) as MonitorDeps;
    if (action === 'stop') {
      const { deleted, failed } = await stopMonitoring(deps);
      io.stdout.write(
        `reachscan monitor: deleted ${deleted} subscription(s)${failed > 0 ? `; ${failed} could not be deleted (run stop again)` : ''}\n`,
      );
      return failed > 0 ? EXIT.infrastructure : EXIT.ok;
    }
    if (action !== 'start') throw new UsageError(`monitor takes start, status or stop (got "${action}")`);
    if (files.length !== 1)
      throw new UsageError(
        'monitor start needs one file: reachscan monitor start <fleet.csv> --events reachability,roaming',
      );
    const families = eventsFlag(values.events);
    const expireMs = durationFlag(values.expire, 'expire') ?? DEFAULT_EXPIRE_MS;
    if (expireMs <= 0) throw new UsageError('--expire must be longer than 0');
    const numbers = fileNumbers(files[0] as string, values.column, countryFlag(values['default-country']));
    const summary = await startMonitoring(deps, numbers, families, expireMs);
    io.stdout.write(
      `reachscan monitor: ${summary.created} subscription(s) created, ${summary.existing} already there, ${summary.failed} failed; events go to ${sinkUrl(deps.publicUrl)}\n`,
    );
    if (summary.firstFailure !== null)
      io.stderr.write(`reachscan monitor: first failure: ${summary.firstFailure}\n`);
    return summary.failed > 0 ? EXIT.infrastructure : EXIT.ok;
  } finally {
    await redis.quit().catch(() => redis.disconnect());
    logger.flush();
  }
}

function eventsFlag(value: string | undefined): MonitorFamily[] {
  if (value === undefined)
    throw new UsageError('monitor start needs --events reachability,roaming (or one of them)');
  const names = value
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
  const bad = names.find((n) => n !== 'reachability' && n !== 'roaming');
  if (bad !== undefined || names.length === 0)
    throw new UsageError(`--events takes reachability, roaming or both (got "${value}")`);
  return [...new Set(names)] as MonitorFamily[];
}

/** The valid numbers of a file, each once, in file order. */
async function* fileNumbers(
  file: string,
  column: string | undefined,
  country: ReturnType<typeof countryFlag>,
): AsyncGenerator<E164> {
  const path = resolve(file);
  const shape = await sniffInput(path, file);
  const phoneColumn = choosePhoneColumn(file, shape.headers, column);
  const seen = new Set<string>();
  const source = { path, shape, displayName: file, phoneColumn, defaultCountry: country };
  for await (const item of readNumberedRecords(source)) {
    if (item.kind === 'reject' || item.phone.kind !== 'valid' || seen.has(item.phone.e164)) continue;
    seen.add(item.phone.e164);
    yield item.phone.e164;
  }
}

const LAST_LINES = 20;

async function printStatus(io: CliIo, redis: RedisClient): Promise<ExitCode> {
  const store = new MonitorStore(redis, historyOptions(io.env, false));
  const subscriptions = (await store.all()).sort((a, b) => a.expiresAtMs - b.expiresAtMs);
  const out: string[] = [`${subscriptions.length} subscription(s)`];
  for (const s of subscriptions) {
    const type = s.type.slice(s.type.lastIndexOf('.') + 1);
    out.push(
      `  ${maskPhone(s.number)}  ${type.padEnd(26)} expires ${new Date(s.expiresAtMs).toISOString()}  ${s.id}`,
    );
  }
  out.push(`last events:`);
  for (const line of await store.lines('events', LAST_LINES))
    out.push(`  ${line.at}  ${line.number}  ${line.text}`);
  const ended = await store.lines('ended', LAST_LINES);
  if (ended.length > 0) out.push('ended:');
  for (const line of ended) out.push(`  ${line.at}  ${line.number}  ${line.text}`);
  io.stdout.write(`${out.join('\n')}\n`);
  return EXIT.ok;
}
