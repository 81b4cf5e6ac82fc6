import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Env } from '../../../src/config/env.js';
import { asE164 } from '../../../src/core/e164.js';
import type { AnsweredLookup, FailedLookup, LookupOutcome } from '../../../src/core/lookup-result.js';
import { createCamaraProvider } from '../../../src/providers/camara/client.js';
import { createHttpTransport, type HttpTransport } from '../../../src/providers/http/transport.js';
import { NO_FAULTS, type CamaraErrorCode } from '../../../src/simulator/index.js';
import { capturingLogger, startTestSimulator, type TestSimulator } from '../../support/simulator.js';

type Mode = 'client-credentials' | 'ciba' | 'api-key';
const MODES: readonly Mode[] = ['client-credentials', 'ciba', 'api-key'];
const ANCHOR = Date.parse('2026-05-10T00:00:00Z');
const DAY = 86_400_000;

let t: TestSimulator;
let now = Date.now();
beforeAll(async () => {
  t = await startTestSimulator({ clock: () => now, anchorMs: ANCHOR });
});
afterAll(() => t.close());
beforeEach(() => {
  now = Date.now();
  t.sim.reset();
  t.sim.setDials({
    faults: NO_FAULTS,
    authPendingShare: 0,
    authIntervalS: 0,
    refuseCombinedScopes: false,
    camaraShape: 'v1.1',
    camaraError: null,
    camaraErrorApi: 'both',
    slowResponseMs: 30_000,
  });
});

/** What the provider sent: each retrieve call's path, headers and parsed body. */
interface Sent {
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
}

/** A camara provider on the test simulator over real HTTP; the transport only records what goes out. */
function provider(mode: Mode, extra: Env = {}, options: { timeoutMs?: number } = {}) {
  const logs = capturingLogger();
  const sent: Sent[] = [];
  const real = createHttpTransport({ timeoutMs: options.timeoutMs ?? 5_000 });
  const transport: HttpTransport = {
    post(url, init) {
      const path = new URL(url).pathname;
      if (path.endsWith('/retrieve')) sent.push({ path, headers: init.headers, body: JSON.parse(init.body) });
      return real.post(url, init);
    },
    servedBySimulator: () => real.servedBySimulator?.() === true,
    close: () => real.close(),
  };
  const camara = createCamaraProvider({
    config: t.camaraConfig(mode, extra),
    transport,
    clock: () => now,
    logger: logs.logger,
    wait: async (ms) => {
      now += ms;
    },
  });
  return { camara, sent, logs };
}

const answered = (o: LookupOutcome): AnsweredLookup => {
  if (o.kind !== 'answered') throw new Error(`expected an answer, got ${JSON.stringify(o)}`);
  return o;
};
const failed = (o: LookupOutcome): FailedLookup => {
  if (o.kind !== 'failed') throw new Error(`expected a failure, got ${JSON.stringify(o)}`);
  return o;
};
const paths = () => t.sim.stats().byPath;
const facts = (a: AnsweredLookup) => [
  a.reachability.status.code,
  a.reachability.reachable,
  a.reachability.connectivity.join(';'),
  a.reachability.latestStatusAt,
  a.roaming.status.code,
  a.roaming.roaming,
  a.roaming.mcc,
  a.roaming.countries.join(';'),
];
const iso = (daysAgo: number) => new Date(ANCHOR - daysAgo * DAY).toISOString();

