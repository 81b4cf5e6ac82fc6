import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { asE164, type E164 } from '../../../src/core/e164.js';
import type { AnsweredLookup, FailedLookup, LookupOutcome } from '../../../src/core/lookup-result.js';
import type { ReachabilityProvider } from '../../../src/providers/provider.js';
import { lookupWithRetries } from '../../../src/providers/retry.js';
import { NO_FAULTS } from '../../../src/simulator/index.js';
import {
  capturingLogger,
  providerFor,
  startTestSimulator,
  type TestSimulator,
} from '../../support/simulator.js';

let t: TestSimulator;
let provider: ReachabilityProvider;
let logs: ReturnType<typeof capturingLogger>;

beforeAll(async () => {
  t = await startTestSimulator();
});
afterAll(() => t.close());
beforeEach(() => {
  t.sim.reset();
  t.sim.setDials({ faults: NO_FAULTS, latencyMs: 0, rateCapPerSecond: 0, retryAfter: true });
  logs = capturingLogger();
  provider = providerFor(t, logs.logger);
});
afterEach(() => provider.close());

const n = (value: string): E164 => asE164(value);
const POLICY = { attempts: 4, baseDelayMs: 5, maxDelayMs: 20, rateLimitWaits: 3, maxRetryAfterMs: 5_000 };
function answered(outcome: LookupOutcome): AnsweredLookup {
  if (outcome.kind !== 'answered') throw new Error(`expected an answer, got ${JSON.stringify(outcome)}`);
  return outcome;
}
function failed(outcome: LookupOutcome): FailedLookup {
  if (outcome.kind !== 'failed') throw new Error(`expected a failure, got ${JSON.stringify(outcome)}`);
  return outcome;
}

describe('answers over HTTP', () => {
  it('reads the Virtual Operator numbers as documented', async () => {
    const row = async (number: string) => {
      const r = answered(await provider.lookup(n(number)));
      return [
        r.reachability.status.code,
        r.reachability.reachable,
        r.reachability.connectivity.join(';'),
        r.roaming.status.code,
        r.roaming.roaming,
        r.roaming.countries.join(';'),
      ];
    };
    expect(await row('+990123400')).toEqual(['OK', true, 'DATA;SMS', 'OK', true, 'GB']);
    expect(await row('+990123411')).toEqual(['OK', true, 'DATA', 'OK', true, '']);
    expect(await row('+990123422')).toEqual(['OK', true, 'DATA;SMS', 'OK', true, 'DE']);
    expect(await row('+990123433')).toEqual(['OK', true, 'SMS', 'OK', false, '']);
    expect(await row('+990123444')).toEqual(['OK', false, '', 'OK', true, 'GB']);
    expect(await row('+990123455')).toEqual(['OK', false, '', 'OK', false, '']);
    expect(await row('+990123466')).toEqual(['PARTIAL_SUCCESS', true, 'DATA;SMS', 'OK', true, 'GB']);
    expect(await row('+990123477')).toEqual(['NO_COVERAGE', null, '', 'OK', false, '']);
    expect(await row('+990123488')).toEqual(['UNAUTHORIZED', null, '', 'OK', true, 'GB']);
    expect(await row('+990123499')).toEqual(['NOT_FOUND', null, '', 'NOT_FOUND', null, '']);
    expect(await row('+990123401')).toEqual([
      'INVALID_NUMBER_FORMAT',
      null,
      '',
      'INVALID_NUMBER_FORMAT',
      null,
      '',
    ]);

    const since = answered(await provider.lookup(n('+990123444'))).reachability.latestStatusAt;
    expect(Date.now() - Date.parse(since ?? '')).toBeGreaterThan(75 * 86_400_000);
  });

  it('sees every per-insight status code the API documents', async () => {
    const seen = new Set<string>();
    const collect = (o: LookupOutcome) => {
      const a = answered(o);
      seen.add(a.reachability.status.code).add(a.roaming.status.code);
    };
    for (const number of [
      '+990123400',
      '+990123466',
      '+990123477',
      '+990123488',
      '+990123499',
      '+990123401',
    ]) {
      collect(await provider.lookup(n(number)));
    }
    collect(await provider.lookup(n('+442071838750'))); // a London landline
    const marketing = providerFor(t, logs.logger, { purpose: 'Marketing' });
    collect(await marketing.lookup(n('+990123400')));
    await marketing.close();
    t.sim.setDials({ faults: { ...NO_FAULTS, supplierError: 1 } });
    const supplier = answered(await provider.lookup(n('+990123400')));
    collect(supplier);
    expect(supplier.transient).toBe(true);
    t.sim.setDials({ faults: { ...NO_FAULTS, internalError: 1 } });
    collect(await provider.lookup(n('+990123400')));
    expect([...seen].sort()).toEqual(
      [
        'OK',
        'PARTIAL_SUCCESS',
        'INVALID_NUMBER_FORMAT',
        'UNSUPPORTED_NETWORK_TYPE',
        'NO_COVERAGE',
        'NOT_FOUND',
        'UNAUTHORIZED',
        'INVALID_PURPOSE',
        'SUPPLIER_ERROR',
        'INTERNAL_ERROR',
      ].sort(),
    );
  });

  it('keeps unknown status codes and connectivity values from the carrier', async () => {
    t.sim.script('+990123400', [
      {
        status: 200,
        body: {
          request_id: 'r1',
          insights: {
            reachability: {
              is_reachable: true,
              connectivity: ['DATA', 'NB_IOT'],
              status: { code: 'SOMETHING_NEW' },
            },
            roaming: { is_roaming: false, status: { code: 'OK' } },
          },
        },
      },
    ]);
    const r = answered(await provider.lookup(n('+990123400')));
    expect(r.reachability.status.code).toBe('SOMETHING_NEW');
    expect(r.reachability.connectivity).toEqual(['DATA', 'NB_IOT']);
    expect(r.transient).toBe(false);
  });

  it('signs one JWT for many calls and keeps the connection alive', async () => {
    for (let i = 0; i < 30; i++) answered(await provider.lookup(n('+990123400')));
    const stats = t.sim.stats();
    expect(stats.byNumber['+990123400']).toBe(30);
    expect(stats.distinctJwtIds).toBe(1);
    // undici's pool may open a second socket while the first is still being released; never one per call.
    expect(stats.connections).toBeLessThanOrEqual(2);
  });
});

