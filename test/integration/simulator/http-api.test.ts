import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deviceStateFor, IDENTITY_INSIGHTS_PATHS, NO_FAULTS } from '../../../src/simulator/index.js';
import { startTestSimulator, type TestSimulator } from '../../support/simulator.js';

let t: TestSimulator;
beforeAll(async () => {
  t = await startTestSimulator();
});
afterAll(() => t.close());
beforeEach(() => t.sim.reset());

const nowS = () => Math.floor(Date.now() / 1000);
const GOOD_BODY = {
  phone_number: '+990123400',
  purpose: 'FraudPreventionAndDetection',
  insights: { reachability: {}, roaming: {} },
};

async function jwt(
  claims: Record<string, unknown> = {},
  options: { key?: unknown; iat?: number | null; jti?: string | null; exp?: number | null } = {},
): Promise<string> {
  const signer = new SignJWT({ application_id: t.app.applicationId, ...claims }).setProtectedHeader({
    alg: 'RS256',
    typ: 'JWT',
  });
  if (options.iat !== null) signer.setIssuedAt(options.iat ?? nowS());
  if (options.jti !== null) signer.setJti(options.jti ?? randomUUID());
  if (options.exp !== null) signer.setExpirationTime(options.exp ?? nowS() + 900);
  const { createPrivateKey } = await import('node:crypto');
  return signer.sign((options.key as never) ?? createPrivateKey(t.app.privateKeyPem));
}

async function post(
  body: unknown,
  {
    token,
    contentType = 'application/json',
    path = IDENTITY_INSIGHTS_PATHS[0],
  }: { token?: string; contentType?: string; path?: string } = {},
) {
  const res = await fetch(t.sim.url + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${token ?? (await jwt())}`, 'content-type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    body: (await res.json()) as Record<string, unknown>,
  };
}

describe('authentication', () => {
  const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

  it.each([
    [
      'a signature from another key',
      () => jwt({}, { key: otherKey }),
      'signature does not match the application key',
    ],
    ['an unknown application_id', () => jwt({ application_id: randomUUID() }), 'unknown application_id'],
    ['no application_id', () => jwt({ application_id: undefined }), 'application_id claim missing'],
    ['no iat', () => jwt({}, { iat: null }), 'iat claim missing or invalid'],
    ['no jti', () => jwt({}, { jti: null }), 'jti claim missing or invalid'],
    ['an expired token', () => jwt({}, { iat: nowS() - 3600, exp: nowS() - 600 }), 'token expired'],
    ['no exp and older than 15 minutes', () => jwt({}, { iat: nowS() - 1000, exp: null }), 'token expired'],
    ['a lifetime over 24 h', () => jwt({}, { exp: nowS() + 86_400 + 60 }), 'token lifetime exceeds 24 hours'],
    ['an acl claim', () => jwt({ acl: { paths: {} } }), 'acl claim is not allowed for network APIs'],
    [
      'a token issued in the future',
      () => jwt({}, { iat: nowS() + 600, exp: nowS() + 900 }),
      'token issued in the future',
    ],
    ['garbage', () => Promise.resolve('not.a.jwt'), 'malformed token'],
  ])('refuses %s with 401 problem+json', async (_name, token, reason) => {
    const res = await post(GOOD_BODY, { token: await token() });
    expect(res.status).toBe(401);
    expect(res.type).toBe('application/problem+json');
    expect(res.body).toMatchObject({ title: 'Unauthorized', detail: `Invalid token: ${reason}.` });
    expect(res.body.instance).toEqual(expect.any(String));
  });

  it('refuses a request without Authorization', async () => {
    const res = await fetch(t.sim.url + IDENTITY_INSIGHTS_PATHS[0], {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(GOOD_BODY),
    });
    expect(res.status).toBe(401);
  });

  it('accepts a token without exp inside its default 15 minutes', async () => {
    expect((await post(GOOD_BODY, { token: await jwt({}, { exp: null, iat: nowS() - 300 }) })).status).toBe(
      200,
    );
  });
});

describe('request checks', () => {
  it('415 for a wrong content type', async () => {
    const res = await post(GOOD_BODY, { contentType: 'text/plain' });
    expect(res).toMatchObject({ status: 415, type: 'application/problem+json' });
  });

  it('400 for malformed JSON', async () => {
    expect((await post('{"phone_number": ')).status).toBe(400);
  });

  it.each([
    [{ ...GOOD_BODY, phone_number: undefined }, 'phone_number'],
    [{ ...GOOD_BODY, insights: {} }, 'insights'],
    [{ ...GOOD_BODY, insights: { reachability: { period: 1 } } }, 'insights.reachability'],
  ])('422 with invalid_parameters for %j', async (body, name) => {
    const res = await post(body);
    expect(res.status).toBe(422);
    expect(res.body.invalid_parameters).toEqual([{ name, reason: expect.any(String) }]);
  });

  it('405 for other methods and 404 for unknown paths', async () => {
    const get = await fetch(t.sim.url + IDENTITY_INSIGHTS_PATHS[0]);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect((await fetch(`${t.sim.url}/nope`, { method: 'POST' })).status).toBe(404);
  });

  it('413 for a body over 64 KiB', async () => {
    const res = await fetch(t.sim.url + IDENTITY_INSIGHTS_PATHS[0], {
      method: 'POST',
      headers: { authorization: `Bearer ${await jwt()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...GOOD_BODY, padding: 'x'.repeat(70_000) }),
    });
    expect(res.status).toBe(413);
  });
});

