import { createPrivateKey } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { asE164 } from '../../../src/core/e164.js';
import {
  createApplicationJwtSource,
  type ApplicationJwtSource,
} from '../../../src/providers/auth/application-jwt.js';
import { deviceStateFor, NO_FAULTS } from '../../../src/simulator/index.js';
import {
  capturingLogger,
  providerFor,
  startTestSimulator,
  type TestSimulator,
} from '../../support/simulator.js';

const SCOPE = {
  connectivity: 'openid dpv:NotApplicable#device-status:connectivity:read',
  roaming: 'openid dpv:NotApplicable#device-status:roaming:read',
} as const;

let t: TestSimulator;
let jwt: ApplicationJwtSource;
let now = Date.now();
beforeAll(async () => {
  t = await startTestSimulator({ clock: () => now, anchorMs: Date.parse('2026-05-10T00:00:00Z') });
  jwt = createApplicationJwtSource({
    applicationId: t.app.applicationId,
    privateKey: createPrivateKey(t.app.privateKeyPem),
    clock: () => now,
  });
});
afterAll(() => t.close());
beforeEach(() => {
  now = Date.now();
  t.sim.reset();
  t.sim.setDials({ faults: NO_FAULTS, authPendingShare: 0, authIntervalS: 0 });
});

async function postForm(path: string, fields: Record<string, string>, token?: string) {
  const res = await fetch(t.sim.url + path, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token ?? (await jwt.get())}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams(fields).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
const authorize = (number: string, scope: keyof typeof SCOPE) =>
  postForm('/oauth2/bc-authorize', { login_hint: `tel:${number}`, scope: SCOPE[scope] });
const poll = (id: unknown) =>
  postForm('/oauth2/token', { grant_type: 'urn:openid:params:grant-type:ciba', auth_req_id: String(id) });

async function accessToken(number: string, scope: keyof typeof SCOPE): Promise<string> {
  const a = await authorize(number, scope);
  expect(a.status).toBe(200);
  const tok = await poll(a.body.auth_req_id);
  expect(tok.status).toBe(200);
  return String(tok.body.access_token);
}

async function ask(
  scope: keyof typeof SCOPE,
  number: string,
  token: string,
  phoneNumber: unknown = number.slice(1),
) {
  const res = await fetch(`${t.sim.url}/camara/device-status/v050/${scope}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ device: { phoneNumber } }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('back-channel auth', () => {
  it('authorizes, then hands out a Bearer token bound to number and scope', async () => {
    const a = await authorize('+990123400', 'connectivity');
    expect(a).toEqual({
      status: 200,
      body: { auth_req_id: expect.any(String), expires_in: 120, interval: 0 },
    });
    const tok = await poll(a.body.auth_req_id);
    expect(tok).toEqual({
      status: 200,
      body: { access_token: expect.any(String), token_type: 'Bearer', expires_in: 3600 },
    });
    expect((await poll(a.body.auth_req_id)).body.error).toBe('invalid_grant'); // used once only
  });

  it('refuses bad credentials, content types, hints and scopes', async () => {
    expect(
      (
        await postForm(
          '/oauth2/bc-authorize',
          { login_hint: 'tel:+990123400', scope: SCOPE.roaming },
          'x.y.z',
        )
      ).status,
    ).toBe(401);
    expect(
      (await postForm('/oauth2/bc-authorize', { login_hint: '990123400', scope: SCOPE.roaming })).body.error,
    ).toBe('invalid_request');
    expect(
      (await postForm('/oauth2/bc-authorize', { login_hint: 'tel:+990123400', scope: 'openid' })).body.error,
    ).toBe('invalid_scope');
    const json = await fetch(`${t.sim.url}/oauth2/bc-authorize`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await jwt.get()}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(json.status).toBe(415);
  });

  it('answers 404 for numbers on no supported network', async () => {
    for (const number of ['+990123499', '+990123401', '+442071838750']) {
      expect((await authorize(number, 'roaming')).status).toBe(404);
    }
  });

  it('authorization_pending, then slow_down when polled too soon, then the token', async () => {
    t.sim.setDials({ authPendingShare: 1, authIntervalS: 2 });
    const a = await authorize('+990123400', 'roaming');
    expect(a.body.interval).toBe(2);
    expect((await poll(a.body.auth_req_id)).body.error).toBe('authorization_pending');
    const fast = await poll(a.body.auth_req_id);
    expect(fast.body).toMatchObject({ error: 'slow_down', error_description: 'Poll at most every 7 s.' });
    now += 7_000;
    expect((await poll(a.body.auth_req_id)).status).toBe(200);
  });

  it('expired_token after the auth request lifetime', async () => {
    t.sim.setDials({ authRequestTtlS: 60 });
    const a = await authorize('+990123400', 'roaming');
    now += 61_000;
    expect((await poll(a.body.auth_req_id)).body.error).toBe('expired_token');
  });

  it('access_denied where the operator does not allow it', async () => {
    const anchor = Date.parse('2026-05-10T00:00:00Z');
    const denied = Array.from({ length: 3000 }, (_, i) => `+4474${String(i).padStart(8, '0')}`).find(
      (n) => deviceStateFor(n, 'reachscan', anchor).kind === 'unauthorized',
    );
    const a = await authorize(denied as string, 'connectivity');
    expect((await poll(a.body.auth_req_id)).body.error).toBe('access_denied');
  });
});

describe('Device Status endpoints', () => {
  it('answers connectivity and roaming for the Virtual Operator numbers', async () => {
    const conn = async (n: string) =>
      (await ask('connectivity', n, await accessToken(n, 'connectivity'))).body;
    const roam = async (n: string) => (await ask('roaming', n, await accessToken(n, 'roaming'))).body;
    expect(await conn('+990123400')).toEqual({ connectivityStatus: 'CONNECTED_DATA' });
    expect(await conn('+990123433')).toEqual({ connectivityStatus: 'CONNECTED_SMS' });
    expect(await conn('+990123444')).toEqual({ connectivityStatus: 'NOT_CONNECTED' });
    expect(await roam('+990123400')).toEqual({ roaming: true, countryCode: 234, countryName: ['GB'] });
    expect(await roam('+990123411')).toEqual({ roaming: true, countryCode: 901, countryName: [] });
    expect(await roam('+990123422')).toEqual({ roaming: true, countryCode: 262, countryName: ['DE'] });
    expect(await roam('+990123433')).toEqual({ roaming: false });
  });

  it('binds tokens to number and scope, and expires them (CAMARA error bodies)', async () => {
    const token = await accessToken('+990123400', 'connectivity');
    expect(await ask('roaming', '+990123400', token)).toEqual({
      status: 403,
      body: { status: 403, code: 'PERMISSION_DENIED', message: expect.any(String) },
    });
    expect((await ask('connectivity', '+990123411', token)).body.code).toBe('PERMISSION_DENIED');
    expect((await ask('connectivity', '+990123400', 'nope')).body.code).toBe('UNAUTHENTICATED');
    expect((await ask('connectivity', '+990123400', token, 'abc')).body.code).toBe('INVALID_ARGUMENT');
    expect((await ask('connectivity', '+990123400', token)).status).toBe(200);
    now += 3_601_000;
    expect((await ask('connectivity', '+990123400', token)).body).toMatchObject({
      status: 401,
      code: 'UNAUTHENTICATED',
    });
  });

  it('refusal faults: 403 PERMISSION_DENIED for the insights named (the auth untouched), 400 INVALID_ARGUMENT', async () => {
    const connectivity = await accessToken('+990123400', 'connectivity');
    const roaming = await accessToken('+990123400', 'roaming');
    try {
      t.sim.setDials({ faults: { permissionDenied: 1 }, refusedInsights: ['reachability'] });
      expect(await ask('connectivity', '+990123400', connectivity)).toEqual({
        status: 403,
        body: { status: 403, code: 'PERMISSION_DENIED', message: expect.any(String) },
      });
      expect((await ask('roaming', '+990123400', roaming)).status).toBe(200);
      expect((await authorize('+990123411', 'connectivity')).status).toBe(200);
      t.sim.setDials({ faults: { permissionDenied: 0, http400: 1 } });
      expect(await ask('roaming', '+990123400', roaming)).toEqual({
        status: 400,
        body: { status: 400, code: 'INVALID_ARGUMENT', message: expect.any(String) },
      });
      // v0.5.0 declares no 422: the dial leaves Device Status alone.
      t.sim.setDials({ faults: { http400: 0, http422: 1 } });
      expect((await ask('roaming', '+990123400', roaming)).status).toBe(200);
      // An answer from the number's state for the two roaming calls the refusals left alone, and no other.
      expect(t.sim.stats().answeredByNumber).toEqual({ '+990123400': 2 });
    } finally {
      t.sim.setDials({ faults: NO_FAULTS, refusedInsights: ['reachability', 'roaming'] });
    }
  });

  it('agrees with Identity Insights on every number where both carry the same facts', async () => {
    const provider = providerFor(t, capturingLogger().logger);
    let compared = 0;
    try {
      for (let i = 0; i < 60; i++) {
        const n = `+4474${String(i * 37).padStart(8, '0')}`;
        const ii = await provider.lookup(asE164(n));
        if (ii.kind !== 'answered' || ii.reachability.status.code !== 'OK') continue;
        const c = await ask('connectivity', n, await accessToken(n, 'connectivity'));
        const r = await ask('roaming', n, await accessToken(n, 'roaming'));
        const expected = !ii.reachability.reachable
          ? 'NOT_CONNECTED'
          : ii.reachability.connectivity.includes('DATA')
            ? 'CONNECTED_DATA'
            : 'CONNECTED_SMS';
        expect(c.body.connectivityStatus, n).toBe(expected);
        expect(r.body.roaming, n).toBe(ii.roaming.roaming);
        if (ii.roaming.roaming) expect(r.body.countryName, n).toEqual(ii.roaming.countries);
        compared++;
      }
      expect(compared).toBeGreaterThan(40);
    } finally {
      await provider.close();
    }
  });
});
