import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NO_FAULTS } from '../../../src/simulator/index.js';
import { startTestSimulator, type TestSimulator } from '../../support/simulator.js';
import { call, csvRows, fleetCsv, startServe, type ServeProcess } from './serve-process.js';

let t: TestSimulator;
let serve: ServeProcess | null = null;
beforeAll(async () => {
  t = await startTestSimulator();
});
afterAll(() => t.close());
beforeEach(() => {
  t.sim.reset();
  t.sim.setDials({ faults: NO_FAULTS, rateCapPerSecond: 0, latencyMs: 0, retryAfter: true });
});
afterEach(async () => {
  await serve?.stop();
  serve = null;
});

interface View {
  id: string;
  state: string;
  done: number;
  total: number;
  records: number;
  ingested: boolean;
  rate: number | null;
  eta_seconds: number | null;
  rows_in_error: number | null;
  invalid_numbers: number | null;
  malformed_records: number | null;
  lookups_failed: number | null;
  input_file: string;
  links: Record<string, string>;
}

async function view(s: ServeProcess, id: string): Promise<View> {
  const answer = await call(`${s.url}/batches/${id}`, { token: s.token });
  expect(answer.status).toBe(200);
  return answer.json<View>();
}

async function untilDone(s: ServeProcess, id: string): Promise<View> {
  await expect.poll(async () => (await view(s, id)).state, { timeout: 45_000, interval: 100 }).toBe('done');
  return view(s, id);
}