describe('failures, classified once', () => {
  it('401 (a key the application does not know) is fatal', async () => {
    const { createThrowawayApplication } = await import('../../../src/simulator/index.js');
    const { createPrivateKey } = await import('node:crypto');
    const stranger = providerFor(t, logs.logger, {
      privateKey: createPrivateKey(createThrowawayApplication().privateKeyPem),
    });
    const f = failed(await stranger.lookup(n('+990123400'))).failure;
    await stranger.close();
    expect(f).toMatchObject({ code: 'ERROR_AUTH', retry: 'fatal', httpStatus: 401 });
    expect(f.detail).toContain('signature does not match');
  });

  it('422 is permanent', async () => {
    t.sim.script('+990123400', [
      {
        status: 422,
        body: { title: 'Bad Request', invalid_parameters: [{ name: 'phone_number', reason: 'bad' }] },
      },
    ]);
    expect(failed(await provider.lookup(n('+990123400'))).failure).toMatchObject({
      code: 'ERROR_REJECTED',
      retry: 'permanent',
      httpStatus: 422,
    });
  });

  it('429 is rate-limited with Retry-After in ms, or without it when the carrier sends none', async () => {
    t.sim.setDials({ faults: { ...NO_FAULTS, http429: 1 } });
    expect(failed(await provider.lookup(n('+990123400'))).failure).toMatchObject({
      code: 'ERROR_RATE_LIMITED',
      retry: 'rate-limited',
      httpStatus: 429,
      retryAfterMs: 1000,
    });
    t.sim.setDials({ retryAfter: false });
    const bare = failed(await provider.lookup(n('+990123400'))).failure;
    expect(bare).toMatchObject({ code: 'ERROR_RATE_LIMITED', retry: 'rate-limited' });
    expect(bare).not.toHaveProperty('retryAfterMs');
  });

  it('a 429 from the rate cap carries the wait until a slot frees', async () => {
    t.sim.setDials({ rateCapPerSecond: 1 });
    const first = await provider.lookup(n('+990123400'));
    const second = await provider.lookup(n('+990123400'));
    // The two calls may straddle a window edge on a slow machine; at least one of them must hold.
    const limited = [first, second].filter((o) => o.kind === 'failed');
    expect(limited.length).toBeGreaterThanOrEqual(1);
    expect(failed(limited[0] as LookupOutcome).failure).toMatchObject({
      code: 'ERROR_RATE_LIMITED',
      retryAfterMs: 1000,
    });
  });

  it.each([
    ['http500', 'ERROR_UPSTREAM', 500],
    ['http503', 'ERROR_UPSTREAM', 503],
    ['malformed', 'ERROR_BAD_RESPONSE', 200],
  ] as const)('%s is retryable (%s)', async (fault, code, httpStatus) => {
    t.sim.setDials({ faults: { ...NO_FAULTS, [fault]: 1 } });
    expect(failed(await provider.lookup(n('+990123400'))).failure).toMatchObject({
      code,
      retry: 'retryable',
      httpStatus,
    });
  });

  it('a dropped connection is retryable (ERROR_NETWORK)', async () => {
    t.sim.setDials({ faults: { ...NO_FAULTS, drop: 1 } });
    expect(failed(await provider.lookup(n('+990123400'))).failure).toMatchObject({
      code: 'ERROR_NETWORK',
      retry: 'retryable',
    });
    expect(t.sim.stats().byStatus.dropped).toBe(1);
  });

  it('an answer slower than the timeout is retryable (ERROR_TIMEOUT)', async () => {
    t.sim.setDials({ faults: { ...NO_FAULTS, timeout: 1 }, slowResponseMs: 5_000 });
    const quick = providerFor(t, logs.logger, { httpTimeoutMs: 200 });
    const started = Date.now();
    const f = failed(await quick.lookup(n('+990123400'))).failure;
    await quick.close();
    expect(f).toEqual({
      code: 'ERROR_TIMEOUT',
      retry: 'retryable',
      detail: 'no complete answer within 200 ms',
    });
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it('a refused connection is retryable (ERROR_NETWORK)', async () => {
    const nowhere = providerFor(t, logs.logger, { apiBaseUrl: 'http://127.0.0.1:9' });
    const f = failed(await nowhere.lookup(n('+990123400'))).failure;
    await nowhere.close();
    expect(f).toMatchObject({ code: 'ERROR_NETWORK', retry: 'retryable' });
    expect(f.detail).toContain('ECONNREFUSED');
  });

  it('retries what is worth it: transient failures until they pass, permanent ones never', async () => {
    t.sim.script('+990123400', [{ status: 503 }, { drop: true }, { status: 500 }]);
    answered(await lookupWithRetries(provider, n('+990123400'), POLICY));
    expect(t.sim.stats().byNumber['+990123400']).toBe(4);

    t.sim.script('+990123411', [{ status: 422 }]);
    failed(await lookupWithRetries(provider, n('+990123411'), POLICY));
    expect(t.sim.stats().byNumber['+990123411']).toBe(1);

    t.sim.setDials({ faults: { ...NO_FAULTS, http500: 1 } });
    expect(failed(await lookupWithRetries(provider, n('+990123422'), POLICY)).failure.code).toBe(
      'ERROR_UPSTREAM',
    );
    expect(t.sim.stats().byNumber['+990123422']).toBe(4);
  });

  it('waits what Retry-After asks, and a 429 does not use up an attempt', async () => {
    const limited = { status: 429, headers: { 'retry-after': '1' } };
    t.sim.script('+990123400', [limited, { status: 503 }, { status: 503 }, { status: 503 }]);
    const started = Date.now();
    answered(await lookupWithRetries(provider, n('+990123400'), POLICY));
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(t.sim.stats().byNumber['+990123400']).toBe(5); // 429 + 3 × 503 + the answer: 4 attempts
  });

  it('cuts an outsized Retry-After to the policy maximum and gives up after its 429 budget', async () => {
    const forever = { status: 429, headers: { 'retry-after': '86400' } };
    t.sim.script('+990123400', [forever, forever, forever, forever]);
    const started = Date.now();
    const outcome = failed(
      await lookupWithRetries(provider, n('+990123400'), { ...POLICY, attempts: 1, maxRetryAfterMs: 20 }),
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(outcome.failure.code).toBe('ERROR_RATE_LIMITED');
    expect(t.sim.stats().byNumber['+990123400']).toBe(4); // 3 waits (the budget), then the 4th 429 stands
  });
});

describe('secrets', () => {
  it('never logs the JWT or the private key, even at trace level, and masks numbers', async () => {
    t.sim.setDials({ faults: { ...NO_FAULTS, http500: 0.5 } });
    for (let i = 0; i < 10; i++) await provider.lookup(n('+990123400'));
    const text = logs.lines();
    expect(text).toContain('lookup');
    expect(text).not.toMatch(/eyJ[\w-]{10,}/); // any JWT
    expect(text).not.toContain(t.app.privateKeyPem.split('\n')[1]);
    expect(text).not.toContain('+990123400');
    expect(text).toContain('*400');
  });
});
