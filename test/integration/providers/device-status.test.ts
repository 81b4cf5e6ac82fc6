import { createPrivateKey } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { asE164 } from '../../../src/core/e164.js';
import type { AnsweredLookup, LookupOutcome } from '../../../src/core/lookup-result.js';
import { createApplicationJwtSource } from '../../../src/providers/auth/application-jwt.js';
import { createDeviceStatusProvider } from '../../../src/providers/device-status/client.js';
import { createHttpTransport } from '../../../src/providers/http/transport.js';
import { createThrowawayApplication, deviceStateFor, NO_FAULTS } from '../../../src/simulator/index.js';
import { capturingLogger, startTestSimulator, type TestSimulator } from '../../support/simulator.js';

const ANCHOR = Date.parse('2026-05-10T00:00:00Z');
let t: TestSimulator;
let now = Date.now();
beforeAll(async () => {
  t = await startTestSimulator({ clock: () => now, anchorMs: ANCHOR });
});
afterAll(() => t.close());
beforeEach(() => {
  now = Date.now();
  t.sim.reset();
  t.sim.setDials({ faults: NO_FAULTS, authPendingShare: 0, authIntervalS: 0, authRequestTtlS: 120 });
});

/** A Device Status provider on the test simulator; `wait` moves the shared fake clock instead of sleeping. */
function provider(
  options: { wait?: (ms: number) => Promise<void>; privateKeyPem?: string; combinedScopes?: boolean } = {},
) {
  const logs = capturingLogger();
  return {
    logs,
    ds: createDeviceStatusProvider({
      apiBaseUrl: t.sim.url,
      path: '/camara/device-status/v050',
      jwt: createApplicationJwtSource({
        applicationId: t.app.applicationId,
        privateKey: createPrivateKey(options.privateKeyPem ?? t.app.privateKeyPem),
        clock: () => now,
      }),
      transport: createHttpTransport({ timeoutMs: 5_000 }),
      clock: () => now,
      logger: logs.logger,
      combinedScopes: options.combinedScopes === true,
      wait:
        options.wait ??
        (async (ms) => {
          now += ms;
        }),
    }),
  };
}
const answered = (o: LookupOutcome): AnsweredLookup => {
  if (o.kind !== 'answered') throw new Error(`expected an answer, got ${JSON.stringify(o)}`);
  return o;
};
const paths = () => t.sim.stats().byPath;

