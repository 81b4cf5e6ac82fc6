import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSimulator, type TestSimulator } from '../../support/simulator.js';
import { call, fleetCsv, startServe, type ServeProcess } from './serve-process.js';

/**
 * Uploads the API cannot take, sent byte for byte over a raw socket (no client library tidies them up): each
 * gets a problem+json answer naming what is wrong, and nothing is queued. Never a 2xx without a batch.
 */

let t: TestSimulator;
let serve: ServeProcess;
beforeAll(async () => {
  t = await startTestSimulator();
  // Request logging on, to see what reaches the log.
  serve = await startServe(t, [], { REACHSCAN_LOG_LEVEL: 'info' });
});
afterAll(async () => {
  await serve.stop();
  await t.close();
});

interface RawAnswer {
  readonly status: number;
  readonly type: string;
  readonly body: string;
}

/** One HTTP/1.1 request written as given (the body's length declared as sent), the answer read to its end. */
async function rawPost(path: string, contentType: string | null, body: string | Buffer): Promise<RawAnswer> {
  const { hostname: host, port } = new URL(serve.url);
  const socket = connect(Number(port), host);
  await once(socket, 'connect');
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const head = [
    `POST ${path} HTTP/1.1`,
    `Host: ${host}:${port}`,
    `Authorization: Bearer ${serve.token}`,
    ...(contentType === null ? [] : [`Content-Type: ${contentType}`]),
    `Content-Length: ${bytes.length}`,
    'Connection: close',
    '',
    '',
  ].join('\r\n');
  // Written, not ended: a client that half-closes its side would look like one that went away.
  socket.write(Buffer.concat([Buffer.from(head), bytes]));
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  await once(socket, 'close');
  const text = Buffer.concat(chunks).toString('utf8');
  const [top = '', rest = ''] = text.split('\r\n\r\n', 2);
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(top)?.[1]);
  const type = /^content-type: (.*)$/im.exec(top)?.[1] ?? '';
  const chunked = /^transfer-encoding: chunked/im.test(top);
  return { status, type, body: chunked ? dechunk(rest) : rest };
}

function dechunk(text: string): string {
  let out = '';
  let rest = text;
  for (;;) {
    const eol = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, eol), 16);
    if (!(size > 0)) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}

/** A multipart body with the given parts, closed (or not) by the final boundary. */
function multipart(
  boundary: string,
  parts: readonly { name: string; filename?: string; content: string }[],
  closed = true,
): string {
  const body = parts
    .map(
      (p) =>
        `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"` +
        (p.filename === undefined ? '' : `; filename="${p.filename}"\r\nContent-Type: text/csv`) +
        `\r\n\r\n${p.content}\r\n`,
    )
    .join('');
  return closed ? `${body}--${boundary}--\r\n` : body;
}

/** No batch folder, no upload kept (a refused input is kept, named by its content, as scan reads it). */
function expectNothingQueued(keptInput = false): void {
  expect(readdirSync(join(serve.dataDir, 'batches'))).toEqual([]);
  const uploads = readdirSync(join(serve.dataDir, 'uploads'));
  expect(uploads.filter((name) => name.startsWith('.incoming'))).toEqual([]);
  if (!keptInput) expect(uploads).toEqual([]);
}

function expectProblem(answer: RawAnswer, status: number, detail: RegExp | string): void {
  expect(answer.status, answer.body).toBe(status);
  expect(answer.type).toMatch(/^application\/problem\+json/);
  const body = JSON.parse(answer.body) as { status: number; detail: string };
  expect(body.status).toBe(status);
  if (typeof detail === 'string') expect(body.detail).toBe(detail);
  else expect(body.detail).toMatch(detail);
}

const csv = fleetCsv(3, 71);

