import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logging/logger.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger({ level: 'trace', destination }), text: () => lines.join('') };
}

describe('createLogger redaction', () => {
  it('hides credentials in objects logged whole, at the top level and one level down', () => {
    const { logger, text } = capture();
    logger.debug(
      {
        authorization: 'Bearer eyJhbGciOiJSUzI1NiJ9.eyJhIjoxfQ.c2ln',
        req: { headers: { authorization: 'Basic YWRtaW46c2VjcmV0', cookie: 'reachscan_token=abc123' } },
        response: { access_token: 'tok-1', auth_req_id: 'req-1', refresh_token: 'tok-2' },
        config: { privateKey: '-----BEGIN PRIVATE KEY-----', privateKeyPem: 'pem' },
        headers: { 'set-cookie': 'reachscan_token=abc123' },
        token: 'api-token',
      },
      'exchange',
    );
    const line = text();
    for (const secret of ['eyJ', 'YWRtaW4', 'abc123', 'tok-1', 'tok-2', 'req-1', 'BEGIN', 'pem', 'api-token'])
      expect(line).not.toContain(secret);
    expect(JSON.parse(line)).toMatchObject({
      authorization: '[redacted]',
      req: { headers: { authorization: '[redacted]', cookie: '[redacted]' } },
      token: '[redacted]',
    });
  });

  it('masks phone numbers in phone fields, lists included, as maskPhone does', () => {
    const { logger, text } = capture();
    logger.info(
      {
        outcome: { phoneNumber: '+447400123456', kind: 'answered' },
        body: { phone_number: '+447400123457', login_hint: 'tel:+447400123458' },
        data: { numbers: ['+447400123459', '+990123400'], chunk: 3 },
        phone: '+447400123460',
      },
      'whole objects',
    );
    const logged = JSON.parse(text()) as Record<string, Record<string, unknown>>;
    expect(logged.outcome).toEqual({ phoneNumber: '+*********456', kind: 'answered' });
    expect(logged.body).toEqual({ phone_number: '+*********457', login_hint: '**************458' });
    expect(logged.data).toEqual({ numbers: ['+*********459', '+******400'], chunk: 3 });
    expect(logged.phone).toBe('+*********460');
  });
});

describe('createLogger: user-controlled names', () => {
  it('are JSON fields: a name with a newline stays inside its one line', () => {
    const { logger, text } = capture();
    const file = 'x.csv\n{"level":30,"msg":"forged"}';
    logger.info({ file }, 'file taken');
    const lines = text().trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toMatchObject({ file, msg: 'file taken' });
  });
});
