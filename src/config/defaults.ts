/**
 * Every default reachscan has, in one place. docs/configuration.md lists the environment variables that change
 * them; flags of the same name win over the environment.
 */
export const DEFAULTS = {
  /** Where Redis is looked for (REDIS_URL). */
  redisUrl: 'redis://127.0.0.1:6379',
  /** Queue key prefix, without its hash tag (REACHSCAN_QUEUE_PREFIX). */
  queuePrefix: 'reachscan',
  logLevel: 'warn',
  /** How long a job stays locked to a worker unrenewed, ms (REACHSCAN_JOB_LOCK_MS). */
  jobLockMs: 60_000,
  /** First retry delay of a chunk with transient failures, ms; doubles per attempt (REACHSCAN_RETRY_BASE_MS). */
  retryBaseMs: 1_000,
  /** Days a number's history is kept after its last check (REACHSCAN_STATE_RETENTION_DAYS). */
  historyRetentionDays: 400,
  /** The time zone whose midnight resets the daily quota (REACHSCAN_QUOTA_TZ). */
  quotaTimeZone: 'UTC',
  /**
   * Hash-tag buckets of the history (REACHSCAN_STATE_BUCKETS): enough for every master of a cluster to hold a
   * share (64 over 3 masters: about 21 each), few enough that a group of numbers costs few script calls.
   */
  historyBuckets: 64,
  /** A scan's settings when no flag says otherwise. */
  scan: { concurrency: 32, chunkSize: 250, staleDays: 60, rate: 0, maxAgeMs: 0 },
  /** The error-ratio breaker: pause a batch when over `threshold` of its last `window` calls fail. */
  breaker: { threshold: 0.5, window: 200 },
  /** `reachscan serve` (REACHSCAN_API_HOST, REACHSCAN_API_PORT, REACHSCAN_DATA_DIR, REACHSCAN_API_MAX_UPLOAD_MB). */
  api: { host: '127.0.0.1', port: 8080, dataDir: './data', maxUploadMb: 100, batchRetentionDays: 30 },
  /** `reachscan watch`'s timings, as their flags take them. */
  watch: { poll: '1s', settle: '5s', dedupeWindow: '24h', lockTtl: '30s' },
  /** Vonage's network APIs (VONAGE_API_BASE_URL, VONAGE_PURPOSE, VONAGE_*_PATH, REACHSCAN_HTTP_TIMEOUT_MS). */
  vonage: {
    apiBaseUrl: 'https://api-eu.vonage.com',
    purpose: 'FraudPreventionAndDetection',
    identityInsightsPath: '/identity-insights/v1/requests',
    deviceStatusPath: '/camara/device-status/v050',
    /** One back-channel flow for both Device Status scopes (VONAGE_DEVICE_STATUS_COMBINED_SCOPES). */
    deviceStatusCombinedScopes: false,
    httpTimeoutMs: 10_000,
  },
  /** CAMARA v1 from any operator (CAMARA_*): the rest has no default (docs/camara.md). */
  camara: {
    reachabilityPath: '/device-reachability-status/v1/retrieve',
    roamingPath: '/device-roaming-status/v1/retrieve',
    purpose: 'FraudPreventionAndDetection',
    scopeStyle: 'standard',
    cibaCombinedScopes: true,
    apiKeyHeader: 'x-api-key',
  },
} as const;

export const SCAN_DEFAULTS = DEFAULTS.scan;
export const API_DEFAULTS = DEFAULTS.api;
export const VONAGE_DEFAULTS = DEFAULTS.vonage;
export const WATCH_DEFAULTS = DEFAULTS.watch;
export const CAMARA_DEFAULTS = DEFAULTS.camara;