describe('camara provider: each auth mode over HTTP', () => {
  it.each(MODES)(
    '%s: maps reachability and roaming, lastStatusTime and the MCC into the result',
    async (mode) => {
      const { camara } = provider(mode);
      const row = async (n: string) => facts(answered(await camara.lookup(asE164(n))));
      expect(await row('+990123400')).toEqual(['OK', true, 'DATA;SMS', iso(2), 'OK', true, 234, 'GB']);
      // MCC 901: the operator names no country (countryName []), and none is made up.
      expect(await row('+990123411')).toEqual(['OK', true, 'DATA', iso(5), 'OK', true, 901, '']);
      expect(await row('+990123433')).toEqual(['OK', true, 'SMS', iso(12), 'OK', false, null, '']);
      // Unreachable: lastStatusTime is when the network last confirmed it, the day it dropped off here.
      expect(await row('+990123444')).toEqual(['OK', false, '', iso(75), 'OK', true, 234, 'GB']);
      expect(await row('+990123477')).toEqual([
        'SERVICE_NOT_APPLICABLE',
        null,
        '',
        null,
        'OK',
        false,
        null,
        '',
      ]);
      await camara.close();
    },
  );

  it('client-credentials: one token for the process and both APIs, device in every body: 2 requests a number', async () => {
    const { camara, sent } = provider('client-credentials');
    const numbers = ['+990123400', '+990123422', '+990123433'];
    await Promise.all(numbers.map((n) => camara.lookup(asE164(n))));
    expect(paths()['/oidc/token']).toBe(1);
    for (const n of numbers) expect(t.sim.stats().byNumber[n]).toBe(2);
    expect(sent).toHaveLength(6);
    for (const s of sent) {
      expect(s.body).toEqual({ device: { phoneNumber: expect.stringMatching(/^\+990/) as unknown } });
      expect(s.headers.authorization).toMatch(/^Bearer /);
    }
    expect(camara.access.tokens?.exchanges).toBe(1);
    await camara.close();
  });

  it('client-credentials with private_key_jwt: a signed assertion instead of a secret', async () => {
    const { camara } = provider('client-credentials', {
      CAMARA_CLIENT_ID: t.jwtClient.clientId,
      CAMARA_CLIENT_SECRET: undefined,
      CAMARA_CLIENT_KEY_PATH: t.jwtClient.keyPath,
    });
    expect(facts(answered(await camara.lookup(asE164('+990123400'))))[0]).toBe('OK');
    expect(t.sim.stats().byStatus['401'] ?? 0).toBe(0);
    await camara.close();
  });

  it('api-key: the key header on every call, device in the body, no token endpoint: 2 requests a number', async () => {
    const { camara, sent } = provider('api-key');
    answered(await camara.lookup(asE164('+990123422')));
    expect(t.sim.stats().byNumber['+990123422']).toBe(2);
    expect(Object.keys(paths()).filter((p) => p.startsWith('/oidc'))).toEqual([]);
    for (const s of sent) {
      expect(s.headers['x-api-key']).toBe(t.operator.apiKey);
      expect(s.headers.authorization).toBeUndefined();
      expect(s.body).toEqual({ device: { phoneNumber: '+990123422' } });
    }
    await camara.close();
  });

  it('api-key through a gateway: its own key header and CAMARA_EXTRA_HEADERS (Nokia Network as Code)', async () => {
    const { camara, sent } = provider('api-key', {
      CAMARA_API_KEY_HEADER: 'X-RapidAPI-Key',
      CAMARA_EXTRA_HEADERS: '{"X-RapidAPI-Host":"network-as-code.nokia.rapidapi.com"}',
    });
    expect(facts(answered(await camara.lookup(asE164('+990123400'))))[0]).toBe('OK');
    expect(sent[0]?.headers['x-rapidapi-host']).toBe('network-as-code.nokia.rapidapi.com');
    await camara.close();
    // Without the gateway's host header the key is refused: a 401 that no fresh token can fix.
    const bare = provider('api-key', { CAMARA_API_KEY_HEADER: 'X-RapidAPI-Key' });
    const f = failed(await bare.camara.lookup(asE164('+990123400')));
    expect([f.failure.retry, f.failure.httpStatus]).toEqual(['fatal', 401]);
    expect(f.failure.detail).toMatch(/refuses the API key/);
    await bare.camara.close();
  });

  it('ciba: one flow asks both scopes, its token serves both calls, no device in the body: 4 requests a number', async () => {
    const { camara, sent } = provider('ciba');
    answered(await camara.lookup(asE164('+990123400')));
    answered(await camara.lookup(asE164('+990123422')));
    expect(t.sim.stats().byNumber).toEqual({ '+990123400': 4, '+990123422': 4 });
    expect(paths()['/oidc/bc-authorize']).toBe(2);
    expect(paths()['/oidc/token']).toBe(2);
    for (const s of sent) expect(s.body).toEqual({});
    // The token is kept: the same number again costs the two calls only.
    answered(await camara.lookup(asE164('+990123400')));
    expect(t.sim.stats().byNumber['+990123400']).toBe(6);
    expect(camara.access.tokens?.exchanges).toBe(2);
    await camara.close();
  });

  it.each(['standard', 'hash'])('ciba: scopes in the %s style are accepted', async (style) => {
    const { camara } = provider('ciba', {
      CAMARA_SCOPE_STYLE: style,
      CAMARA_PURPOSE: 'FraudPreventionAndDetection',
    });
    expect(facts(answered(await camara.lookup(asE164('+990123400'))))[0]).toBe('OK');
    await camara.close();
  });

  it('ciba: an invalid_scope for combined scopes makes the process fall back to one flow per scope, for good', async () => {
    t.sim.setDials({ refuseCombinedScopes: true });
    const { camara, logs } = provider('ciba');
    expect(facts(answered(await camara.lookup(asE164('+990123400'))))[0]).toBe('OK');
    // The refused flow, then one flow per scope: authorize + token each, and the two calls.
    expect(paths()['/oidc/bc-authorize']).toBe(3);
    expect(t.sim.stats().byStatus['400']).toBe(1);
    answered(await camara.lookup(asE164('+990123422')));
    expect(t.sim.stats().byNumber['+990123422']).toBe(6);
    expect(paths()['/oidc/bc-authorize']).toBe(5);
    expect(logs.lines().match(/one flow per scope from now on/g)).toHaveLength(1);
    await camara.close();
  });

  it('ciba with CAMARA_CIBA_COMBINED_SCOPES=false: one flow per scope from the start (6 requests a number)', async () => {
    const { camara } = provider('ciba', { CAMARA_CIBA_COMBINED_SCOPES: 'false' });
    answered(await camara.lookup(asE164('+990123400')));
    expect(t.sim.stats().byNumber['+990123400']).toBe(6);
    expect(t.sim.stats().byStatus['400'] ?? 0).toBe(0);
    await camara.close();
  });

  it("ciba: pending and slow_down are polled out; access_denied and unknown_user_id are the row's answer", async () => {
    t.sim.setDials({ authPendingShare: 1, authIntervalS: 2 });
    const { camara } = provider('ciba');
    expect(facts(answered(await camara.lookup(asE164('+990123411'))))[0]).toBe('OK');
    expect(t.sim.stats().byStatus['400']).toBe(1); // one authorization_pending
    t.sim.setDials({ authPendingShare: 0 });
    const unknown = answered(await camara.lookup(asE164('+990123499')));
    expect([unknown.reachability.status.code, unknown.roaming.status.code]).toEqual([
      'UNKNOWN_USER_ID',
      'UNKNOWN_USER_ID',
    ]);
    t.sim.setDevice('+447700900001', { kind: 'unauthorized' });
    const denied = answered(await camara.lookup(asE164('+447700900001')));
    expect(denied.reachability.status.code).toBe('ACCESS_DENIED');
    await camara.close();
  });

  it.each(MODES)(
    "%s: the x-correlator of both calls is the row's request_id, echoed by the operator",
    async (mode) => {
      const { camara, sent } = provider(mode);
      const a = answered(await camara.lookup(asE164('+990123433')));
      expect(a.requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(sent.map((s) => s.headers['x-correlator'])).toEqual([a.requestId, a.requestId]);
      expect(t.sim.stats().requestIds['+990123433']).toBe(a.requestId);
      expect(camara.servedBySimulator?.()).toBe(true);
      await camara.close();
    },
  );
});

describe('camara provider: answer shapes', () => {
  it('reads v1.1, v1.0 and v0.6 answers into the same facts', async () => {
    const { camara } = provider('client-credentials');
    const look = async (n: string) => facts(answered(await camara.lookup(asE164(n))));
    const v11 = await look('+990123400');
    t.sim.setDials({ camaraShape: 'v1.0' });
    expect(await look('+990123400')).toEqual(v11);
    // v1.0 may leave lastStatusTime out; v1.1 must give one.
    const partialV10 = await look('+990123466');
    expect(partialV10.slice(0, 4)).toEqual(['OK', true, 'DATA;SMS', null]);
    t.sim.setDials({ camaraShape: 'v0.6' });
    // v0.6's reachabilityStatus: CONNECTED_DATA says data works, whatever SMS does.
    expect(await look('+990123400')).toEqual(['OK', true, 'DATA', iso(2), 'OK', true, 234, 'GB']);
    expect((await look('+990123433')).slice(0, 3)).toEqual(['OK', true, 'SMS']);
    expect((await look('+990123455')).slice(0, 3)).toEqual(['OK', false, '']);
    // v0.6 error codes are read by meaning and kept verbatim.
    expect((await look('+990123499'))[0]).toBe('DEVICE_NOT_FOUND');
    t.sim.setDials({ camaraShape: 'v1.1' });
    expect((await look('+990123466'))[3]).toBe(new Date(ANCHOR).toISOString());
    await camara.close();
  });
});

describe('camara provider: each CAMARA error', () => {
  const force = (code: CamaraErrorCode, api: 'both' | 'reachability' | 'roaming' = 'both') =>
    t.sim.setDials({ camaraError: code, camaraErrorApi: api });

  it('404 IDENTIFIER_NOT_FOUND and 422 SERVICE_NOT_APPLICABLE are final answers for the row', async () => {
    const { camara } = provider('client-credentials');
    force('IDENTIFIER_NOT_FOUND');
    const a = answered(await camara.lookup(asE164('+990123400')));
    expect([a.reachability.status.code, a.roaming.status.code]).toEqual([
      'IDENTIFIER_NOT_FOUND',
      'IDENTIFIER_NOT_FOUND',
    ]);
    force('SERVICE_NOT_APPLICABLE', 'roaming');
    const b = answered(await camara.lookup(asE164('+990123400')));
    expect([b.reachability.status.code, b.reachability.reachable, b.roaming.status.code]).toEqual([
      'OK',
      true,
      'SERVICE_NOT_APPLICABLE',
    ]);
    await camara.close();
  });

  it.each([
    ['UNNECESSARY_IDENTIFIER', 422, /three-legged/],
    ['MISSING_IDENTIFIER', 422, /two-legged/],
    ['UNSUPPORTED_IDENTIFIER', 422, /phone number as the device identifier/],
    ['PERMISSION_DENIED', 403, /scope or the contract/],
  ] as const)('%s is a setup failure that pauses the batch with its reason', async (code, status, hint) => {
    const { camara } = provider('client-credentials');
    force(code, 'roaming');
    const f = failed(await camara.lookup(asE164('+990123400')));
    expect(f.failure).toMatchObject({ httpStatus: status, upstreamCode: code, retry: 'retryable' });
    expect(f.failure.pause?.kind).toBe('setup');
    expect(f.failure.pause?.reason).toMatch(hint);
    expect(f.failure.pause?.reason).toContain(`HTTP ${status} ${code}`);
    await camara.close();
  });

  it('429 QUOTA_EXCEEDED pauses (quota), never a rate limit to wait out; TOO_MANY_REQUESTS is one', async () => {
    const { camara } = provider('api-key');
    force('QUOTA_EXCEEDED');
    const quota = failed(await camara.lookup(asE164('+990123400')));
    expect(quota.failure.retry).not.toBe('rate-limited');
    expect(quota.failure.pause).toEqual({
      kind: 'quota',
      reason: expect.stringMatching(/^the operator's quota is used up \(HTTP 429 QUOTA_EXCEEDED/) as unknown,
    });
    force('TOO_MANY_REQUESTS');
    const limited = failed(await camara.lookup(asE164('+990123400')));
    expect(limited.failure).toMatchObject({
      retry: 'rate-limited',
      retryAfterMs: 1000,
      upstreamCode: 'TOO_MANY_REQUESTS',
    });
    expect(limited.failure.pause).toBeUndefined();
    await camara.close();
  });

  it('401: a revoked token is fetched again once and the lookup answered', async () => {
    const { camara } = provider('client-credentials');
    answered(await camara.lookup(asE164('+990123400')));
    t.sim.revokeTokens();
    answered(await camara.lookup(asE164('+990123400')));
    expect(paths()['/oidc/token']).toBe(2);
    await camara.close();
  });

  it.each(['client-credentials', 'ciba'] as const)(
    '%s: a 401 to a fresh token too stops the batch (fatal)',
    async (mode) => {
      const { camara } = provider(mode);
      force('UNAUTHENTICATED');
      const f = failed(await camara.lookup(asE164('+990123400')));
      expect([f.failure.retry, f.failure.code, f.failure.httpStatus]).toEqual(['fatal', 'ERROR_AUTH', 401]);
      // One fresh token, not one per call: the two calls share it.
      expect(paths()['/oidc/token']).toBe(2);
      await camara.close();
    },
  );

  it('ciba: invalid_scope for a single scope (nothing left to fall back to) is a setup failure', async () => {
    const { camara } = provider('ciba', { CAMARA_CIBA_COMBINED_SCOPES: 'false' });
    t.sim.script('+990123400', [
      { status: 400, body: { error: 'invalid_scope', error_description: 'Purpose not allowed.' } },
    ]);
    const f = failed(await camara.lookup(asE164('+990123400')));
    expect(f.failure.pause?.kind).toBe('setup');
    expect(f.failure.pause?.reason).toMatch(
      /back-channel endpoint refuses the client or its scopes .*invalid_scope: Purpose not allowed/,
    );
    await camara.close();
  });

  it('a wrong client secret at the token endpoint is fatal', async () => {
    const { camara } = provider('client-credentials', { CAMARA_CLIENT_SECRET: 'not-the-secret' });
    const f = failed(await camara.lookup(asE164('+990123400')));
    expect([f.failure.retry, f.failure.httpStatus]).toEqual(['fatal', 401]);
    expect(f.failure.detail).not.toContain('not-the-secret');
    await camara.close();
  });

  it('5xx and timeouts are retryable', async () => {
    const { camara } = provider('client-credentials', {}, { timeoutMs: 300 });
    force('UNAVAILABLE');
    expect(failed(await camara.lookup(asE164('+990123400'))).failure).toMatchObject({
      retry: 'retryable',
      httpStatus: 503,
      upstreamCode: 'UNAVAILABLE',
    });
    force('INTERNAL');
    expect(failed(await camara.lookup(asE164('+990123400'))).failure).toMatchObject({
      retry: 'retryable',
      httpStatus: 500,
    });
    t.sim.setDials({ camaraError: null, slowResponseMs: 2_000, faults: { ...NO_FAULTS, timeout: 1 } });
    expect(failed(await camara.lookup(asE164('+990123400'))).failure).toMatchObject({
      retry: 'retryable',
      code: 'ERROR_TIMEOUT',
    });
    await camara.close();
  });

  it('a 404 without a CAMARA error (a wrong path) pauses as a setup failure, naming the variable', async () => {
    const { camara } = provider('client-credentials', {
      CAMARA_ROAMING_PATH: '/device-roaming-status/v9/retrieve',
    });
    const f = failed(await camara.lookup(asE164('+990123400')));
    expect(f.failure.pause?.reason).toMatch(/roaming API is not found there .*CAMARA_ROAMING_PATH/);
    await camara.close();
  });

  it('never logs the token, the secret or the full number', async () => {
    const { camara, logs } = provider('client-credentials');
    force('QUOTA_EXCEEDED');
    await camara.lookup(asE164('+990123400'));
    const text = logs.lines();
    expect(text).toContain('lookup failed');
    expect(text).not.toContain('+990123400');
    expect(text).not.toContain(t.operator.clientSecret);
    for (const token of t.sim.accessTokens()) expect(text).not.toContain(token);
    await camara.close();
  });
});
