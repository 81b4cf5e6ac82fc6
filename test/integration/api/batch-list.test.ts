import { existsSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NO_FAULTS } from '../../../src/simulator/index.js';
import { startTestSimulator, type TestSimulator } from '../../support/simulator.js';
import { call, fleetCsv, startServe, type ServeProcess } from './serve-process.js';

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

interface Summary {
  id: string;
  input_file: string;
  provider: string;
  state: string;
  submitted_at: string;
  reachable: number | null;
  not_reachable: number | null;
  no_connectivity: { days: number; rows: number | null };
  rows_in_error: number | null;
  url: string;
}
interface Page {
  batches: Summary[];
  next: string | null;
}

async function upload(s: ServeProcess, name: string, csv: string): Promise<string> {
  const data = new FormData();
  data.append('file', new Blob([csv], { type: 'text/csv' }), name);
  const posted = await call(`${s.url}/batches`, { method: 'POST', token: s.token, body: data });
  expect(posted.status).toBe(202);
  return posted.json<{ id: string }>().id;
}

async function stateOf(s: ServeProcess, id: string): Promise<string> {
  return (await call(`${s.url}/batches/${id}`, { token: s.token })).json<{ state: string }>().state;
}

async function untilDone(s: ServeProcess, id: string): Promise<void> {
  await expect.poll(() => stateOf(s, id), { timeout: 45_000, interval: 100 }).toBe('done');
}