describe('reachscan serve: malformed multipart uploads are refused with a reason, nothing queued', () => {
  it('multipart/form-data without a boundary: 400', async () => {
    const answer = await rawPost(
      '/batches',
      'multipart/form-data',
      multipart('x', [{ name: 'file', filename: 'a.csv', content: csv }]),
    );
    expectProblem(answer, 400, /^malformed multipart upload: the Content-Type has no boundary/);
    expectNothingQueued();
  });

  it('multipart/form-data with an empty boundary: 400', async () => {
    for (const type of ['multipart/form-data; boundary=', 'multipart/form-data; boundary=""']) {
      const answer = await rawPost(
        '/batches',
        type,
        multipart('', [{ name: 'file', filename: 'a.csv', content: csv }]),
      );
      expectProblem(answer, 400, /^malformed multipart upload: the Content-Type has an empty boundary/);
    }
    expectNothingQueued();
  });

  it('a body cut short before its closing boundary: 400', async () => {
    const full = multipart('b0undary', [{ name: 'file', filename: 'a.csv', content: csv }], false);
    for (const body of [full, full.slice(0, full.length - 40), '--b0undary\r\nContent-Disp']) {
      const answer = await rawPost('/batches', 'multipart/form-data; boundary=b0undary', body);
      expectProblem(answer, 400, /^malformed multipart upload: the body ends before its closing boundary/);
    }
    expectNothingQueued();
  });

  it('a body that is not multipart at all (no boundary line anywhere): 400', async () => {
    const answer = await rawPost('/batches', 'multipart/form-data; boundary=b0undary', csv);
    expectProblem(answer, 400, /^malformed multipart upload/);
    expectNothingQueued();
  });

  it('two files (both named "file", or another file field): 400, not 413', async () => {
    for (const second of ['file', 'other']) {
      const body = multipart('b0undary', [
        { name: 'file', filename: 'a.csv', content: csv },
        { name: second, filename: 'b.csv', content: csv },
      ]);
      const answer = await rawPost('/batches', 'multipart/form-data; boundary=b0undary', body);
      expectProblem(answer, 400, 'one file per upload, in the field named "file"');
    }
    const elsewhere = multipart('b0undary', [{ name: 'csv', filename: 'a.csv', content: csv }]);
    expectProblem(
      await rawPost('/batches', 'multipart/form-data; boundary=b0undary', elsewhere),
      400,
      'a file came in the field "csv": one file per upload, in the field named "file"',
    );
    expectNothingQueued();
  });

  it('an empty file: 422 with the reason scan gives, naming the file', async () => {
    const body = multipart('b0undary', [{ name: 'file', filename: 'fleet.csv', content: '' }]);
    const answer = await rawPost('/batches', 'multipart/form-data; boundary=b0undary', body);
    expectProblem(answer, 422, 'fleet.csv: the file is empty');
    expectNothingQueued(true);
  });

  it('a well-formed upload after all that is still taken (202, a batch)', async () => {
    const body = multipart('b0undary', [
      { name: 'default-country', content: 'GB' },
      { name: 'file', filename: 'fleet.csv', content: csv },
    ]);
    const answer = await rawPost('/batches', 'multipart/form-data; boundary=b0undary', body);
    expect(answer.status, answer.body).toBe(202);
    const { id } = JSON.parse(answer.body) as { id: string };
    expect(readdirSync(join(serve.dataDir, 'batches'))).toEqual([id]);
  });
});

describe('reachscan serve: tokens in query strings', () => {
  it('?token= is refused (401, saying to use the Authorization header), even when it is the right token', async () => {
    for (const path of ['/metrics', '/batches/0123456789abcdef01234567', '/admin/queues', '/healthz']) {
      for (const token of [serve.token, 'wrong-token-value-123']) {
        for (const name of ['token', 'access_token']) {
          const answer = await call(`${serve.url}${path}?${name}=${token}`, { token: null });
          expect(answer.status, `${path}?${name}`).toBe(401);
          expect(answer.json<{ detail: string }>().detail).toBe(
            `a token in the URL (?${name}=) is not accepted: URLs end up in logs and browser history; send it in the Authorization header (Authorization: Bearer <REACHSCAN_API_TOKEN>)`,
          );
        }
      }
    }
    // Even alongside a valid Authorization header: the token has been put where it leaks.
    const both = await call(`${serve.url}/metrics?token=${serve.token}`, { token: serve.token });
    expect(both.status).toBe(401);
  });

  it('URLs are logged without their query string', async () => {
    const marker = 'querymarker0123456789';
    await call(`${serve.url}/metrics?token=${marker}`, { token: null });
    await call(`${serve.url}/metrics?foo=${marker}`, { token: serve.token });
    await call(`${serve.url}/no-such-page?x=${marker}`, { token: serve.token });
    await expect.poll(() => serve.stderr()).toContain('"url":"/no-such-page"');
    expect(serve.stderr()).toContain('"url":"/metrics"');
    expect(serve.stderr()).not.toContain(marker);
    expect(serve.stderr()).not.toContain(serve.token);
  });
});
