import pLimit from 'p-limit';
import { DEFAULTS } from '../config/defaults.js';
import type { Clock } from '../core/clock.js';
import type { ProviderName } from '../core/lookup-result.js';
import type { StateSecret } from '../core/settings.js';
import type { Logger } from '../logging/logger.js';
import { UpstreamMetricsRecorder } from '../metrics/upstream-recorder.js';
import type { UpstreamObserver } from '../providers/http/transport.js';
import type { ReachabilityProvider } from '../providers/provider.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { WebhookSettings } from '../config/webhooks.js';
import { NO_QUOTA, type QuotaSettings } from '../config/quota.js';
import { startWebhookDeliveries } from '../notify/delivery-worker.js';
import { closeWebhookQueues } from '../notify/events.js';
import { ProcessPace } from '../queue/rate-gate.js';
import { startQueueWorkers } from '../queue/workers.js';
import { BreakerBoard } from './error-breaker.js';
import { createBatchSteps } from './finalize.js';
import { createChunkLookup } from './lookup-chunk.js';
import { DailyQuota } from './quota.js';

export interface WorkerOptions {
  readonly redisUrl: string;
  /** BullMQ prefix with its hash tag, e.g. `{reachscan}`. */
  readonly prefix: string;
  /** Upstream lookups in flight in this process. */
  readonly concurrency: number;
  /** The provider for a batch's provider name; built once per process, from this process's credentials. */
  readonly provider: (name: string) => ReachabilityProvider;
  readonly logger: Logger;
  /** The batch's clock (checks, history); pacing and BullMQ's schedules keep the wall clock. */
  readonly clock: Clock;
  /**
   * How long a job stays locked to this process without renewal (REACHSCAN_JOB_LOCK_MS): a dead worker's jobs
   * are taken over by another after about 1.5 times this. Default 60 s.
   */
  readonly lockMs?: number;
  /** REACHSCAN_STATE_SECRET of this process: names the history's entries (every process must share it). */
  readonly stateSecret: StateSecret;
  /** The provider's configured purpose, for batches submitted without `--purpose`. */
  readonly defaultPurpose: (provider: ProviderName) => string;
  /** REACHSCAN_WEBHOOK_*: this process also delivers queued webhook events when a secret is set. */
  readonly webhooks?: WebhookSettings;
  /**
   * REACHSCAN_DAILY_QUOTA and REACHSCAN_QUOTA_TZ of this process (every process must share them): requests a
   * day per provider, days on `clock` in the zone. Default: no limit, days in UTC (requests still counted).
   */
  readonly quota?: QuotaSettings;
}

export interface Workers {
  /** Stops taking jobs, lets the ones in hand finish (or go back to the queue), and disconnects. */
  close(): Promise<void>;
  /** Counts upstream requests for `/metrics` (in Redis, with every other worker's): give it to the providers. */
  readonly observeUpstream: UpstreamObserver;
}

/**
 * A reachscan worker: the queue's workers running this use case's batch steps and chunk lookups, with this
 * process's lookup limit, error-ratio windows, rate-gate memory and upstream counters.
 */
export function startWorkers(options: WorkerOptions): Workers {
  const { prefix, logger, clock } = options;
  const limit = pLimit(options.concurrency);
  // As many answers waiting for their write as lookups in flight: a slot's next number need not wait for them.
  const unsaved = pLimit(options.concurrency * 2);
  const quota = new DailyQuota(options.quota ?? NO_QUOTA, clock);
  let upstreamMetrics: UpstreamMetricsRecorder | null = null;
  const queueWorkers = startQueueWorkers({
    redisUrl: options.redisUrl,
    prefix,
    logger,
    lockMs: options.lockMs ?? DEFAULTS.jobLockMs,
    // Enough chunks in hand to keep `concurrency` lookups busy while a chunk's tail finishes.
    chunkJobs: Math.max(2, Math.ceil(options.concurrency / 64) + 1),
    batchSteps: (context) => {
      const { redis, stopping } = context;
      // The steps queue webhook events on this connection: their queue closes before it does.
      context.onClose(() => closeWebhookQueues(redis));
      return createBatchSteps({
        redis,
        prefix,
        logger,
        clock,
        stopping,
        stateSecret: options.stateSecret,
        defaultPurpose: options.defaultPurpose,
      });
    },
    chunkLookup: (context) => {
      const { redis, stopping } = context;
      const recorder = new UpstreamMetricsRecorder({ redis, prefix, logger });
      upstreamMetrics = recorder;
      context.onClose(() => recorder.close());
      return createChunkLookup({
        redis,
        prefix,
        provider: options.provider,
        limit,
        unsaved,
        logger,
        clock,
        stopping,
        breaker: new BreakerBoard(),
        pace: new ProcessPace(),
        stateSecret: options.stateSecret,
        quota,
      });
    },
  });
  const deliveries =
    options.webhooks === undefined
      ? null
      : startWebhookDeliveries({ redisUrl: options.redisUrl, prefix, logger, settings: options.webhooks });
  return {
    observeUpstream: (event) => upstreamMetrics?.observe(event),
    close: async () => {
      await queueWorkers.close();
      await deliveries?.close();
    },
  };
}

/** This process's workers, asking this process's providers, whose every upstream request they count. */
export function startProcessWorkers(
  providers: ProviderRegistry,
  options: Omit<WorkerOptions, 'provider'>,
): Workers {
  const workers = startWorkers({ ...options, provider: (name) => providers.get(name) });
  providers.observe(workers.observeUpstream);
  return workers;
}
