import { webhookSettings } from '../../config/webhooks.js';
import { readPrices } from '../../config/prices.js';
import { readQuota } from '../../config/quota.js';
import { systemClock } from '../../core/clock.js';
import { createLogger } from '../../logging/logger.js';
import { startScheduleWorker } from '../../schedule/worker.js';
import {
  historyOptions,
  inputCopyRoot,
  jobLockFromEnv,
  logLevel,
  queuePrefix,
  retryBaseFromEnv,
} from '../../config/settings.js';
import { UsageError } from '../../core/errors.js';
import { parseCommandArgs } from '../args.js';
import { numberFlag } from '../../config/options.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { WORKER_HELP } from '../help.js';
import { lineWriter, type CliIo } from '../io.js';
import { startProcessWorkers } from '../../batch/worker.js';
import { historyPrivacy } from '../../config/privacy.js';
import { providersFromEnv } from '../../providers/registry.js';
import { chooseRedis, warnIfHistoryInClear } from '../../queue/redis-choice.js';
import { SCAN_DEFAULTS } from '../../config/defaults.js';
import { checkLayout } from '../../history/layout.js';
import { createRedis } from '../../queue/connection.js';
import type { HistoryOptions } from '../../core/settings.js';

/** `reachscan worker`: processes batches from Redis until SIGTERM/SIGINT, then finishes what it holds. */
export async function runWorker(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs(argv, { concurrency: { type: 'string' } });
  if (positionals.length > 0) throw new UsageError(`worker takes no arguments (got "${positionals[0]}")`);
  if (values.help) {
    io.stdout.write(WORKER_HELP);
    return EXIT.ok;
  }
  const concurrency =
    numberFlag(values.concurrency, 'concurrency', { min: 1, max: 1024 }) ?? SCAN_DEFAULTS.concurrency;
  const logger = createLogger({ level: logLevel(io.env) === 'warn' ? 'info' : logLevel(io.env) });
  const providers = providersFromEnv(io.env, logger, concurrency);
  providers.check();
  // Read before anything starts: a bad value must end the command, not leave workers running.
  const scheduled = {
    history: historyOptions(io.env, false),
    retryBaseMs: retryBaseFromEnv(io.env),
    prices: readPrices(io.env),
  };
  const lockMs = jobLockFromEnv(io.env);
  const webhooks = webhookSettings(io.env);
  const quota = readQuota(io.env);
  const clock = io.clock ?? systemClock;
  const say = lineWriter(io.stderr, 'reachscan worker: ');
  const redis = await chooseRedis(io.env, false, say);
  warnIfHistoryInClear(io.env, redis, say);
  await checkLayoutAt(redis.url, scheduled.history);
  const workers = startProcessWorkers(providers, {
    redisUrl: redis.url,
    prefix: queuePrefix(io.env),
    concurrency,
    logger,
    clock,
    lockMs,
    ...historyPrivacy(io.env),
    webhooks,
    quota,
  });
  // Ticks of `reachscan schedule sync`'s schedulers: each starts a batch that the workers above then run.
  const schedules = startScheduleWorker({
    redisUrl: redis.url,
    prefix: queuePrefix(io.env),
    history: scheduled.history,
    retryBaseMs: scheduled.retryBaseMs,
    prices: scheduled.prices,
    copyRoot: inputCopyRoot(io.env),
    defaultWebhook: webhooks.defaultUrl,
    logger,
    clock,
  });
  logger.info({ concurrency }, 'worker started');
  io.stderr.write(
    `reachscan worker: waiting for batches and scheduled scans (concurrency ${concurrency}); stop with Ctrl-C or SIGTERM\n`,
  );
  const signal = await io.stopSignal;
  io.stderr.write(`reachscan worker: ${signal}, finishing the jobs in hand\n`);
  await Promise.all([schedules.close(), workers.close()]);
  await providers.close();
  logger.info('worker stopped');
  logger.flush();
  return EXIT.ok;
}

/** Ends the command before any worker starts when the history is laid out in another bucket count. */
async function checkLayoutAt(url: string, history: HistoryOptions): Promise<void> {
  const redis = createRedis(url, 'client');
  redis.on('error', () => {});
  try {
    await checkLayout(redis, history, false);
  } finally {
    redis.disconnect();
  }
}
