import { webhookSettings } from '../../config/webhooks.js';
import { oneLine } from '../../core/one-line.js';
import { systemClock, type Clock } from '../../core/clock.js';
import { UsageError } from '../../core/errors.js';
import { createLogger, type Logger } from '../../logging/logger.js';
import { createRedis, type RedisClient } from '../../queue/connection.js';
import type { Workers } from '../../batch/worker.js';
import {
  createLedger,
  openInbox,
  runWatcher,
  watcherIdentity,
  WORK_FOLDERS,
  type InboxLayout,
} from '../../watch/index.js';
import type { Env } from '../../config/env.js';
import type { ScanSettings } from '../../batch/prepare.js';
import { parseCommandArgs } from '../args.js';
import { durationFlag } from '../../config/options.js';
import type { BuiltInSimulator } from '../simulate/built-in.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { lineWriter, type CliIo } from '../io.js';
import { startProcessWorkers } from '../../batch/worker.js';
import { historyPrivacy } from '../../config/privacy.js';
import { readQuota, type QuotaSettings } from '../../config/quota.js';
import { startScanCarrier } from '../scan-carrier.js';
import { type ProviderRegistry } from '../../providers/registry.js';
import { chooseRedis, warnIfHistoryInClear } from '../../queue/redis-choice.js';
import { inputCopyRoot, jobLockFromEnv, logLevel, queuePrefix } from '../../config/settings.js';
import { inProcessConcurrency, SCAN_FLAGS, scanSettingsFromFlags } from '../scan-flags.js';

import { WATCH_DEFAULTS } from '../../config/defaults.js';

export { WATCH_DEFAULTS };

export const WATCH_HELP = `Usage: reachscan watch <inbox> --out DIR [options]

Watches a folder: every complete .csv, .txt, .tsv or .xlsx file dropped in <inbox> is moved to
<inbox>/${WORK_FOLDERS.processing}/ (renamed <name>-<UTC timestamp>.<ext>), scanned as reachscan scan would, and
moved to <inbox>/${WORK_FOLDERS.done}/ (outputs in DIR/<name>-<timestamp>/, rows in error included) or to
<inbox>/${WORK_FOLDERS.failed}/ with a <file>.error.txt saying why (bad input: no phone column, binary, empty…).
One line per file on stderr. Runs until Ctrl-C or SIGTERM (exit 0); a file being scanned then stays in
${WORK_FOLDERS.processing}/ and the next watcher resumes it.

A file is taken when complete: its size and modification time unchanged for --settle (a file moved in
whose modification time is already older than that is taken at the next poll). Hidden files, names starting
with ~$ or ending in ~, .part, .tmp, .crdownload or .partial are ignored: write under such a name, then
rename. Symbolic links, folders, hard links and anything else that is not a plain file are refused (moved,
never followed, to ${WORK_FOLDERS.failed}/).

Restarts and several watchers: a ledger in Redis (by content sha256, under REACHSCAN_QUEUE_PREFIX) and a
lock per file make every file scanned once; run as many watchers on one inbox as you like (same options,
same Redis, same inbox path). The same content dropped again within --dedupe-window is not scanned again:
it goes to ${WORK_FOLDERS.done}/ with a <file>.duplicate.txt naming the earlier outputs.

Options:
  --out DIR                 where each file's output folder is made (created if missing)
  --poll DURATION           how often the inbox is listed (default ${WATCH_DEFAULTS.poll}; 0.2s works too)
  --settle DURATION         how long a file must stay unchanged before it is taken (default ${WATCH_DEFAULTS.settle})
  --dedupe-window DURATION  content scanned less than this long ago is not scanned again (default
                            ${WATCH_DEFAULTS.dedupeWindow}; 0 = scan every file, restarts are still protected)
  --lock-ttl DURATION       how long a file stays locked after its watcher dies (default ${WATCH_DEFAULTS.lockTtl})
  --provider, --column, --default-country, --concurrency, --rate, --chunk-size, --stale-days, --max-age,
  --simulate, --no-worker, --bom, --no-formula-guard, --error-threshold, --error-window, --id-columns,
  --label, --sheet, --xlsx: as for reachscan scan, for every file (a file lacking an --id-columns column goes to failed/);
  without --label, the runs of files dropped under one name share the report's trend
  --webhook URL: as for reachscan scan, for every file's batch (default REACHSCAN_WEBHOOK_URL)

Durations: 90s, 1.5s, 30m, 24h, 7d. Redis: REDIS_URL must answer (a watcher needs a Redis that outlives it:
no private one is started).

Exit codes: 0 stopped by Ctrl-C or SIGTERM; 2 bad usage (no such inbox, bad flag); 3 configuration or Redis.
`;

