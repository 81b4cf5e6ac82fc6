import type { Queue } from 'bullmq';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { QuotaSettings } from '../config/quota.js';
import type { RedisClient } from '../queue/connection.js';
import { readQuotaUsage, type QuotaUsage } from '../queue/quota.js';
import { DURATION_BUCKETS_S, FIELD, metricsKey, RATE_WINDOW_S, upstreamSecondKey } from './keys.js';

/** What the workers counted, as read from Redis. */
export interface MetricsSnapshot {
  /** The metrics hash, field → value. */
  readonly hash: Readonly<Record<string, string>>;
  /** Upstream requests in each of the last RATE_WINDOW_S whole seconds. */
  readonly lastSeconds: readonly number[];
  /** BullMQ job counts per queue and state. */
  readonly queues: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Today's daily quota per provider, when the server was given its settings. */
  readonly quota?: QuotaUsage;
}

type Labels = Readonly<Record<string, string | number>>;
interface Sample {
  readonly labels: Labels;
  readonly value: number;
  readonly metricName?: string;
}
/** The shape prom-client's registries export (getMetricsAsJSON) and AggregatorRegistry formats. */
interface MetricJson {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly aggregator: 'sum';
  readonly values: readonly Sample[];
}

export const METRIC_NAMES = {
  rows: 'reachscan_rows_total',
  upstreamRequests: 'reachscan_upstream_requests_total',
  upstreamDuration: 'reachscan_upstream_request_duration_seconds',
  queueJobs: 'reachscan_queue_jobs',
  rateLimited: 'reachscan_rate_limited_total',
  upstreamRate: 'reachscan_upstream_rate',
  quotaUsed: 'reachscan_quota_used',
  quotaLeft: 'reachscan_quota_left',
  quotaLimit: 'reachscan_quota_limit',
  quotaReset: 'reachscan_quota_reset_timestamp_seconds',
} as const;

/**
 * Reads every worker's counters, the queues' job counts and, given REACHSCAN_DAILY_QUOTA's settings, today's
 * quota counters: a handful of Redis commands per scrape.
 */
export async function readMetricsSnapshot(
  redis: RedisClient,
  prefix: string,
  queues: readonly Queue[],
  now: number = Date.now(),
  quota?: QuotaSettings,
): Promise<MetricsSnapshot> {
  // Whole seconds that are over, one more back: a worker sends its counts about a second late.
  const last = Math.floor(now / 1_000) - 2;
  const secondKeys = Array.from({ length: RATE_WINDOW_S }, (_, i) => upstreamSecondKey(prefix, last - i));
  const [hash, seconds, counts, usage] = await Promise.all([
    redis.hgetall(metricsKey(prefix)),
    redis.mget(...secondKeys),
    Promise.all(queues.map(async (q) => [q.name, await q.getJobCounts()] as const)),
    quota === undefined ? undefined : readQuotaUsage(redis, prefix, quota, now),
  ]);
  return {
    hash,
    lastSeconds: seconds.map((v) => Number(v ?? 0)),
    queues: Object.fromEntries(counts),
    ...(usage !== undefined ? { quota: usage } : {}),
  };
}

