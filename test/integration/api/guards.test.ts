import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSimulator, type TestSimulator } from '../../support/simulator.js';
import { call, fleetCsv, reachscan, startServe, testEnv, type ServeProcess } from './serve-process.js';

let t: TestSimulator;
let serve: ServeProcess;
beforeAll(async () => {
  t = await startTestSimulator();
  // A 10 KiB upload limit; request logging on, to prove the token never reaches the log.
  serve = await startServe(t, ['--worker'], {
    REACHSCAN_API_MAX_UPLOAD_MB: '0.01',
    REACHSCAN_LOG_LEVEL: 'info',
  });
});
afterAll(async () => {
  await serve.stop();
  await t.close();
});

const csvPost = (body: string | Buffer, headers: Record<string, string> = { 'content-type': 'text/csv' }) =>
  call(`${serve.url}/batches`, { method: 'POST', token: serve.token, headers, body });

function expectProblem(
  answer: { status: number; headers: Record<string, unknown>; json: () => unknown },
  status: number,
) {
  expect(answer.status).toBe(status);
  expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(answer.json()).toMatchObject({ status, detail: expect.any(String) });
}

describe('reachscan serve: what it refuses', () => {
  it(
    '401 without the token or with a wrong one, everywhere but /healthz; Basic and a cookie open the dashboard',
    { timeout: 60_000 },
    async () => {
      const wrong = `${serve.token.slice(0, -1)}x`;
      for (const path of [
        '/batches',
        '/batches/0123456789abcdef01234567',
        '/metrics',
        '/admin/queues',
        '/admin/queues/api/queues',
      ]) {
        for (const token of [null, wrong, '']) {
          const answer = await call(`${serve.url}${path}`, { token });
          expectProblem(answer, 401);
        }
      }
      const post = await call(`${serve.url}/batches`, {
        method: 'POST',
        token: wrong,
        headers: { 'content-type': 'text/csv' },
        body: fleetCsv(3, 40),
      });
      expectProblem(post, 401);
      expect((await call(`${serve.url}/batches`, { token: null })).headers['www-authenticate']).toMatch(
        /^Bearer/,
      );
      // A browser gets a login prompt for the dashboard.
      expect((await call(`${serve.url}/admin/queues`, { token: null })).headers['www-authenticate']).toMatch(
        /^Basic/,
      );
      const basic = (user: string, password: string) =>
        `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
      expect(
        (await call(`${serve.url}/admin/queues`, { headers: { authorization: basic('ops', wrong) } })).status,
      ).toBe(401);
      const page = await call(`${serve.url}/admin/queues`, {
        headers: { authorization: basic('ops', serve.token) },
      });
      expect(page.status).toBe(200);
      expect(page.text).toContain('<html');
      const queues = await call(`${serve.url}/admin/queues/api/queues`, {
        headers: { cookie: `theme=dark; reachscan_token=${serve.token}` },
      });
      expect(queues.status).toBe(200);
      expect(
        queues
          .json<{ queues: { name: string }[] }>()
          .queues.map((q) => q.name)
          .sort(),
      ).toEqual(['batches', 'chunks']);
      expect(
        (await call(`${serve.url}/admin/queues`, { headers: { cookie: `reachscan_token=${wrong}` } })).status,
      ).toBe(401);

      const health = await call(`${serve.url}/healthz`, { token: null });
      expect(health.status).toBe(200);
      expect(health.json()).toEqual({ status: 'ok', redis: 'ok' });
      expect((await call(`${serve.url}/metrics`, { token: serve.token })).status).toBe(200);
      // Tokens, right or wrong, never reach the log, although every request is logged.
      expect(serve.stderr()).toContain('"url":"/admin/queues"');
      expect(serve.stderr()).not.toContain(serve.token);
      expect(serve.stderr()).not.toContain(wrong);
      expect(serve.stdout()).not.toContain(serve.token);
    },
  );

  it(
    '413 over the upload limit (declared, streamed or multipart), and nothing is left behind',
    { timeout: 60_000 },
    async () => {
      const big = fleetCsv(600, 41); // about 17 KiB
      expect(big.length).toBeGreaterThan(0.01 * 1024 * 1024);
      const declared = await csvPost(big);
      expectProblem(declared, 413);
      expect(declared.json<{ detail: string }>().detail).toContain('REACHSCAN_API_MAX_UPLOAD_MB');

      // No Content-Length: the limit is found while the body streams in.
      const streamed = await request(`${serve.url}/batches`, {
        method: 'POST',
        headers: { authorization: `Bearer ${serve.token}`, 'content-type': 'text/csv' },
        body: Readable.from(
          (function* () {
            for (let i = 0; i < big.length; i += 1024) yield Buffer.from(big.slice(i, i + 1024));
          })(),
        ),
      });
      expect(streamed.statusCode).toBe(413);
      expect(await streamed.body.json()).toMatchObject({ status: 413 });

      const form = new FormData();
      form.append('file', new Blob([big], { type: 'text/csv' }), 'big.csv');
      expectProblem(await call(`${serve.url}/batches`, { token: serve.token, body: form }), 413);

      // A client that hangs up halfway through an upload does not take the server down.
      const { hostname: host, port } = new URL(serve.url);
      const socket = connect(Number(port), host);
      await once(socket, 'connect');
      socket.write(
        `POST /batches HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${serve.token}\r\n` +
          `Content-Type: text/csv\r\nContent-Length: 9000\r\n\r\nmsisdn\n+447400000001\n`,
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
      socket.destroy();
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect((await call(`${serve.url}/healthz`)).status).toBe(200);

      // Just under the limit is fine, and the server still answers.
      const small = await csvPost(fleetCsv(50, 42));
      expect(small.status).toBe(202);
      expect(readdirSync(join(serve.dataDir, 'uploads')).filter((f) => f.startsWith('.incoming'))).toEqual(
        [],
      );
    },
  );

  it('415 for anything but a CSV body or a multipart upload', { timeout: 60_000 }, async () => {
    for (const type of [
      'application/json',
      'application/octet-stream',
      'image/png',
      'application/x-www-form-urlencoded',
    ]) {
      const answer = await csvPost('phone\n+447400000001\n', { 'content-type': type });
      expectProblem(answer, 415);
      expect(answer.json<{ detail: string }>().detail).toContain(type);
    }
    expectProblem(await csvPost('phone\n+447400000001\n', {}), 415);
    for (const type of ['text/csv', 'application/csv', 'text/plain; charset=utf-8']) {
      expect((await csvPost(`msisdn\n+4474430000${type.length}\n`, { 'content-type': type })).status).toBe(
        202,
      );
    }
  });

  it(
    '400 for a bad option or batch id, 404 for an unknown batch, 422 for input that is no phone list',
    { timeout: 60_000 },
    async () => {
      const list = fleetCsv(3, 43);
      for (const [query, option] of [
        ['rate=fast', 'rate'],
        ['default-country=XX', 'default-country'],
        ['provider=other', 'provider'],
        ['max-age=1y', 'max-age'],
        ['chunk-size=0', 'chunk-size'],
        ['bom=maybe', 'bom'],
        ['colour=red', 'colour'],
        // Refuted by the file itself: the upload has no such column.
        ['id-columns=imei', 'id-columns'],
        ['label=', 'label'],
      ] as const) {
        const answer = await call(`${serve.url}/batches?${query}`, {
          method: 'POST',
          token: serve.token,
          headers: { 'content-type': 'text/csv' },
          body: list,
        });
        expectProblem(answer, 400);
        expect(answer.json()).toMatchObject({ option });
        expect(answer.json<{ detail: string }>().detail).toContain(`"${option}"`);
      }
      const form = new FormData();
      form.append('stale-days', 'ten');
      form.append('file', new Blob([list]), 'x.csv');
      expect((await call(`${serve.url}/batches`, { token: serve.token, body: form })).json()).toMatchObject({
        status: 400,
        option: 'stale-days',
      });
      const noFile = new FormData();
      noFile.append('rate', '5');
      expect((await call(`${serve.url}/batches`, { token: serve.token, body: noFile })).json()).toMatchObject(
        { status: 400, option: 'file' },
      );

      for (const id of [
        '..%2F..%2Fetc%2Fpasswd',
        '..',
        'ABCDEF0123456789ABCDEF01',
        '0123456789abcdef0123456',
        '%2Fetc%2Fpasswd',
      ]) {
        for (const suffix of ['', '/results.csv', '/report.json']) {
          const answer = await call(`${serve.url}/batches/${id}${suffix}`, { token: serve.token });
          // `/batches/..` is `/` once the client resolves it: the console's batches page, not a file.
          if (id === '..' && suffix === '') expect(answer.text).toContain('<h1>Batches</h1>');
          else expect([400, 404]).toContain(answer.status);
          expect(answer.text).not.toContain('root:');
        }
      }
      expectProblem(await call(`${serve.url}/batches/..%2Fetc`, { token: serve.token }), 400);
      expectProblem(await call(`${serve.url}/batches/${'0'.repeat(24)}`, { token: serve.token }), 404);
      expectProblem(
        await call(`${serve.url}/batches/${'0'.repeat(24)}/results.csv`, { token: serve.token }),
        404,
      );
      expectProblem(
        await call(`${serve.url}/batches/${'0'.repeat(24)}/retry`, { method: 'POST', token: serve.token }),
        404,
      );

      const noPhone = await csvPost('name,city\nAda,London\n');
      expectProblem(noPhone, 422);
      expect(noPhone.json<{ detail: string }>().detail).toMatch(/^upload\.csv: no phone column found/);
      const binary = await csvPost(
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x01]),
      );
      expectProblem(binary, 422);
      expect(binary.json<{ detail: string }>().detail).toContain('a binary file');
      // A ZIP's first bytes are what an .xlsx starts with: it is read as a workbook, and refused as a broken one.
      const brokenZip = await csvPost(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00, 0x01]));
      expectProblem(brokenZip, 422);
      expect(brokenZip.json<{ detail: string }>().detail).toContain('is not a readable Excel workbook');
      const empty = await csvPost('');
      expectProblem(empty, 422);
      expect(empty.json<{ detail: string }>().detail).toBe('upload.csv: the file is empty');
      const missingColumn = await call(`${serve.url}/batches?column=mobile`, {
        method: 'POST',
        token: serve.token,
        headers: { 'content-type': 'text/csv' },
        body: list,
      });
      expectProblem(missingColumn, 422);
      expect(missingColumn.json<{ detail: string }>().detail).toContain('no column named "mobile"');
    },
  );

  it(
    'refuses to start without a token (exit 3, one line naming it), or on a bad or taken port (exit 3)',
    { timeout: 60_000 },
    async () => {
      const noToken = reachscan(['serve', '--port', '0'], testEnv(t));
      expect(await noToken.exited).toBe(3);
      expect(noToken.stderr().trim().split('\n')).toEqual([
        'reachscan: REACHSCAN_API_TOKEN is required: the bearer token API clients must send (e.g. openssl rand -hex 32)',
      ]);
      const weak = reachscan(['serve', '--port', '0'], testEnv(t, { REACHSCAN_API_TOKEN: 'secret' }));
      expect(await weak.exited).toBe(3);
      expect(weak.stderr()).toContain('REACHSCAN_API_TOKEN must be at least 16 characters');
      expect(weak.stderr()).not.toContain('secret"');
      const badPort = reachscan(
        ['serve', '--port', 'http'],
        testEnv(t, { REACHSCAN_API_TOKEN: 'x'.repeat(32) }),
      );
      expect(await badPort.exited).toBe(3);
      expect(badPort.stderr()).toContain('--port must be a port number');
      const taken = reachscan(
        ['serve', '--port', new URL(serve.url).port],
        testEnv(t, { REACHSCAN_API_TOKEN: 'x'.repeat(32) }),
      );
      expect(await taken.exited).toBe(3);
      expect(taken.stderr()).toMatch(/^reachscan: cannot listen on 127\.0\.0\.1:\d+ \(EADDRINUSE\)$/m);
      const usage = reachscan(
        ['serve', '--concurrency', '4'],
        testEnv(t, { REACHSCAN_API_TOKEN: 'x'.repeat(32) }),
      );
      expect(await usage.exited).toBe(2);
    },
  );
});