const WATCH_FLAGS = {
  ...SCAN_FLAGS,
  out: { type: 'string' },
  poll: { type: 'string' },
  settle: { type: 'string' },
  'dedupe-window': { type: 'string' },
  'lock-ttl': { type: 'string' },
} as const;

type WatchValues = ReturnType<typeof parseCommandArgs<typeof WATCH_FLAGS>>['values'];

/** What watch runs with, every flag checked. */
interface WatchPlan {
  readonly values: WatchValues;
  readonly inbox: string;
  readonly out: string;
  readonly pollMs: number;
  readonly settleMs: number;
  readonly dedupeWindowMs: number;
  readonly lockTtlMs: number;
  readonly concurrency: number;
  readonly settings: ScanSettings;
  readonly lockMs: number;
  /** REACHSCAN_DAILY_QUOTA and REACHSCAN_QUOTA_TZ, for the in-process worker. */
  readonly quota: QuotaSettings;
}

/** What one watch run shares between its parts. */
interface WatchContext {
  readonly plan: WatchPlan;
  readonly io: CliIo;
  readonly say: (line: string) => void;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly ledgerPrefix: string;
}

/** What has started, filled in as it starts, so a failure part-way stops only that. */
interface WatchRunning {
  sim: BuiltInSimulator | null;
  providers: ProviderRegistry | null;
  workers: Workers | null;
  redis: RedisClient | null;
}

/** A duration flag with its default and bounds, in ms. */
function boundedDuration(
  value: string | undefined,
  flag: string,
  fallback: string,
  { min, max }: { min: number; max: number },
): number {
  const ms = durationFlag(value ?? fallback, flag) ?? 0;
  if (ms < min || ms > max)
    throw new UsageError(`--${flag} must be between ${min / 1000}s and ${max / 1000}s (got "${value}")`);
  return ms;
}

/** `reachscan watch <inbox> --out DIR`: the watched folder, until SIGINT/SIGTERM. */
export async function runWatch(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs(argv, WATCH_FLAGS);
  if (values.help) {
    io.stdout.write(WATCH_HELP);
    return EXIT.ok;
  }
  const plan = checkWatchFlags(values, positionals, io.env);
  const layout = await openInbox(plan.inbox, plan.out);
  const context: WatchContext = {
    plan,
    io,
    say: lineWriter(io.stderr, 'reachscan watch: '),
    clock: io.clock ?? systemClock,
    logger: createLogger({ level: logLevel(io.env) }),
    // The ledger lives under the configured prefix whatever the mode, so restarts find it.
    ledgerPrefix: queuePrefix(io.env),
  };
  const running: WatchRunning = { sim: null, providers: null, workers: null, redis: null };
  try {
    const { redis, batchPrefix } = await startWatchServices(context, running);
    await watchUntilStopped(context, layout, redis, batchPrefix);
    return EXIT.ok;
  } finally {
    await stopWatchServices(context, running);
  }
}