describe('reachscan serve: batches over HTTP', () => {
  it(
    'a CSV body becomes a batch: 202 with id and status URL, progress to done, then results.csv and the reports',
    { timeout: 60_000 },
    async () => {
      serve = await startServe(t);
      const csv = fleetCsv(20, 1, ['C99,not a number,site-0']);
      const posted = await call(`${serve.url}/batches?stale-days=30`, {
        method: 'POST',
        token: serve.token,
        headers: { 'content-type': 'text/csv; charset=utf-8' },
        body: csv,
      });
      expect(posted.status).toBe(202);
      const accepted = posted.json<{ id: string; status_url: string; state: string }>();
      expect(accepted.id).toMatch(/^[0-9a-f]{24}$/);
      expect(accepted.status_url).toBe(`/batches/${accepted.id}`);
      expect(posted.headers.location).toBe(accepted.status_url);
      expect(['queued', 'ingesting', 'running', 'finalizing', 'done']).toContain(accepted.state);

      const done = await untilDone(serve, accepted.id);
      expect(done).toMatchObject({ done: 20, total: 20, records: 21, ingested: true, rows_in_error: 1 });
      // The bad cell is a finding about the input, not a lookup that failed.
      expect(done).toMatchObject({ invalid_numbers: 1, malformed_records: 0, lookups_failed: 0 });
      expect(done.eta_seconds).toBeNull();

      const results = await call(`${serve.url}${done.links.results}`, { token: serve.token });
      expect(results.status).toBe(200);
      expect(results.headers['content-type']).toMatch(/^text\/csv/);
      expect(results.headers['x-reachscan-partial']).toBeUndefined();
      // The download is the batch's own results.csv, byte for byte.
      const onDisk = readFileSync(join(serve.dataDir, 'batches', accepted.id, 'results.csv'), 'utf8');
      expect(results.text).toBe(onDisk);
      const rows = csvRows(results.text);
      expect(rows).toHaveLength(21);
      expect(rows.filter((r) => r.error !== '')).toHaveLength(1);
      expect(rows.filter((r) => r.reachability_status !== '' && r.phone_e164 !== '')).toHaveLength(20);

      const report = await call(`${serve.url}${done.links.report_json}`, { token: serve.token });
      expect(report.status).toBe(200);
      expect(report.json()).toMatchObject({
        batch_id: accepted.id,
        input_file: 'upload.csv',
        rows: { total: 21, invalid: 1 },
        stale: { days: 30 },
      });
      const html = await call(`${serve.url}${done.links.report_html}`, { token: serve.token });
      expect(html.status).toBe(200);
      expect(html.headers['content-type']).toMatch(/^text\/html/);
      expect(html.text).toContain(`Batch ${accepted.id}`);
      const rejects = await call(`${serve.url}${done.links.rejects}`, { token: serve.token });
      expect(rejects.status).toBe(200);
      expect(rejects.text.trim()).toBe('line,raw,reason');

      // Every number was asked once; the upload is kept private to the server's user.
      expect(Object.values(t.sim.stats().byNumber)).toEqual(Array(20).fill(1));
      const { statSync, readdirSync } = await import('node:fs');
      const uploads = readdirSync(join(serve.dataDir, 'uploads'));
      expect(uploads).toHaveLength(1);
      expect(statSync(join(serve.dataDir, 'uploads', uploads[0] as string)).mode & 0o777).toBe(0o600);
      expect(statSync(join(serve.dataDir, 'batches', accepted.id)).mode & 0o777).toBe(0o750);
    },
  );

  it(
    'a multipart upload with its options as fields; the same file and options again while it runs is the same batch',
    { timeout: 60_000 },
    async () => {
      serve = await startServe(t);
      t.sim.setDials({ latencyMs: 150 });
      const csv = fleetCsv(12, 2).replaceAll(',', ';');
      const form = () => {
        const data = new FormData();
        data.append('provider', 'identity-insights');
        data.append('chunk-size', '4');
        data.append('bom', 'true');
        data.append('file', new Blob([csv], { type: 'text/csv' }), 'fleet export.csv');
        return data;
      };
      const first = await call(`${serve.url}/batches`, { token: serve.token, body: form() });
      expect(first.status).toBe(202);
      const again = await call(`${serve.url}/batches`, { token: serve.token, body: form() });
      expect(again.status).toBe(202);
      const id = first.json<{ id: string }>().id;
      expect(again.json<{ id: string }>().id).toBe(id);
      // Other options: another batch.
      const other = await call(`${serve.url}/batches?chunk-size=5`, {
        method: 'POST',
        token: serve.token,
        headers: { 'content-type': 'text/csv' },
        body: csv,
      });
      expect(other.json<{ id: string }>().id).not.toBe(id);

      const done = await untilDone(serve, id);
      expect(done.input_file).toBe('fleet export.csv');
      const results = await call(`${serve.url}/batches/${id}/results.csv`, { token: serve.token });
      expect([...results.bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
      expect(csvRows(results.text)).toHaveLength(12);
      const report = await call(`${serve.url}/batches/${id}/report.json`, { token: serve.token });
      expect(report.json()).toMatchObject({ input_file: 'fleet export.csv', rows: { total: 12 } });
      await untilDone(serve, other.json<{ id: string }>().id);
      // Joined, not run twice: each number asked once by each of the two batches.
      expect(Object.values(t.sim.stats().byNumber)).toEqual(Array(12).fill(2));
    },
  );

  it(
    'while a batch runs, results.csv streams the rows answered so far (same header, fewer rows) and the reports are 409',
    { timeout: 60_000 },
    async () => {
      serve = await startServe(t);
      const csv = fleetCsv(30, 3);
      // 5 upstream requests a second: the batch takes about six seconds.
      const posted = await call(`${serve.url}/batches?rate=5&chunk-size=10`, {
        method: 'POST',
        token: serve.token,
        headers: { 'content-type': 'text/csv' },
        body: csv,
      });
      const { id } = posted.json<{ id: string }>();
      await expect
        .poll(async () => (await view(serve as ServeProcess, id)).done, { timeout: 30_000, interval: 100 })
        .toBeGreaterThanOrEqual(3);
      const running = await view(serve, id);
      expect(['running', 'ingesting']).toContain(running.state);
      expect(running.done).toBeLessThan(30);

      const partial = await call(`${serve.url}/batches/${id}/results.csv`, { token: serve.token });
      expect(partial.status).toBe(200);
      expect(partial.headers['x-reachscan-partial']).toBe('true');
      const reportEarly = await call(`${serve.url}/batches/${id}/report.json`, { token: serve.token });
      expect(reportEarly.status).toBe(409);
      expect(reportEarly.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(reportEarly.json()).toMatchObject({
        status: 409,
        batch_state: expect.stringMatching(/running|ingesting/),
      });

      const retryEarly = await call(`${serve.url}/batches/${id}/retry`, {
        method: 'POST',
        token: serve.token,
      });
      expect(retryEarly.status).toBe(409);
      expect(retryEarly.json<{ detail: string }>().detail).toContain('only a finished batch');

      // Later reads see progress: a rate, and an ETA once the whole file has been read.
      await expect
        .poll(async () => (await view(serve as ServeProcess, id)).rate, { timeout: 30_000, interval: 300 })
        .toBeGreaterThan(0);

      const done = await untilDone(serve, id);
      const final = await call(`${serve.url}${done.links.results}`, { token: serve.token });
      expect(final.headers['x-reachscan-partial']).toBeUndefined();
      const header = (text: string) => text.split('\n', 1)[0];
      expect(header(partial.text)).toBe(header(final.text));
      const partialRows = csvRows(partial.text);
      const finalRows = csvRows(final.text);
      expect(finalRows).toHaveLength(30);
      expect(partialRows.length).toBeGreaterThanOrEqual(3);
      expect(partialRows.length).toBeLessThan(30);
      // Each partial row is the final row of the same customer, column for column.
      const byCustomer = new Map(finalRows.map((r) => [r.customer, r]));
      for (const row of partialRows) expect(row).toEqual(byCustomer.get(row.customer as string));
    },
  );
});
