import type { Queue } from 'bullmq';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { SCAN_DEFAULTS } from '../../config/defaults.js';
import {
  historyOptions,
  jobLockFromEnv,
  logLevel,
  queuePrefix,
  retryBaseFromEnv,
} from '../../config/settings.js';
import { BatchService } from '../../api/batches.js';
import { loadApiConfig } from '../../config/api.js';
import { openQueues } from '../../api/dashboard.js';
import { DataDir } from '../../api/data-dir.js';
import { RetryMerger } from '../../batch/retry-merger.js';
import { buildApiServer } from '../../api/server.js';
import { systemClock } from '../../core/clock.js';
import { ConfigError, ReachscanError, UsageError } from '../../core/errors.js';
import { createLogger } from '../../logging/logger.js';
import { createRedis } from '../../queue/connection.js';
import type { Workers } from '../../batch/worker.js';
import { parseCommandArgs } from '../args.js';
import { numberFlag } from '../../config/options.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { CliIo } from '../io.js';
import { startProcessWorkers } from '../../batch/worker.js';
import { providersFromEnv } from '../../providers/registry.js';
import { chooseRedis } from '../../queue/redis-choice.js';

export const SERVE_HELP = `Usage: reachscan serve [--host HOST] [--port N] [--worker [--concurrency N]]

Runs the HTTP API: upload a CSV file as a batch, follow its progress, download results.csv (also while it
runs: the rows answered so far) and the reports, retry the rows in error; /metrics for Prometheus and the
bull-board dashboard at /admin/queues. Every endpoint but /healthz needs the token (REACHSCAN_API_TOKEN) as
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
REACHSCAN_QUEUE_PREFIX, and for --worker the VONAGE_* variables.

Prints "reachscan serve: listening on http://HOST:PORT" once it accepts requests. SIGTERM or Ctrl-C: stops
taking requests, finishes those in hand (and the worker's jobs), exits 0.
`;

/** `reachscan serve`: the HTTP API until SIGTERM/SIGINT. */
export async function runServe(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs(argv, {
    host: { type: 'string' },
    port: { type: 'string' },
    worker: { type: 'boolean', default: false },
    concurrency: { type: 'string' },
  });
  if (values.help) {
    io.stdout.write(SERVE_HELP);
    return EXIT.ok;
  }
  if (positionals.length > 0) throw new UsageError(`serve takes no arguments (got "${positionals[0]}")`);
  if (!values.worker && values.concurrency !== undefined)
    throw new UsageError(
      '--concurrency sets the in-process worker: give --worker too, or use reachscan worker',
    );
  const concurrency =
    numberFlag(values.concurrency, 'concurrency', { min: 1, max: 1024 }) ?? SCAN_DEFAULTS.concurrency;
  // Everything that can be wrong with the configuration is found before anything starts.
  const config = loadApiConfig(io.env, {
    ...(values.host !== undefined ? { host: values.host } : {}),
    ...(values.port !== undefined ? { port: values.port } : {}),
  });
  const server = { history: historyOptions(io.env, false), retryBaseMs: retryBaseFromEnv(io.env) };
  const lockMs = jobLockFromEnv(io.env);
  const prefix = queuePrefix(io.env);
  const logger = createLogger({ level: logLevel(io.env) });
  const clock = io.clock ?? systemClock;
  const providers = values.worker ? providersFromEnv(io.env, logger, concurrency, io.clock) : null;
  providers?.check();
  const say = (line: string) => io.stderr.write(`reachscan serve: ${line}\n`);
  // A private Redis only for a self-contained trial (--worker): its batches go when the server stops.
  const redisChoice = await chooseRedis(io.env, values.worker, say);
  const dataDir = new DataDir(config.dataDir);
  await dataDir.create().catch(async (error: NodeJS.ErrnoException) => {
    await redisChoice.stopPrivate?.();
    throw new ConfigError([
      `REACHSCAN_DATA_DIR ${config.dataDir}: cannot create or use it (${error.code ?? 'error'})`,
    ]);
  });
  const redis = createRedis(redisChoice.url, 'client');
  redis.on('error', (error: Error) => logger.warn({ err: error.message }, 'redis connection error'));

  let workers: Workers | null = null;
  const merger = new RetryMerger({ redis, prefix, dataDir, logger, clock });
  let queues: Queue[] = [];
  const localMetrics = new Registry();
  collectDefaultMetrics({ register: localMetrics, prefix: 'reachscan_api_' });
  try {
    queues = await openQueues(redis, prefix);
    if (providers !== null) {
      workers = startProcessWorkers(providers, {
        redisUrl: redisChoice.url,
        prefix,
        concurrency,
        logger,
        clock,
        lockMs,
      });
    }
    const batches = new BatchService({ redis, prefix, dataDir, clock, merger });
    const app = await buildApiServer({
      config,
      redis,
      prefix,
      dataDir,
      batches,
      queues,
      server,
      logger,
      localMetrics,
    });
    try {
      await app.listen({ host: config.host, port: config.port });
    } catch (error) {
      await app.close();
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new ReachscanError('LISTEN_FAILED', `cannot listen on ${config.host}:${config.port} (${code})`);
    }
    merger.start();
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : config.port;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    io.stdout.write(`reachscan serve: listening on http://${host}:${port}\n`);
    say(
      `data in ${config.dataDir}; ${workers !== null ? `a worker runs in this process (concurrency ${concurrency})` : 'batches are done by reachscan worker processes on the same Redis'}`,
    );
    const signal = await io.stopSignal;
    say(`${signal}: finishing the requests in hand`);
    await app.close();
    return EXIT.ok;
  } finally {
    await merger.stop();
    await workers?.close();
    await providers?.close();
    await Promise.all(queues.map((queue) => queue.close().catch(() => undefined)));
    await redis.quit().catch(() => redis.disconnect());
    await redisChoice.stopPrivate?.();
    logger.flush();
  }
}
