/**
 * Where workers leave their counters for whoever serves `/metrics`. Every key carries the queue prefix (and
 * so its {hash tag}): on Redis Cluster they share the queues' slot and one MULTI can touch them all.
 */

/** Hash: `upstream:<status>`, `duration:<bucket index>`, `duration:sum_us`, `duration:count`, `rows:<status>`. */
export function metricsKey(prefix: string): string {
  return `${prefix}:metrics`;
}

/** Counter of upstream requests that ended in one wall-clock second (epoch seconds); expires soon after. */
export function upstreamSecondKey(prefix: string, epochSecond: number): string {
  return `${prefix}:metrics:rps:${epochSecond}`;
}

/** Per-second counters live this long: well beyond the rate window. */
export const SECOND_KEY_TTL_S = 120;

/** `reachscan_upstream_rate` averages this many whole seconds. */
export const RATE_WINDOW_S = 10;

/** Upper bounds of the latency histogram's buckets, in seconds (Prometheus' defaults, plus 30 s for timeouts). */
export const DURATION_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

/** The bucket index of a latency: the first bound it does not exceed; `DURATION_BUCKETS_S.length` = +Inf. */
export function bucketIndex(seconds: number): number {
  const index = DURATION_BUCKETS_S.findIndex((bound) => seconds <= bound);
  return index === -1 ? DURATION_BUCKETS_S.length : index;
}

export const FIELD = {
  upstream: (status: number | string) => `upstream:${status}`,
  bucket: (index: number) => `duration:${index}`,
  durationSumUs: 'duration:sum_us',
  durationCount: 'duration:count',
  rows: (status: string) => `rows:${status}`,
} as const;