describe('reachscan serve: the API behind the console', () => {
  it('/openapi.json is an OpenAPI 3.1 document the server checks requests against', async () => {
    serve = await startServe(t, []);
    const doc = await call(`${serve.url}/openapi.json`, { token: serve.token });
    expect(doc.status).toBe(200);
    const spec = doc.json<{ openapi: string; paths: Record<string, Record<string, unknown>> }>();
    expect(spec.openapi).toBe('3.1.0');
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining(['/batches', '/batches/{id}', '/batches/{id}/files/{name}']),
    );
    expect(Object.keys(spec.paths['/batches'] ?? {}).sort()).toEqual(['get', 'post']);
    expect(Object.keys(spec.paths['/batches/{id}'] ?? {}).sort()).toEqual(['delete', 'get']);
    expect(Object.keys(spec.paths).some((p) => p.startsWith('/admin'))).toBe(false);

    for (const [query, option] of [
      ['limit=abc', 'limit'],
      ['limit=0', 'limit'],
      ['limit=101', 'limit'],
      ['cursor=%21%21', 'cursor'],
      ['color=blue', 'color'],
    ] as const) {
      const refused = await call(`${serve.url}/batches?${query}`, { token: serve.token });
      expect(refused.status, query).toBe(400);
      expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(refused.json(), query).toMatchObject({ status: 400, option });
    }
    const badName = await call(`${serve.url}/batches/${'a'.repeat(24)}/files/secret.txt`, {
      token: serve.token,
    });
    expect(badName.status).toBe(400);
    expect(badName.json()).toMatchObject({ option: 'name' });
    const badId = await call(`${serve.url}/batches/nope`, { token: serve.token });
    expect(badId.json()).toMatchObject({ status: 400, detail: 'batch id must be 24 hexadecimal characters' });
    // The document is the API's: it needs the token like everything else.
    expect((await call(`${serve.url}/openapi.json`)).status).toBe(401);
  });

  it(
    'GET /batches pages newest first; every output downloads by name, named after the upload',
    { timeout: 90_000 },
    async () => {
      serve = await startServe(t);
      const ids: string[] = [];
      for (const [i, name] of ['crm-export.csv', 'fleet.csv', 'Übersicht Q3.csv'].entries()) {
        ids.push(await upload(serve, name, fleetCsv(5, 40 + i, ['C9,not a number,site-0'])));
        await untilDone(serve, ids[i] as string);
      }
      const first = await call(`${serve.url}/batches?limit=2`, { token: serve.token });
      expect(first.status).toBe(200);
      const page1 = first.json<Page>();
      expect(page1.batches.map((b) => b.id)).toEqual([ids[2], ids[1]]);
      expect(page1.next).toEqual(expect.any(String));
      const page2 = (
        await call(`${serve.url}/batches?limit=2&cursor=${page1.next}`, { token: serve.token })
      ).json<Page>();
      expect(page2.batches.map((b) => b.id)).toEqual([ids[0]]);
      expect(page2.next).toBeNull();
      expect(page2.batches[0]).toMatchObject({
        input_file: 'crm-export.csv',
        provider: 'identity-insights',
        state: 'done',
        rows_in_error: 1,
        no_connectivity: { days: 60 },
        url: `/batches/${ids[0]}`,
      });
      const crm = page2.batches[0] as Summary;
      expect((crm.reachable ?? 0) + (crm.not_reachable ?? 0)).toBeLessThanOrEqual(5);
      expect(crm.no_connectivity.rows).toEqual(expect.any(Number));

      const view = (await call(`${serve.url}/batches/${ids[0]}`, { token: serve.token })).json<{
        files: { name: string; url: string }[];
      }>();
      const names = view.files.map((f) => f.name);
      expect(names).toEqual([
        'results.csv',
        'rejects.csv',
        'no-connectivity-60d.csv',
        'changes.csv',
        'report.html',
        'report.md',
        'report.json',
      ]);
      for (const file of view.files) {
        const got = await call(`${serve.url}${file.url}`, { token: serve.token });
        expect(got.status, file.name).toBe(200);
        expect(
          got.bytes.equals(readFileSync(join(serve.dataDir, 'batches', ids[0] as string, file.name))),
          file.name,
        ).toBe(true);
        expect(got.headers['content-disposition']).toBe(
          `attachment; filename="crm-export-${file.name}"; filename*=UTF-8''crm-export-${file.name}`,
        );
      }
      // The older URL still answers, with the new name.
      const older = await call(`${serve.url}/batches/${ids[0]}/results.csv`, { token: serve.token });
      expect(older.headers['content-disposition']).toContain('filename="crm-export-results.csv"');
      const umlaut = await call(`${serve.url}/batches/${ids[2]}/files/results.csv`, { token: serve.token });
      expect(umlaut.headers['content-disposition']).toBe(
        `attachment; filename="_bersicht Q3-results.csv"; filename*=UTF-8''${encodeURIComponent('Übersicht Q3-results.csv')}`,
      );
      const absent = await call(`${serve.url}/batches/${ids[0]}/files/results.xlsx`, { token: serve.token });
      expect(absent.status).toBe(404);
    },
  );

  it(
    'DELETE /batches/:id: 409 while it runs, then removes its folder and its upload',
    { timeout: 90_000 },
    async () => {
      serve = await startServe(t);
      t.sim.setDials({ latencyMs: 300 });
      const id = await upload(serve, 'slow.csv', fleetCsv(30, 50));
      const running = await call(`${serve.url}/batches/${id}`, { method: 'DELETE', token: serve.token });
      expect(running.status).toBe(409);
      expect(running.json<{ detail: string }>().detail).toMatch(/only a finished batch can be deleted/);
      t.sim.setDials({ latencyMs: 0 });
      await untilDone(serve, id);
      expect(readdirSync(join(serve.dataDir, 'uploads'))).toHaveLength(1);
      const deleted = await call(`${serve.url}/batches/${id}`, { method: 'DELETE', token: serve.token });
      expect(deleted.status).toBe(204);
      expect(existsSync(join(serve.dataDir, 'batches', id))).toBe(false);
      expect(readdirSync(join(serve.dataDir, 'uploads'))).toHaveLength(0);
      expect((await call(`${serve.url}/batches/${id}`, { token: serve.token })).status).toBe(404);
      expect((await call(`${serve.url}/batches`, { token: serve.token })).json<Page>().batches).toEqual([]);
    },
  );

  it(
    'REACHSCAN_BATCH_RETENTION_DAYS: batches and uploads older than that go at start-up, newer ones stay',
    { timeout: 90_000 },
    async () => {
      serve = await startServe(t);
      const dataDir = serve.dataDir;
      const old = await upload(serve, 'old.csv', fleetCsv(3, 60));
      await untilDone(serve, old);
      const recent = await upload(serve, 'recent.csv', fleetCsv(3, 61));
      await untilDone(serve, recent);
      await serve.stop();
      // The old batch was submitted 40 days ago; a stray upload no batch reads is as old.
      const recordPath = join(dataDir, 'batches', old, 'batch.json');
      const record = JSON.parse(readFileSync(recordPath, 'utf8')) as { submittedAt: string };
      record.submittedAt = new Date(Date.now() - 40 * 86_400_000).toISOString();
      writeFileSync(recordPath, JSON.stringify(record));
      const stray = join(dataDir, 'uploads', `${'f'.repeat(64)}.csv`);
      writeFileSync(stray, 'phone\n+447700900000\n');
      const longAgo = new Date(Date.now() - 40 * 86_400_000);
      utimesSync(stray, longAgo, longAgo);
      const uploadsBefore = readdirSync(join(dataDir, 'uploads')).length;
      expect(uploadsBefore).toBe(3);

      serve = await startServe(t, [], { REACHSCAN_DATA_DIR: dataDir, REACHSCAN_BATCH_RETENTION_DAYS: '30' });
      await expect.poll(() => existsSync(join(dataDir, 'batches', old)), { timeout: 20_000 }).toBe(false);
      await expect.poll(() => existsSync(stray), { timeout: 20_000 }).toBe(false);
      expect(existsSync(join(dataDir, 'batches', recent, 'results.csv'))).toBe(true);
      expect(readdirSync(join(dataDir, 'uploads'))).toHaveLength(1);
      const listed = (await call(`${serve.url}/batches`, { token: serve.token })).json<Page>();
      expect(listed.batches.map((b) => b.id)).toEqual([recent]);
    },
  );

  it('bull-board stays at /admin/queues and asks for nothing from outside', async () => {
    serve = await startServe(t, []);
    const page = await call(`${serve.url}/admin/queues`, { token: serve.token });
    expect(page.status).toBe(200);
    expect(page.text).toContain('static/js/');
    expect(page.text).not.toMatch(/https?:\/\//);
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
  });
});
