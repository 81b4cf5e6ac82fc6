import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NO_FAULTS } from '../../../src/simulator/index.js';
import { startTestSimulator, type TestSimulator } from '../../support/simulator.js';
import { call, csvRows, fleetCsv, phone, startServe, type ServeProcess } from './serve-process.js';

let t: TestSimulator;
let serve: ServeProcess | null = null;
beforeAll(async () => {
  t = await startTestSimulator();
  t.sim.setDials({ faults: NO_FAULTS, rateCapPerSecond: 0, latencyMs: 0 });
});
afterAll(() => t.close());
afterEach(async () => {
  await serve?.stop();
  serve = null;
});

interface View {
  state: string;
  rows_in_error: number | null;
  retry: { id: string; rows: number; state: string; merged_at: string | null } | null;
  retry_of: string | null;
}

const get = async (s: ServeProcess, id: string) =>
  (await call(`${s.url}/batches/${id}`, { token: s.token })).json<View>();

describe('reachscan serve: POST /batches/:id/retry', () => {
  it(
    're-asks only the rows whose lookup failed, merges them back by itself, and leaves no error rows but the invalid number',
    { timeout: 60_000 },
    async () => {
      serve = await startServe(t);
      const failing = [phone(7, 3), phone(7, 8), phone(7, 15)];
      // Every attempt of the first run fails for these three (5 attempts a chunk); the retry gets real answers.
      for (const number of failing) t.sim.script(number, Array(5).fill({ status: 503 }));
      const csv = fleetCsv(20, 7, ['C98,12345,site-0', `C99,${phone(7, 3)},site-1`]);
      const posted = await call(`${serve.url}/batches`, {
        method: 'POST',
        token: serve.token,
        headers: { 'content-type': 'text/csv' },
        body: csv,
      });
      const { id } = posted.json<{ id: string }>();

      await expect
        .poll(async () => (await get(serve as ServeProcess, id)).state, { timeout: 45_000 })
        .toBe('done');
      const first = csvRows(
        (await call(`${serve.url}/batches/${id}/results.csv`, { token: serve.token })).text,
      );
      const inError = first.filter((r) => r.error !== '');
      // Three numbers failed (one of them on two rows), and the invalid number.
      expect(inError.map((r) => r.customer).sort()).toEqual(['C15', 'C3', 'C8', 'C98', 'C99'].sort());
      expect(first.find((r) => r.customer === 'C3')?.reachability_status).toBe('ERROR_UPSTREAM');
      const askedBefore = t.sim.stats().byNumber;
      expect(askedBefore[phone(7, 3)]).toBe(5);
      expect(askedBefore[phone(7, 0)]).toBe(1);

      const retried = await call(`${serve.url}/batches/${id}/retry`, { method: 'POST', token: serve.token });
      expect(retried.status).toBe(202);
      const retry = retried.json<{ id: string; retry_id: string; rows: number; state: string }>();
      expect(retry).toMatchObject({ id, rows: 4, state: 'retrying' });
      expect(retry.retry_id).not.toBe(id);
      expect(retried.headers.location).toBe(`/batches/${id}`);
      // One retry at a time (sound either way: "retrying" now means it was retrying at the second POST too).
      const twice = await call(`${serve.url}/batches/${id}/retry`, { method: 'POST', token: serve.token });
      if ((await get(serve, id)).state === 'retrying') expect(twice.status).toBe(409);

      // The API merges on its own once the retry is done; we only watch.
      await expect
        .poll(async () => (await get(serve as ServeProcess, id)).retry?.state, {
          timeout: 45_000,
          interval: 200,
        })
        .toBe('merged');
      const merged = await get(serve, id);
      expect(merged.state).toBe('done');
      expect(merged.rows_in_error).toBe(1);
      expect((await get(serve, retry.retry_id)).retry_of).toBe(id);

      // Only the failed numbers were asked again, once each (the number on two rows too).
      const asked = t.sim.stats().byNumber;
      for (const number of failing) expect(asked[number]).toBe(6);
      for (let i = 0; i < 20; i++) if (![3, 8, 15].includes(i)) expect(asked[phone(7, i)]).toBe(1);

      const after = csvRows(
        (await call(`${serve.url}/batches/${id}/results.csv`, { token: serve.token })).text,
      );
      expect(after.map((r) => r.customer)).toEqual(first.map((r) => r.customer));
      expect(after.filter((r) => r.error !== '').map((r) => r.customer)).toEqual(['C98']);
      for (const [i, row] of after.entries()) {
        if (['C3', 'C8', 'C15', 'C99'].includes(row.customer as string)) {
          expect(row.reachability_status).not.toBe('ERROR_UPSTREAM');
          expect(row.phone_e164).toBe(first[i]?.phone_e164);
        } else {
          // Rows that were fine are kept as they were.
          expect(row).toEqual(first[i]);
        }
      }
      const report = (await call(`${serve.url}/batches/${id}/report.json`, { token: serve.token })).json<{
        batch_id: string;
        rows_in_error: number;
        rows: { total: number };
      }>();
      expect(report).toMatchObject({ batch_id: id, rows_in_error: 1, rows: { total: 22 } });
      expect(existsSync(join(serve.dataDir, 'batches', retry.retry_id, 'results.csv'))).toBe(true);

      // Nothing left worth a retry: the invalid number never is.
      const none = await call(`${serve.url}/batches/${id}/retry`, { method: 'POST', token: serve.token });
      expect(none.status).toBe(409);
      expect(none.json<{ detail: string }>().detail).toContain('no rows in error worth a retry');
    },
  );
});
