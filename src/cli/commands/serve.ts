import { readPrices } from '../../config/prices.js';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { SCAN_DEFAULTS } from '../../config/defaults.js';
import { webhookSettings, type WebhookSettings } from '../../config/webhooks.js';
import { startWebhookDeliveries, type WebhookDeliveries } from '../../notify/delivery-worker.js';
import { closeWebhookQueues } from '../../notify/events.js';
import {
  historyOptions,
  jobLockFromEnv,
  logLevel,
  queuePrefix,
  retryBaseFromEnv,
} from '../../config/settings.js';
import { BatchService } from '../../api/batches.js';
import { loadApiConfig, type ApiConfig } from '../../config/api.js';
import type { Env } from '../../config/env.js';
import { openQueues } from '../../api/dashboard.js';
import { DataDir } from '../../api/data-dir.js';
import { RetryMerger } from '../../batch/retry-merger.js';
import { sweepOldBatches, SWEEP_INTERVAL_MS } from '../../api/retention.js';
import { buildApiServer, type ApiServerDeps } from '../../api/server.js';
import { systemClock, type Clock } from '../../core/clock.js';
import { ConfigError, ReachscanError, UsageError } from '../../core/errors.js';
import { createLogger, type Logger } from '../../logging/logger.js';
import { createRedis, type RedisClient } from '../../queue/connection.js';
import type { Workers } from '../../batch/worker.js';
import { parseCommandArgs } from '../args.js';
import { numberFlag } from '../../config/options.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { lineWriter, type CliIo } from '../io.js';
import { startProcessWorkers } from '../../batch/worker.js';
import { historyPrivacy } from '../../config/privacy.js';
import { readQuota, type QuotaSettings } from '../../config/quota.js';
import { providersFromEnv, type ProviderRegistry } from '../../providers/registry.js';
import { deviceChangedWebhook, renewDue } from '../../batch/monitor.js';
import { MONITOR_RENEW_CHECK_MS } from '../../config/monitor.js';
import { checkLayout } from '../../history/layout.js';
import { StateStore } from '../../history/state-store.js';
import { announceDeviceChange } from '../../api/events-route.js';
import type { EventRouteDeps } from '../../api/events-route.js';
import { monitorDepsFromEnv } from '../monitor-setup.js';
import { chooseRedis, warnIfHistoryInClear, type RedisChoice } from '../../queue/redis-choice.js';

export const SERVE_HELP = `Usage: reachscan serve [--host HOST] [--port N] [--worker [--concurrency N]]

Runs the HTTP API: upload a CSV file as a batch, follow its progress, download results.csv (also while it
runs: the rows answered so far) and the reports, retry the rows in error; /metrics for Prometheus and the
bull-board dashboard at /admin/queues; the console, pages for people in a browser, at / (sign in with the
token). Every endpoint but /healthz needs the token (REACHSCAN_API_TOKEN) as
"Authorization: Bearer <token>" (a browser may give it as the password of the login prompt).

Batches are done by reachscan worker processes on the same Redis and the same data folder; --worker runs one
in this process too.

Options:
  --host HOST        listen address (default REACHSCAN_API_HOST or 127.0.0.1)
  --port N           port, 0 picks a free one (default REACHSCAN_API_PORT or 8080)
  --worker           also process batches in this process (needs the VONAGE_* configuration)
  --concurrency N    lookups in flight in that worker (default ${SCAN_DEFAULTS.concurrency})

Environment: REACHSCAN_API_TOKEN (required, 16+ characters), REACHSCAN_API_HOST, REACHSCAN_API_PORT,
REACHSCAN_DATA_DIR (default ./data), REACHSCAN_API_MAX_UPLOAD_MB (default 100), REDIS_URL,
REACHSCAN_QUEUE_PREFIX, REACHSCAN_BATCH_RETENTION_DAYS (default 30: finished batches and uploads older than
that are removed; 0 keeps them), and for --worker the VONAGE_* variables.

Prints "reachscan serve: listening on http://HOST:PORT" once it accepts requests. SIGTERM or Ctrl-C: stops
taking requests, finishes those in hand (and the worker's jobs), exits 0.
`;

/** The flags of `reachscan serve`, checked. */
interface ServeFlags {
  readonly host: string | undefined;
  readonly port: string | undefined;
  readonly worker: boolean;
  readonly concurrency: number;
}

/** What serve runs with, all read before anything starts. */
interface ServeSetup {
  readonly flags: ServeFlags;
  readonly config: ApiConfig;
  readonly server: ApiServerDeps['server'];
  readonly lockMs: number;
  readonly prefix: string;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Providers of the in-process worker (--worker), credentials checked; else null. */
  readonly providers: ProviderRegistry | null;
  readonly env: Env;
  readonly privacy: ReturnType<typeof historyPrivacy>;
  /** REACHSCAN_WEBHOOK_*: serve delivers queued webhook events itself when a secret is set. */
  readonly webhooks: WebhookSettings;
  /** REACHSCAN_DAILY_QUOTA and REACHSCAN_QUOTA_TZ: for `/metrics`, and the in-process worker. */
  readonly quota: QuotaSettings;
}

