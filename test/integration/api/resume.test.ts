import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NO_FAULTS } from '../../../src/simulator/index.js';
import { startTestSimulator, type TestSimulator } from '../../support/simulator.js';
import { call, csvRows, fleetCsv, startServe, type ServeProcess } from './serve-process.js';

let t: TestSimulator;
let serve: ServeProcess | null = null;
beforeAll(async () => {
  t = await startTestSimulator();
});
afterAll(() => t.close());
afterEach(async () => {
  t.sim.setDials({ faults: NO_FAULTS });
  await serve?.stop();
  serve = null;
});

interface View {
  state: string;
  paused: string | null;
  links: { resume: string };
}

describe('reachscan serve: a batch paused by the error-ratio breaker', () => {
  it(
    'shows paused with the reason, stops calling, and POST /batches/:id/resume lets it finish',
    { timeout: 60_000 },
    async () => {
      serve = await startServe(t);
      const s = serve;
      t.sim.setDials({ faults: { ...NO_FAULTS, http503: 1 } });
      const posted = await call(`${s.url}/batches?error-window=20&chunk-size=10`, {
        method: 'POST',
        token: s.token,
        headers: { 'content-type': 'text/csv' },
        body: fleetCsv(120, 31),
      });
      expect(posted.status, posted.text).toBe(202);
      const { id } = posted.json<{ id: string }>();
      const view = async () => (await call(`${s.url}/batches/${id}`, { token: s.token })).json<View>();

      await expect.poll(async () => (await view()).state, { timeout: 20_000 }).toBe('paused');
      const paused = await view();
      expect(paused.paused).toMatch(/^100% of the last 20 carrier calls failed \(mostly HTTP 503\)/);
      expect(paused.links.resume).toBe(`/batches/${id}/resume`);
      // Paused means no more calls (after the few in flight).
      await new Promise((r) => setTimeout(r, 1_000));
      const before = t.sim.stats().requests;
      await new Promise((r) => setTimeout(r, 1_500));
      expect(t.sim.stats().requests).toBe(before);

      t.sim.setDials({ faults: NO_FAULTS });
      const resumed = await call(`${s.url}/batches/${id}/resume`, { method: 'POST', token: s.token });
      expect(resumed.status, resumed.text).toBe(200);
      expect(resumed.json()).toMatchObject({ id, was_paused_for: paused.paused });
      await expect.poll(async () => (await view()).state, { timeout: 30_000 }).toBe('done');
      const rows = csvRows((await call(`${s.url}/batches/${id}/results.csv`, { token: s.token })).text);
      expect(rows).toHaveLength(120);
      expect(rows.filter((r) => r.error !== '')).toEqual([]);

      const again = await call(`${s.url}/batches/${id}/resume`, { method: 'POST', token: s.token });
      expect(again.status).toBe(409);
      expect(again.json<{ detail: string }>().detail).toMatch(/not paused/);
      const unknown = await call(`${s.url}/batches/${'0'.repeat(24)}/resume`, {
        method: 'POST',
        token: s.token,
      });
      expect(unknown.status).toBe(404);
    },
  );
});