describe('device-status provider over HTTP', () => {
  it('maps connectivity and roaming, the MCC and its countries, and CAMARA errors into the result', async () => {
    const { ds } = provider();
    const row = async (n: string) => {
      const a = answered(await ds.lookup(asE164(n)));
      return [
        a.reachability.status.code,
        a.reachability.reachable,
        a.reachability.connectivity.join(';'),
        a.roaming.status.code,
        a.roaming.roaming,
        a.roaming.mcc,
        a.roaming.countries.join(';'),
        a.reachability.latestStatusAt,
      ];
    };
    expect(await row('+990123400')).toEqual(['OK', true, 'DATA', 'OK', true, 234, 'GB', null]);
    expect(await row('+990123411')).toEqual(['OK', true, 'DATA', 'OK', true, 901, '', null]);
    expect(await row('+990123422')).toEqual(['OK', true, 'DATA', 'OK', true, 262, 'DE', null]);
    expect(await row('+990123433')).toEqual(['OK', true, 'SMS', 'OK', false, null, '', null]);
    expect(await row('+990123444')).toEqual(['OK', false, '', 'OK', true, 234, 'GB', null]);
    expect(await row('+990123477')).toEqual(['NOT_FOUND', null, '', 'OK', false, null, '', null]);
    expect(await row('+990123488')).toEqual(['PERMISSION_DENIED', null, '', 'OK', true, 234, 'GB', null]);
    expect(await row('+990123499')).toEqual(['NOT_FOUND', null, '', 'NOT_FOUND', null, null, '', null]);
    await ds.close();
  });

  it('reuses tokens per number and scope: 6 requests for a new number, 2 for the next lookup', async () => {
    const { ds } = provider();
    answered(await ds.lookup(asE164('+990123400')));
    expect(t.sim.stats().byNumber['+990123400']).toBe(6); // 2 × (bc-authorize + token + API call)
    answered(await ds.lookup(asE164('+990123400')));
    expect(t.sim.stats().byNumber['+990123400']).toBe(8);
    expect(ds.tokens.exchanges).toBe(2);
    await ds.close();
  });

  it('with combined scopes (off by default): one flow for both scopes, 4 requests; invalid_scope falls back', async () => {
    const { ds } = provider({ combinedScopes: true });
    answered(await ds.lookup(asE164('+990123400')));
    expect(t.sim.stats().byNumber['+990123400']).toBe(4);
    expect(ds.tokens.exchanges).toBe(1);
    await ds.close();
    t.sim.reset();
    t.sim.setDials({ refuseCombinedScopes: true });
    const { ds: refused, logs } = provider({ combinedScopes: true });
    const a = answered(await refused.lookup(asE164('+990123422')));
    expect([a.reachability.status.code, a.roaming.status.code]).toEqual(['OK', 'OK']);
    answered(await refused.lookup(asE164('+990123433')));
    expect(t.sim.stats().byNumber['+990123433']).toBe(6); // one flow per scope from then on
    expect(logs.lines()).toContain('one flow per scope from now on');
    t.sim.setDials({ refuseCombinedScopes: false });
    await refused.close();
  });

  it('single-flight: concurrent lookups of one number share one exchange per scope', async () => {
    const { ds } = provider();
    await Promise.all(Array.from({ length: 10 }, () => ds.lookup(asE164('+990123422'))));
    expect(paths()['/oauth2/bc-authorize']).toBe(2);
    expect(paths()['/oauth2/token']).toBe(2);
    expect(ds.tokens.exchanges).toBe(2);
    await ds.close();
  });

  it('polls again after authorization_pending, waiting the interval', async () => {
    t.sim.setDials({ authPendingShare: 1, authIntervalS: 3 });
    const waits: number[] = [];
    const { ds } = provider({ wait: async (ms) => void (waits.push(ms), (now += ms)) });
    answered(await ds.lookup(asE164('+990123400')));
    expect(waits).toEqual([3000, 3000]);
    expect(paths()['/oauth2/token']).toBe(4);
    await ds.close();
  });

  it('adds 5 s to the interval after slow_down', async () => {
    t.sim.setDials({ authPendingShare: 1, authIntervalS: 2 });
    const waits: number[] = [];
    // Waits under 7 s are cut short (polls too soon): the simulator answers slow_down, and the client must
    // then wait the grown interval (2 + 5 s), which is let through.
    const { ds } = provider({ wait: async (ms) => void (waits.push(ms), (now += ms >= 7000 ? ms : 500)) });
    answered(await ds.lookup(asE164('+990123411')));
    expect(waits).toContain(2000);
    expect(waits).toContain(7000);
    await ds.close();
  });

  it('starts again after expired_token', async () => {
    t.sim.setDials({ authPendingShare: 1, authIntervalS: 5, authRequestTtlS: 2 });
    const { ds } = provider({
      wait: async (ms) => {
        now += ms; // past the 2 s lifetime: the next poll meets expired_token
        t.sim.setDials({ authPendingShare: 0 });
      },
    });
    answered(await ds.lookup(asE164('+990123433')));
    expect(paths()['/oauth2/bc-authorize']).toBeGreaterThanOrEqual(3); // at least one scope started again
    await ds.close();
  });

  it('access_denied and invalid_grant are final answers for the row', async () => {
    const denied = Array.from({ length: 3000 }, (_, i) => `+4474${String(i).padStart(8, '0')}`).find(
      (n) => deviceStateFor(n, 'reachscan', ANCHOR).kind === 'unauthorized',
    ) as string;
    const { ds } = provider();
    const a = answered(await ds.lookup(asE164(denied)));
    expect([a.reachability.status.code, a.roaming.status.code]).toEqual(['ACCESS_DENIED', 'ACCESS_DENIED']);
    t.sim.setDials({ authPendingShare: 1, authIntervalS: 1 });
    const { ds: forgetful } = provider({
      wait: async (ms) => {
        now += ms;
        t.sim.reset(); // the simulator forgets the auth request: the next poll is invalid_grant
      },
    });
    const b = answered(await forgetful.lookup(asE164('+990123400')));
    expect(b.reachability.status.code).toBe('INVALID_GRANT');
    await ds.close();
    await forgetful.close();
  });

  it('a 401 from bc-authorize (unknown key) is fatal; 5xx is retryable', async () => {
    const { ds } = provider({ privateKeyPem: createThrowawayApplication().privateKeyPem });
    const failed = await ds.lookup(asE164('+990123400'));
    expect(failed).toMatchObject({
      kind: 'failed',
      failure: { code: 'ERROR_AUTH', retry: 'fatal', httpStatus: 401 },
    });
    await ds.close();
    const { ds: ok } = provider();
    answered(await ok.lookup(asE164('+990123400'))); // tokens cached: the next lookup calls only the API
    t.sim.setDials({ faults: { ...NO_FAULTS, http503: 1 } });
    const outcome = await ok.lookup(asE164('+990123400'));
    expect(outcome).toMatchObject({
      kind: 'failed',
      failure: { code: 'ERROR_UPSTREAM', retry: 'retryable', httpStatus: 503, upstreamCode: 'UNAVAILABLE' },
    });
    // Once retries run out, the CAMARA code is what the status columns show.
    const { answerFromOutcome } = await import('../../../src/core/answer.js');
    expect(answerFromOutcome(outcome, '').reachability_status).toBe('UNAVAILABLE');
    await ok.close();
  });

  it('paces every upstream request through beforeRequest, and logs no token', async () => {
    const { ds, logs } = provider();
    t.sim.reset();
    let calls = 0;
    answered(await ds.lookup(asE164('+990123455'), { beforeRequest: async () => void calls++ }));
    expect(calls).toBe(6);
    const text = logs.lines();
    expect(text).toContain('lookup answered');
    expect(text).not.toMatch(/eyJ[\w-]{10,}/); // no application JWT
    const issued = t.sim.accessTokens();
    expect(issued.length).toBe(2);
    for (const token of issued) expect(text).not.toContain(token); // no access token
    await ds.close();
  });

  describe('API answers after the tokens are cached', () => {
    const camara = (status: number, code: string, headers: Record<string, string> = {}) => ({
      status,
      headers,
      body: { status, code, message: code.toLowerCase() },
    });
    async function primed() {
      const p = provider();
      answered(await p.ds.lookup(asE164('+990123400')));
      return p;
    }

    it.each([
      [409, 'CONFLICT', 'ERROR_UPSTREAM', 'retryable'],
      [500, 'INTERNAL', 'ERROR_UPSTREAM', 'retryable'],
      [503, 'UNAVAILABLE', 'ERROR_UPSTREAM', 'retryable'],
      [429, 'TOO_MANY_REQUESTS', 'ERROR_RATE_LIMITED', 'rate-limited'],
    ] as const)('%i %s is a %s failure (%s), the CAMARA code kept', async (status, code, local, retry) => {
      const { ds } = await primed();
      t.sim.script('+990123400', [camara(status, code), camara(status, code)]);
      expect(await ds.lookup(asE164('+990123400'))).toMatchObject({
        kind: 'failed',
        failure: { code: local, retry, httpStatus: status, upstreamCode: code },
      });
      await ds.close();
    });

    it('400 INVALID_ARGUMENT is an answer for the row', async () => {
      const { ds } = await primed();
      t.sim.script('+990123400', [camara(400, 'INVALID_ARGUMENT'), camara(400, 'INVALID_ARGUMENT')]);
      const a = answered(await ds.lookup(asE164('+990123400')));
      expect([a.reachability.status.code, a.roaming.status.code]).toEqual([
        'INVALID_ARGUMENT',
        'INVALID_ARGUMENT',
      ]);
      await ds.close();
    });

    it('the most severe failure of the two calls decides (a 429 is not hidden by a 503)', async () => {
      const { ds } = await primed();
      t.sim.script('+990123400', [
        camara(503, 'UNAVAILABLE'),
        camara(429, 'TOO_MANY_REQUESTS', { 'retry-after': '2' }),
      ]);
      expect(await ds.lookup(asE164('+990123400'))).toMatchObject({
        kind: 'failed',
        failure: { retry: 'rate-limited', retryAfterMs: 2000 },
      });
      await ds.close();
    });

    it('a token the API refuses is fetched again once', async () => {
      const { ds } = await primed();
      const before = paths()['/oauth2/bc-authorize'] ?? 0;
      t.sim.script('+990123400', [camara(401, 'UNAUTHENTICATED'), camara(401, 'UNAUTHENTICATED')]);
      answered(await ds.lookup(asE164('+990123400')));
      expect((paths()['/oauth2/bc-authorize'] ?? 0) - before).toBe(2);
      await ds.close();
    });
  });

  it('a 401 from the token endpoint is fatal too', async () => {
    const good = createApplicationJwtSource({
      applicationId: t.app.applicationId,
      privateKey: createPrivateKey(t.app.privateKeyPem),
      clock: () => now,
    });
    let calls = 0;
    const { ds: base } = provider();
    await base.close();
    const ds = createDeviceStatusProvider({
      apiBaseUrl: t.sim.url,
      path: '/camara/device-status/v050',
      // The application JWT is good for bc-authorize and refused at the token endpoint.
      jwt: { get: async () => (calls++ < 2 ? good.get() : 'not.a.jwt'), signedCount: 0 },
      transport: createHttpTransport({ timeoutMs: 5_000 }),
      clock: () => now,
      logger: capturingLogger().logger,
    });
    expect(await ds.lookup(asE164('+990123400'))).toMatchObject({
      kind: 'failed',
      failure: { code: 'ERROR_AUTH', retry: 'fatal', httpStatus: 401 },
    });
    expect(paths()['/oauth2/token']).toBeGreaterThanOrEqual(1);
    await ds.close();
  });
});