/** What has started, filled in as it starts, so a failure part-way stops only that. */
interface ServeRunning {
  readonly redisChoice: RedisChoice;
  readonly redis: RedisClient;
  readonly dataDir: DataDir;
  readonly merger: RetryMerger;
  queues: Queue[];
  workers: Workers | null;
  /** Renews CAMARA subscriptions before they expire (push monitoring set up), else null. */
  renewals: NodeJS.Timeout | null;
  /** Webhook deliveries of serve itself, when no in-process worker runs them. */
  deliveries: WebhookDeliveries | null;
  sweeper: NodeJS.Timeout | null;
}

/** `reachscan serve`: the HTTP API until SIGTERM/SIGINT. */
export async function runServe(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  const flags = parseServeFlags(argv);
  if (flags === 'help') {
    io.stdout.write(SERVE_HELP);
    return EXIT.ok;
  }
  const setup = readServeSetup(flags, io);
  const say = lineWriter(io.stderr, 'reachscan serve: ');
  const running = await connectServe(setup, io.env, say);
  try {
    // A history laid out in another bucket count ends the command here, not in every request after.
    await checkLayout(running.redis, setup.server.history, false);
    const app = await startServe(setup, running);
    running.merger.start();
    io.stdout.write(`reachscan serve: listening on ${listeningUrl(app, setup.config)}\n`);
    say(
      `data in ${setup.config.dataDir}; ${running.workers !== null ? `a worker runs in this process (concurrency ${flags.concurrency})` : 'batches are done by reachscan worker processes on the same Redis'}`,
    );
    const signal = await io.stopSignal;
    say(`${signal}: finishing the requests in hand`);
    await app.close();
    return EXIT.ok;
  } finally {
    await shutDownServe(setup, running);
  }
}

/** The command line, checked; 'help' for --help. */
function parseServeFlags(argv: readonly string[]): ServeFlags | 'help' {
  const { values, positionals } = parseCommandArgs(argv, {
    host: { type: 'string' },
    port: { type: 'string' },
    worker: { type: 'boolean', default: false },
    concurrency: { type: 'string' },
  });
  if (values.help) return 'help';
  if (positionals.length > 0) throw new UsageError(`serve takes no arguments (got "${positionals[0]}")`);
  if (!values.worker && values.concurrency !== undefined)
    throw new UsageError(
      '--concurrency sets the in-process worker: give --worker too, or use reachscan worker',
    );
  const concurrency =
    numberFlag(values.concurrency, 'concurrency', { min: 1, max: 1024 }) ?? SCAN_DEFAULTS.concurrency;
  return { host: values.host, port: values.port, worker: values.worker, concurrency };
}

/** The configuration, and the worker's credentials with --worker. */
function readServeSetup(flags: ServeFlags, io: CliIo): ServeSetup {
  // Everything that can be wrong with the configuration is found before anything starts.
  const config = loadApiConfig(io.env, {
    ...(flags.host !== undefined ? { host: flags.host } : {}),
    ...(flags.port !== undefined ? { port: flags.port } : {}),
  });
  const privacy = historyPrivacy(io.env);
  const server = {
    history: historyOptions(io.env, false),
    retryBaseMs: retryBaseFromEnv(io.env),
    stateSecret: privacy.stateSecret,
    prices: readPrices(io.env),
  };
  const lockMs = jobLockFromEnv(io.env);
  const prefix = queuePrefix(io.env);
  const logger = createLogger({ level: logLevel(io.env) });
  const clock = io.clock ?? systemClock;
  const providers = flags.worker ? providersFromEnv(io.env, logger, flags.concurrency, io.clock) : null;
  providers?.check();
  const webhooks = webhookSettings(io.env);
  const quota = readQuota(io.env);
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const webhook = {
    defaultUrl: webhooks.defaultUrl,
    signed: webhooks.secret !== null,
    links: webhooks.publicUrl ?? `http://${host}:${config.port}`,
  };
  return {
    flags,
    config,
    server: { ...server, webhook },
    lockMs,
    prefix,
    logger,
    clock,
    providers,
    webhooks,
    privacy,
    quota,
    env: io.env,
  };
}

/** Redis (a private one with --worker when none answers) and the data folder. */
async function connectServe(setup: ServeSetup, env: Env, say: (line: string) => void): Promise<ServeRunning> {
  const { config, prefix, logger, clock } = setup;
  // A private Redis only for a self-contained trial (--worker): its batches go when the server stops.
  const redisChoice = await chooseRedis(env, setup.flags.worker, say);
  warnIfHistoryInClear(env, redisChoice, say);
  const dataDir = new DataDir(config.dataDir);
  await dataDir.create().catch(async (error: NodeJS.ErrnoException) => {
    await redisChoice.stopPrivate?.();
    throw new ConfigError([
      `REACHSCAN_DATA_DIR ${config.dataDir}: cannot create or use it (${error.code ?? 'error'})`,
    ]);
  });
  const redis = createRedis(redisChoice.url, 'client');
  redis.on('error', (error: Error) => logger.warn({ err: error.message }, 'redis connection error'));
  const merger = new RetryMerger({ redis, prefix, dataDir, logger, clock });
  return {
    redisChoice,
    redis,
    dataDir,
    merger,
    queues: [],
    workers: null,
    deliveries: null,
    sweeper: null,
    renewals: null,
  };
}