describe('answers', () => {
  it('serves both paths with the same answer', async () => {
    const [current, older] = await Promise.all(
      IDENTITY_INSIGHTS_PATHS.map((path) => post(GOOD_BODY, { path })),
    );
    expect(current?.status).toBe(200);
    expect(older?.body.insights).toEqual(current?.body.insights);
  });

  it('answers only the insights asked for, and INVALID_PURPOSE for a purpose not on the application', async () => {
    const one = await post({ ...GOOD_BODY, insights: { roaming: {} } });
    expect(Object.keys(one.body.insights as object)).toEqual(['roaming']);
    const wrong = await post({ ...GOOD_BODY, purpose: 'Marketing' });
    expect(wrong.body.insights).toEqual({
      reachability: { status: { code: 'INVALID_PURPOSE', message: expect.any(String) } },
      roaming: { status: { code: 'INVALID_PURPOSE', message: expect.any(String) } },
    });
  });

  it('refusal faults answer as the API does: per-insight UNAUTHORIZED or INVALID_PURPOSE in a 200, 400, 422', async () => {
    const refused = (code: string) => ({ status: { code, message: expect.any(String) } });
    try {
      t.sim.setDials({ faults: { unauthorized: 1 }, refusedInsights: ['roaming'] });
      const one = await post(GOOD_BODY);
      expect(one.status).toBe(200);
      expect(one.body).toEqual({
        request_id: expect.any(String),
        insights: {
          reachability: expect.objectContaining({
            is_reachable: true,
            status: { code: 'OK', message: 'Success' },
          }),
          roaming: refused('UNAUTHORIZED'),
        },
      });
      t.sim.setDials({ faults: { unauthorized: 0, invalidPurpose: 1 } });
      expect((await post(GOOD_BODY)).body.insights).toEqual({
        reachability: refused('INVALID_PURPOSE'),
        roaming: refused('INVALID_PURPOSE'),
      });
      t.sim.setDials({ faults: { invalidPurpose: 0, http422: 1 } });
      const invalid = await post(GOOD_BODY);
      expect(invalid).toMatchObject({ status: 422, type: 'application/problem+json' });
      expect(invalid.body).toEqual({
        type: 'https://developer.vonage.com/api-errors#validation',
        title: 'Bad Request',
        detail: 'The request failed due to validation errors.',
        invalid_parameters: [{ name: 'phone_number', reason: expect.any(String) }],
        instance: expect.any(String),
      });
      t.sim.setDials({ faults: { http422: 0, http400: 1 } });
      const malformed = await post(GOOD_BODY);
      expect(malformed).toMatchObject({ status: 400, type: 'application/problem+json' });
      expect(malformed.body).toMatchObject({ title: 'Invalid JSON', instance: expect.any(String) });
      // None of those was an answer from the number's state; the next one is.
      expect(t.sim.stats().answeredByNumber).toEqual({});
      t.sim.setDials({ faults: { http400: 0 } });
      expect((await post(GOOD_BODY)).status).toBe(200);
      expect(t.sim.stats().answeredByNumber).toEqual({ '+990123400': 1 });
    } finally {
      t.sim.setDials({ faults: NO_FAULTS, refusedInsights: ['reachability', 'roaming'] });
    }
  });

  it('counts requests per number, status and path over HTTP, and resets', async () => {
    await post(GOOD_BODY);
    await post({ ...GOOD_BODY, phone_number: '990123411' });
    await post(GOOD_BODY, { token: 'bad' });
    const stats = (await (await fetch(`${t.sim.url}/_sim/stats`)).json()) as Record<string, unknown>;
    expect(stats).toMatchObject({
      requests: 3,
      byNumber: { '+990123400': 2, '+990123411': 1 },
      byStatus: { '200': 2, '401': 1 },
      byPath: { [IDENTITY_INSIGHTS_PATHS[0]]: 3 },
      distinctJwtIds: 2,
    });
    // The counters alone, without what is kept per number, for readers that look every second.
    const counters = (await (await fetch(`${t.sim.url}/_sim/stats/counters`)).json()) as Record<
      string,
      unknown
    >;
    const { byNumber: _n, requestIds: _r, answeredByNumber: _a, ...expected } = stats;
    expect(counters).toEqual(expected);
    expect(counters).toMatchObject({ requests: 3, byStatus: { '200': 2, '401': 1 } });
    await fetch(`${t.sim.url}/_sim/reset`, { method: 'POST' });
    expect(t.sim.stats().requests).toBe(0);
  });

  it('turns dials over HTTP and refuses nonsense', async () => {
    const patch = (body: unknown) =>
      fetch(`${t.sim.url}/_sim/dials`, { method: 'PATCH', body: JSON.stringify(body) });
    const res = await patch({ faults: { http503: 1 } });
    expect(res.status).toBe(200);
    expect((await post(GOOD_BODY)).status).toBe(503);
    expect((await patch({ faults: { http503: 2 } })).status).toBe(400);
    await patch({ faults: { http503: 0 } });
    expect((await post(GOOD_BODY)).status).toBe(200);
  });

  it('answers bad credentials with 401 even while faults are dialled in', async () => {
    t.sim.setDials({ faults: { http503: 1 } });
    try {
      expect((await post(GOOD_BODY, { token: 'bad' })).status).toBe(401);
      expect((await post(GOOD_BODY)).status).toBe(503);
    } finally {
      t.sim.setDials({ faults: { http503: 0 } });
    }
  });

  it('does not spend a scripted answer on a request that fails its checks', async () => {
    t.sim.script('+990123400', [{ status: 502, body: { scripted: true } }]);
    expect((await post(GOOD_BODY, { token: 'bad' })).status).toBe(401);
    expect((await post({ ...GOOD_BODY, insights: {} })).status).toBe(422);
    expect((await post(GOOD_BODY)).status).toBe(502);
  });

  it('serves scripted responses for a number, in order, then goes back to simulating', async () => {
    await fetch(`${t.sim.url}/_sim/script`, {
      method: 'POST',
      body: JSON.stringify({
        phone_number: '+990123400',
        responses: [{ status: 502, body: { oops: true } }],
      }),
    });
    expect((await post(GOOD_BODY)).status).toBe(502);
    expect((await post(GOOD_BODY)).status).toBe(200);
  });

  it('answers for a number from the state a test gave it, on both insights, until reset', async () => {
    const number = '+447400200009';
    const set = (state: unknown) =>
      fetch(`${t.sim.url}/_sim/devices`, {
        method: 'POST',
        body: JSON.stringify({ phone_number: number, state }),
      });
    const body = { ...GOOD_BODY, phone_number: number };
    const stored = await set({
      connectivity: [],
      connectivityChangedAt: '2026-01-02T03:04:05Z',
      roaming: { mcc: 262, countries: ['DE'] },
    });
    expect(stored.status).toBe(200);
    const insights = (await post(body)).body.insights as Record<string, Record<string, unknown>>;
    expect(insights.reachability).toMatchObject({
      is_reachable: false,
      latest_status_at: '2026-01-02T03:04:05.000Z',
    });
    expect(insights.roaming).toMatchObject({ is_roaming: true, country_codes: ['DE'] });
    await set({ kind: 'unknown-subscriber' });
    expect(
      ((await post(body)).body.insights as Record<string, { status: { code: string } }>).reachability?.status
        .code,
    ).toBe('NOT_FOUND');
    expect((await set({ connectivity: ['FAX'] })).status).toBe(400);
    await set(null);
    // Back to the seeded rules, under which this number is an ordinary device.
    const rules = deviceStateFor(number, 'reachscan', Date.now());
    const ruled = rules.kind === 'device' ? (rules.reachabilityStatus ?? 'OK') : rules.kind;
    const back = (await post(body)).body.insights as Record<string, { status: { code: string } }>;
    expect(back.reachability?.status.code).toBe(ruled);
    t.sim.setDevice(number, { kind: 'no-coverage' });
    t.sim.reset();
    expect(
      ((await post(body)).body.insights as Record<string, { status: { code: string } }>).reachability?.status
        .code,
    ).toBe(ruled);
  });
});
