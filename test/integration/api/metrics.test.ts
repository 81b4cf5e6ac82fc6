import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_FAULTS } from '../../../src/simulator/index.js';
import { startTestSimulator, type TestSimulator } from '../../support/simulator.js';
import { call, fleetCsv, reachscan, startServe, type Child, type ServeProcess } from './serve-process.js';

let t: TestSimulator;
beforeAll(async () => {
  t = await startTestSimulator();
});
afterAll(() => t.close());

/** One sample of a Prometheus text exposition, e.g. `reachscan_rows_total{status="OK"}`; 0 when absent. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

describe('reachscan serve: /metrics with a separate worker process', () => {
  let serve: ServeProcess | null = null;
  let worker: Child | null = null;
  afterAll(async () => {
    await serve?.stop();
    await worker?.stop();
  });

  it(
    'shows what the worker process asked the carrier (from Redis): requests by status, 429s, latency, rows, queues, rate',
    { timeout: 60_000 },
    async () => {
      t.sim.reset();
      // A carrier capped at 8 requests a second: a burst meets 429s, which the worker waits out.
      t.sim.setDials({ faults: NO_FAULTS, rateCapPerSecond: 8, latencyMs: 5, retryAfter: true });
      serve = await startServe(t, []);
      worker = reachscan(['worker', '--concurrency', '8'], serve.env);
      const before = await call(`${serve.url}/metrics`, { token: serve.token });
      expect(before.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(sample(before.text, 'reachscan_upstream_requests_total{status="200"}')).toBe(0);

      const posted = await call(`${serve.url}/batches`, {
        method: 'POST',
        token: serve.token,
        headers: { 'content-type': 'text/csv' },
        body: fleetCsv(24, 50, ['C98,not a number,site-0']),
      });
      expect(posted.status).toBe(202);
      const { id } = posted.json<{ id: string }>();
      await expect
        .poll(async () => (await call(`${serve!.url}/batches/${id}`, { token: serve!.token })).json().state, {
          timeout: 45_000,
          interval: 200,
        })
        .toBe('done');

      const stats = t.sim.stats();
      expect(stats.byStatus['200']).toBe(24);
      expect(stats.byStatus['429'] ?? 0).toBeGreaterThan(0);
      const requests = (stats.byStatus['200'] ?? 0) + (stats.byStatus['429'] ?? 0);
      // The worker sends its counts about once a second.
      await expect
        .poll(
          async () =>
            sample(
              (await call(`${serve!.url}/metrics`, { token: serve!.token })).text,
              'reachscan_upstream_request_duration_seconds_count',
            ),
          { timeout: 10_000, interval: 200 },
        )
        .toBe(requests);
      const text = (await call(`${serve.url}/metrics`, { token: serve.token })).text;
      expect(sample(text, 'reachscan_upstream_requests_total{status="200"}')).toBe(24);
      expect(sample(text, 'reachscan_upstream_requests_total{status="429"}')).toBe(stats.byStatus['429']);
      expect(sample(text, 'reachscan_rate_limited_total')).toBe(stats.byStatus['429']);
      expect(sample(text, 'reachscan_upstream_request_duration_seconds_bucket{le="+Inf"}')).toBe(requests);
      // Cumulative buckets: never decreasing; 200s waited at least the simulator's 5 ms.
      const buckets = [
        ...text.matchAll(/^reachscan_upstream_request_duration_seconds_bucket\{le="[^"]+"\} (\d+)$/gm),
      ].map((m) => Number(m[1]));
      expect(buckets).toHaveLength(13);
      expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
      expect(buckets[0]).toBeLessThanOrEqual(stats.byStatus['429'] ?? 0);
      expect(sample(text, 'reachscan_upstream_request_duration_seconds_sum')).toBeGreaterThan(
        requests * 0.005,
      );
      const rows = [...text.matchAll(/^reachscan_rows_total\{status="([^"]+)"\} (\d+)$/gm)];
      expect(rows.reduce((sum, m) => sum + Number(m[2]), 0)).toBe(25);
      expect(sample(text, 'reachscan_rows_total{status="INVALID_NUMBER_FORMAT"}')).toBe(1);
      expect(sample(text, 'reachscan_queue_jobs{queue="batches",state="active"}')).toBe(0);
      expect(text).toMatch(/^reachscan_queue_jobs\{queue="chunks",state="waiting"\} 0$/m);
      expect(text).toContain('# TYPE reachscan_upstream_request_duration_seconds histogram');
      expect(text).toContain('reachscan_api_process_cpu_user_seconds_total');
      // Requests of the last seconds, all workers together.
      await expect
        .poll(
          async () =>
            sample(
              (await call(`${serve!.url}/metrics`, { token: serve!.token })).text,
              'reachscan_upstream_rate',
            ),
          { timeout: 10_000, interval: 200 },
        )
        .toBeGreaterThan(0);
      expect(worker.stderr()).not.toContain(serve.token);
    },
  );
});