/** The inbox, --out and the durations checked, and the scan settings every file gets. */
function checkWatchFlags(values: WatchValues, positionals: string[], env: Env): WatchPlan {
  if (positionals.length !== 1)
    throw new UsageError('watch needs exactly one inbox folder: reachscan watch <inbox> --out DIR');
  if (values.out === undefined)
    throw new UsageError('watch needs --out DIR, the folder where each file gets its output folder');
  const pollMs = boundedDuration(values.poll, 'poll', WATCH_DEFAULTS.poll, { min: 50, max: 600_000 });
  const settleMs = boundedDuration(values.settle, 'settle', WATCH_DEFAULTS.settle, {
    min: 0,
    max: 86_400_000,
  });
  const dedupeWindowMs = boundedDuration(
    values['dedupe-window'],
    'dedupe-window',
    WATCH_DEFAULTS.dedupeWindow,
    {
      min: 0,
      max: 365 * 86_400_000,
    },
  );
  const lockTtlMs = boundedDuration(values['lock-ttl'], 'lock-ttl', WATCH_DEFAULTS.lockTtl, {
    min: 1_000,
    max: 3_600_000,
  });
  const concurrency = inProcessConcurrency(values);
  const settings = scanSettingsFromFlags(values, env);
  const lockMs = jobLockFromEnv(env);
  return {
    values,
    inbox: positionals[0] as string,
    out: values.out,
    pollMs,
    settleMs,
    dedupeWindowMs,
    lockTtlMs,
    concurrency,
    settings,
    lockMs,
    quota: readQuota(env),
  };
}

/** The carrier (the built-in simulator with --simulate), Redis, and the in-process worker unless --no-worker. */
async function startWatchServices(
  { plan, io, say, clock, logger, ledgerPrefix }: WatchContext,
  running: WatchRunning,
): Promise<{ redis: RedisClient; batchPrefix: string }> {
  const { values, concurrency } = plan;
  const carrier = await startScanCarrier(
    io.env,
    {
      simulate: values.simulate,
      inProcessWorker: !values['no-worker'],
      concurrency,
      provider: plan.settings.provider,
      clock: io.clock,
    },
    logger,
    say,
  );
  running.sim = carrier.sim;
  running.providers = carrier.providers;
  // No private Redis: the ledger must outlive this process, or a restart would scan files again.
  const choice = await chooseRedis(io.env, false, say);
  warnIfHistoryInClear(io.env, choice, say);
  const { url } = choice;
  // Simulated batches get queues of their own, so real workers never answer them from a carrier (nor the
  // in-process worker answer real ones with simulated data).
  const batchPrefix = values.simulate ? `${ledgerPrefix.slice(0, -1)}-simulate}` : ledgerPrefix;
  const redis = createRedis(url, 'client');
  running.redis = redis;
  redis.on('error', () => {});
  if (running.providers !== null) {
    running.workers = startProcessWorkers(running.providers, {
      redisUrl: url,
      prefix: batchPrefix,
      concurrency,
      logger,
      clock,
      lockMs: plan.lockMs,
      ...historyPrivacy(io.env),
      webhooks: webhookSettings(io.env),
      quota: plan.quota,
    });
  }
  return { redis, batchPrefix };
}

/** Polls the inbox until Ctrl-C or SIGTERM. */
async function watchUntilStopped(
  { plan, io, say, clock, ledgerPrefix }: WatchContext,
  layout: InboxLayout,
  redis: RedisClient,
  batchPrefix: string,
): Promise<void> {
  const { values } = plan;
  const owner = watcherIdentity();
  const stop = new AbortController();
  let signalName = '';
  void io.stopSignal.then((signal) => {
    signalName = signal;
    stop.abort();
  });
  say(
    `watching ${oneLine(layout.inbox)} (poll ${values.poll ?? WATCH_DEFAULTS.poll}, settle ${values.settle ?? WATCH_DEFAULTS.settle}) → ${oneLine(layout.outbox)}` +
      `${values['no-worker'] ? ' (reachscan worker processes do the lookups)' : ''}; stop with Ctrl-C or SIGTERM`,
  );
  await runWatcher(
    {
      layout,
      redis,
      ledger: createLedger(redis, ledgerPrefix, layout.inbox, owner, plan.lockTtlMs),
      batchPrefix,
      settings: plan.settings,
      copyRoot: inputCopyRoot(io.env),
      pollMs: plan.pollMs,
      settleMs: plan.settleMs,
      dedupeWindowMs: plan.dedupeWindowMs,
      owner,
      clock,
      say,
    },
    stop.signal,
  );
  say(`${signalName || 'stop'}: stopped`);
}

/** Stops what started, in order: the worker and its providers, Redis, then the simulator. */
async function stopWatchServices({ logger }: WatchContext, running: WatchRunning): Promise<void> {
  await running.workers?.close();
  await running.providers?.close();
  await running.redis?.quit().catch(() => undefined);
  await running.sim?.close();
  logger.flush();
}