/** The snapshot as prom-client metric objects (pure, for tests). */
export function metricsFromSnapshot(snapshot: MetricsSnapshot): MetricJson[] {
  const { hash } = snapshot;
  const num = (field: string) => Number(hash[field] ?? 0);
  const byPrefix = (prefix: string) =>
    Object.entries(hash)
      .filter(([field]) => field.startsWith(prefix))
      .map(([field, value]) => ({ label: field.slice(prefix.length), value: Number(value) }))
      .sort((a, b) => a.label.localeCompare(b.label));

  const upstream = byPrefix('upstream:');
  let cumulative = 0;
  const buckets: Sample[] = [...DURATION_BUCKETS_S, Number.POSITIVE_INFINITY].map((bound, i) => {
    cumulative += num(FIELD.bucket(i));
    return {
      metricName: `${METRIC_NAMES.upstreamDuration}_bucket`,
      labels: { le: bound === Number.POSITIVE_INFINITY ? '+Inf' : bound },
      value: cumulative,
    };
  });
  const windowTotal = snapshot.lastSeconds.reduce((sum, n) => sum + n, 0);

  return [
    {
      name: METRIC_NAMES.rows,
      help: 'Rows of finished batches, by reachability status (OK, NOT_FOUND, ERROR_UPSTREAM, INVALID_NUMBER_FORMAT, REJECTED_RECORD, ...)',
      type: 'counter',
      aggregator: 'sum',
      values: byPrefix('rows:').map(({ label, value }) => ({ labels: { status: label }, value })),
    },
    {
      name: METRIC_NAMES.upstreamRequests,
      help: 'Requests to the carrier API, by HTTP status, or by failure code when no answer came (ERROR_TIMEOUT, ERROR_NETWORK)',
      type: 'counter',
      aggregator: 'sum',
      values: upstream.map(({ label, value }) => ({ labels: { status: label }, value })),
    },
    {
      name: METRIC_NAMES.upstreamDuration,
      help: 'Time of one carrier API request, to the last byte of the answer (or the failure), in seconds',
      type: 'histogram',
      aggregator: 'sum',
      values: [
        ...buckets,
        {
          metricName: `${METRIC_NAMES.upstreamDuration}_sum`,
          labels: {},
          value: num(FIELD.durationSumUs) / 1_000_000,
        },
        { metricName: `${METRIC_NAMES.upstreamDuration}_count`, labels: {}, value: num(FIELD.durationCount) },
      ],
    },
    {
      name: METRIC_NAMES.queueJobs,
      help: 'BullMQ jobs per queue and state (batches: one per batch; chunks: a few hundred numbers each)',
      type: 'gauge',
      aggregator: 'sum',
      values: Object.entries(snapshot.queues).flatMap(([queue, states]) =>
        Object.entries(states).map(([state, value]) => ({ labels: { queue, state }, value })),
      ),
    },
    {
      name: METRIC_NAMES.rateLimited,
      help: 'Carrier answers with HTTP 429 (rate limited)',
      type: 'counter',
      aggregator: 'sum',
      values: [{ labels: {}, value: num(FIELD.upstream(429)) }],
    },
    {
      name: METRIC_NAMES.upstreamRate,
      help: `Carrier API requests per second, all workers together, over the last ${RATE_WINDOW_S} s`,
      type: 'gauge',
      aggregator: 'sum',
      values: [{ labels: {}, value: windowTotal / RATE_WINDOW_S }],
    },
    ...(snapshot.quota === undefined ? [] : quotaMetrics(snapshot.quota)),
  ];
}

/** The daily quota's gauges: today's requests per provider; what is left and the limit where there is one. */
function quotaMetrics(usage: QuotaUsage): MetricJson[] {
  const limited = usage.providers.filter((p) => p.limit !== null);
  const gauge = (name: string, help: string, values: readonly Sample[]): MetricJson => ({
    name,
    help,
    type: 'gauge',
    aggregator: 'sum',
    values,
  });
  return [
    gauge(
      METRIC_NAMES.quotaUsed,
      `Upstream requests sent today (${usage.timeZone}) per provider, every worker together, auth requests included`,
      usage.providers.map((p) => ({ labels: { provider: p.provider }, value: p.used })),
    ),
    gauge(
      METRIC_NAMES.quotaLeft,
      "Requests left in today's quota per provider (REACHSCAN_DAILY_QUOTA); providers with a quota only",
      limited.map((p) => ({ labels: { provider: p.provider }, value: p.left ?? 0 })),
    ),
    gauge(
      METRIC_NAMES.quotaLimit,
      'Requests a day per provider (REACHSCAN_DAILY_QUOTA); providers with a quota only',
      limited.map((p) => ({ labels: { provider: p.provider }, value: p.limit ?? 0 })),
    ),
    gauge(
      METRIC_NAMES.quotaReset,
      `When the daily quota resets: the next midnight in ${usage.timeZone}, in seconds since the epoch`,
      [{ labels: {}, value: usage.resetsAt / 1_000 }],
    ),
  ];
}

/**
 * Prometheus text: the workers' counters (from Redis) and, when given, this process's own registry (Node.js
 * process metrics). prom-client's aggregator formats them as it does for a cluster of processes.
 */
export async function renderMetrics(
  snapshot: MetricsSnapshot,
  local?: Registry,
): Promise<{ contentType: string; body: string }> {
  const sets: object[][] = [metricsFromSnapshot(snapshot)];
  if (local !== undefined) sets.push(await local.getMetricsAsJSON());
  const registry = AggregatorRegistry.aggregate(sets);
  return { contentType: registry.contentType, body: await registry.metrics() };
}