/** The queues, the in-process worker with --worker, and the API listening. */
async function startServe(setup: ServeSetup, running: ServeRunning): Promise<FastifyInstance> {
  const { config, server, prefix, logger, clock, providers } = setup;
  const { redis, dataDir, merger } = running;
  const localMetrics = new Registry();
  collectDefaultMetrics({ register: localMetrics, prefix: 'reachscan_api_' });
  running.queues = await openQueues(redis, prefix);
  if (providers !== null) {
    running.workers = startProcessWorkers(providers, {
      redisUrl: running.redisChoice.url,
      prefix,
      concurrency: setup.flags.concurrency,
      logger,
      clock,
      lockMs: setup.lockMs,
      ...setup.privacy,
      webhooks: setup.webhooks,
      quota: setup.quota,
    });
  } else {
    const redisUrl = running.redisChoice.url;
    running.deliveries = startWebhookDeliveries({ redisUrl, prefix, logger, settings: setup.webhooks });
  }
  const batches = new BatchService({ redis, prefix, dataDir, clock, merger });
  startRetentionSweeps(setup, running, batches);
  const app = await buildApiServer({
    config,
    redis,
    prefix,
    dataDir,
    batches,
    queues: running.queues,
    server,
    logger,
    localMetrics,
    events: startMonitorEvents(setup, running),
    quota: setup.quota,
    clock,
  });
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    await app.close();
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ReachscanError('LISTEN_FAILED', `cannot listen on ${config.host}:${config.port} (${code})`);
  }
  return app;
}

/**
 * `/events/camara` and the renewal of subscriptions, when REACHSCAN_PUBLIC_URL and the CAMARA settings are
 * there; each subscription is renewed when a tenth of its duration is left.
 */
function startMonitorEvents(setup: ServeSetup, running: ServeRunning): EventRouteDeps {
  const { logger, clock } = setup;
  const { defaultUrl, secret } = setup.webhooks;
  const announce =
    defaultUrl !== null && secret !== null
      ? deviceChangedWebhook({ redis: running.redis, prefix: setup.prefix }, defaultUrl)
      : announceDeviceChange(logger);
  const monitor = monitorDepsFromEnv(
    setup.env,
    { redis: running.redis, logger, clock, ratePerSecond: 0 },
    false,
  );
  if (monitor === null) return { monitor: null, logger, announce };
  running.renewals = setInterval(() => {
    renewDue(monitor, 0).catch((error: Error) =>
      logger.warn({ err: error.message }, 'subscription renewal failed'),
    );
  }, MONITOR_RENEW_CHECK_MS);
  running.renewals.unref();
  return {
    monitor: {
      ...monitor,
      states: new StateStore(running.redis, monitor.history, setup.privacy.stateSecret),
      // Events are evidence the operator pushes under the CAMARA configuration's purpose.
      purpose: setup.privacy.defaultPurpose('camara'),
    },
    logger,
    announce,
  };
}

/** REACHSCAN_BATCH_RETENTION_DAYS: a sweep at start-up, then every hour; a failed sweep is logged, not fatal. */
function startRetentionSweeps(setup: ServeSetup, running: ServeRunning, batches: BatchService): void {
  const { config, logger, clock } = setup;
  if (config.batchRetentionDays <= 0) return;
  const deps = { dataDir: running.dataDir, batches, clock, retentionDays: config.batchRetentionDays };
  const sweep = () =>
    sweepOldBatches(deps).then(
      (removed) => {
        if (removed.batches + removed.uploads > 0)
          logger.info(removed, 'removed batches past their retention');
      },
      (error: Error) => logger.warn({ err: error.message }, 'retention sweep failed'),
    );
  void sweep();
  running.sweeper = setInterval(() => void sweep(), SWEEP_INTERVAL_MS).unref();
}

/** Where clients reach the API: the port picked with --port 0, an IPv6 host in brackets. */
function listeningUrl(app: FastifyInstance, config: ApiConfig): string {
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return `http://${host}:${port}`;
}

/** Stops what started, in order: the retry merger, the worker and its providers, the queues, then Redis. */
async function shutDownServe(setup: ServeSetup, running: ServeRunning): Promise<void> {
  const { redis } = running;
  if (running.sweeper !== null) clearInterval(running.sweeper);
  await running.merger.stop();
  if (running.renewals !== null) clearInterval(running.renewals);
  await running.workers?.close();
  await running.deliveries?.close();
  await setup.providers?.close();
  await closeWebhookQueues(redis);
  await Promise.all(running.queues.map((queue) => queue.close().catch(() => undefined)));
  await redis.quit().catch(() => redis.disconnect());
  await running.redisChoice.stopPrivate?.();
  setup.logger.flush();
}
