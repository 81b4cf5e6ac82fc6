import { describe, expect, it } from 'vitest';
import { metricsFromSnapshot, renderMetrics } from '../../../src/metrics/exporter.js';
import { bucketIndex, DURATION_BUCKETS_S } from '../../../src/metrics/keys.js';

describe('metrics from what the workers left in Redis', () => {
  const snapshot = {
    hash: {
      'upstream:200': '90',
      'upstream:429': '7',
      'upstream:ERROR_TIMEOUT': '3',
      'duration:0': '10',
      'duration:4': '80',
      [`duration:${DURATION_BUCKETS_S.length}`]: '10',
      'duration:sum_us': '12500000',
      'duration:count': '100',
      'rows:OK': '85',
      'rows:REJECTED_RECORD': '2',
    },
    lastSeconds: [10, 10, 0, 0, 0, 0, 0, 0, 0, 5],
    queues: { batches: { waiting: 1, active: 2 }, chunks: { waiting: 40 } },
  };

  it('puts latencies in the right buckets', () => {
    expect(bucketIndex(0.001)).toBe(0);
    expect(bucketIndex(0.005)).toBe(0);
    expect(bucketIndex(0.0051)).toBe(1);
    expect(bucketIndex(31)).toBe(DURATION_BUCKETS_S.length);
  });

  it('renders Prometheus text: counters by status, a cumulative histogram, queue gauges, 429s and the rate', async () => {
    const { body, contentType } = await renderMetrics(snapshot);
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const lines = body.split('\n');
    expect(lines).toContain('reachscan_upstream_requests_total{status="200"} 90');
    expect(lines).toContain('reachscan_upstream_requests_total{status="ERROR_TIMEOUT"} 3');
    expect(lines).toContain('reachscan_rate_limited_total 7');
    expect(lines).toContain('reachscan_rows_total{status="REJECTED_RECORD"} 2');
    expect(lines).toContain('reachscan_upstream_request_duration_seconds_bucket{le="0.005"} 10');
    expect(lines).toContain('reachscan_upstream_request_duration_seconds_bucket{le="0.05"} 10');
    expect(lines).toContain('reachscan_upstream_request_duration_seconds_bucket{le="0.1"} 90');
    expect(lines).toContain('reachscan_upstream_request_duration_seconds_bucket{le="30"} 90');
    expect(lines).toContain('reachscan_upstream_request_duration_seconds_bucket{le="+Inf"} 100');
    expect(lines).toContain('reachscan_upstream_request_duration_seconds_sum 12.5');
    expect(lines).toContain('reachscan_upstream_request_duration_seconds_count 100');
    expect(lines).toContain('reachscan_queue_jobs{queue="chunks",state="waiting"} 40');
    expect(lines).toContain('reachscan_upstream_rate 2.5');
    expect(lines).toContain('# TYPE reachscan_upstream_request_duration_seconds histogram');
  });

  it('shows zeros, not gaps, before any worker counted anything', () => {
    const metrics = metricsFromSnapshot({ hash: {}, lastSeconds: [], queues: {} });
    const byName = Object.fromEntries(metrics.map((m) => [m.name, m.values]));
    expect(byName.reachscan_rate_limited_total).toEqual([{ labels: {}, value: 0 }]);
    expect(byName.reachscan_upstream_rate).toEqual([{ labels: {}, value: 0 }]);
    expect(byName.reachscan_upstream_request_duration_seconds?.at(-1)).toMatchObject({ value: 0 });
  });

  it('has the daily quota: used for every provider, left and limit for those with a quota, and the reset', async () => {
    const { body } = await renderMetrics({
      ...snapshot,
      quota: {
        timeZone: 'Europe/Paris',
        day: '2025-06-10',
        resetsAt: Date.parse('2025-06-10T22:00:00Z'),
        providers: [
          { provider: 'identity-insights', used: 5000, left: 0, limit: 5000 },
          { provider: 'device-status', used: 12, left: null, limit: null },
          { provider: 'camara', used: 0, left: 20000, limit: 20000 },
        ],
      },
    });
    const lines = body.split('\n');
    expect(lines).toContain('reachscan_quota_used{provider="identity-insights"} 5000');
    expect(lines).toContain('reachscan_quota_used{provider="device-status"} 12');
    expect(lines).toContain('reachscan_quota_left{provider="identity-insights"} 0');
    expect(lines).toContain('reachscan_quota_left{provider="camara"} 20000');
    expect(lines).toContain('reachscan_quota_limit{provider="identity-insights"} 5000');
    expect(lines.some((l) => l.startsWith('reachscan_quota_limit{provider="device-status"}'))).toBe(false);
    expect(lines).toContain('reachscan_quota_reset_timestamp_seconds 1749592800');
    expect(lines).toContain('# TYPE reachscan_quota_left gauge');
  });

  it('has no quota gauges when the server was given no quota settings', async () => {
    const { body } = await renderMetrics(snapshot);
    expect(body).not.toContain('reachscan_quota_');
  });
});
