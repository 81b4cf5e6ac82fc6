import { describe, expect, it } from 'vitest';
import { classifyCall, setupReason, type SetupCause } from '../../../src/batch/call-outcome.js';
import { BreakerBoard, ErrorWindow, pauseReason } from '../../../src/batch/error-breaker.js';
import { asE164 } from '../../../src/core/e164.js';
import { classifyHttpStatus } from '../../../src/core/errors.js';
import type { LookupOutcome } from '../../../src/core/lookup-result.js';
import { mapIdentityInsightsResponse } from '../../../src/providers/identity-insights/response.js';

const NUMBER = asE164('+447400123456');
const ID = '0123456789abcdef01234567';

/** An Identity Insights answer as the provider maps it from the HTTP response. */
function insightsAnswer(status: number, body: unknown): LookupOutcome {
  return mapIdentityInsightsResponse(
    NUMBER,
    { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
    Date.now(),
  );
}

const ok = { code: 'OK', message: 'Success' };
const refused = (code: string) => ({ status: { code, message: 'refused' } });
const reachable = { is_reachable: true, connectivity: ['DATA'], status: ok };
const notRoaming = { is_roaming: false, status: ok };

/** A Device Status lookup as the provider builds it: per-insight codes from the CAMARA error bodies. */
function deviceStatusAnswer(connectivity: string, roaming: string, message = 'refused'): LookupOutcome {
  const status = (code: string) => ({ code, message: code === 'OK' ? null : message });
  return {
    kind: 'answered',
    provider: 'device-status',
    phoneNumber: NUMBER,
    requestId: null,
    reachability: { status: status(connectivity), reachable: null, connectivity: [], latestStatusAt: null },
    roaming: { status: status(roaming), roaming: null, countries: [], mcc: null, latestStatusAt: null },
    transient: false,
  };
}

function failed(status: number, detail: string): LookupOutcome {
  return {
    kind: 'failed',
    provider: 'identity-insights',
    phoneNumber: NUMBER,
    failure: { ...classifyHttpStatus(status), detail, httpStatus: status },
  };
}

describe('classifyCall', () => {
  it('an answer, even "no such number", is an answer', () => {
    expect(
      classifyCall(insightsAnswer(200, { insights: { reachability: reachable, roaming: notRoaming } })),
    ).toEqual({ kind: 'answered' });
    const notFound = { reachability: refused('NOT_FOUND'), roaming: refused('NOT_FOUND') };
    expect(classifyCall(insightsAnswer(200, { insights: notFound }))).toEqual({ kind: 'answered' });
  });

  it('UNAUTHORIZED inside a 200 is a setup failure naming the insights refused', () => {
    const both = { reachability: refused('UNAUTHORIZED'), roaming: refused('UNAUTHORIZED') };
    expect(classifyCall(insightsAnswer(200, { insights: both }))).toEqual({
      kind: 'setup',
      label: 'UNAUTHORIZED (reachability, roaming)',
      cause: { kind: 'unauthorized', insights: ['reachability', 'roaming'] },
    });
    const roamingOnly = { reachability: reachable, roaming: refused('UNAUTHORIZED') };
    expect(classifyCall(insightsAnswer(200, { insights: roamingOnly }))).toMatchObject({
      kind: 'setup',
      cause: { kind: 'unauthorized', insights: ['roaming'] },
    });
  });

  it('INVALID_PURPOSE comes before UNAUTHORIZED: it concerns the whole application', () => {
    const mixed = { reachability: refused('UNAUTHORIZED'), roaming: refused('INVALID_PURPOSE') };
    expect(classifyCall(insightsAnswer(200, { insights: mixed }))).toEqual({
      kind: 'setup',
      label: 'INVALID_PURPOSE (roaming)',
      cause: { kind: 'invalid-purpose', insights: ['roaming'] },
    });
  });

  it('Device Status PERMISSION_DENIED (the API answered 403) names the scopes', () => {
    expect(classifyCall(deviceStatusAnswer('PERMISSION_DENIED', 'OK'))).toEqual({
      kind: 'setup',
      label: 'HTTP 403 PERMISSION_DENIED (connectivity)',
      cause: { kind: 'permission-denied', scopes: ['connectivity'] },
    });
    // A per-number refusal of the back-channel auth is that number's answer, not a setup failure.
    expect(classifyCall(deviceStatusAnswer('ACCESS_DENIED', 'ACCESS_DENIED'))).toEqual({ kind: 'answered' });
  });

  it('Device Status INVALID_ARGUMENT (400) is a malformed request, the number in its message masked', () => {
    const call = classifyCall(
      deviceStatusAnswer('INVALID_ARGUMENT', 'OK', 'phoneNumber +447400123456 is bad'),
    );
    expect(call).toEqual({
      kind: 'setup',
      label: 'HTTP 400',
      cause: {
        kind: 'rejected',
        httpStatus: 400,
        said: 'INVALID_ARGUMENT: phoneNumber +*********456 is bad',
      },
    });
  });

  it('HTTP 400, 415 and 422 are malformed requests with the carrier words; other permanent 4xx are answers', () => {
    expect(classifyCall(failed(422, 'HTTP 422: Bad Request: purpose: is required'))).toEqual({
      kind: 'setup',
      label: 'HTTP 422',
      cause: { kind: 'rejected', httpStatus: 422, said: 'Bad Request: purpose: is required' },
    });
    expect(classifyCall(failed(415, 'HTTP 415: Unsupported Media Type'))).toMatchObject({
      kind: 'setup',
      cause: { httpStatus: 415 },
    });
    expect(classifyCall(failed(400, 'HTTP 400'))).toMatchObject({
      cause: { kind: 'rejected', httpStatus: 400, said: '' },
    });
    expect(classifyCall(failed(404, 'HTTP 404'))).toEqual({ kind: 'answered' });
  });

  it('carrier failures stay plain failures; 429 and 401 are not counted', () => {
    expect(classifyCall(failed(503, 'HTTP 503'))).toEqual({ kind: 'failed', label: 'HTTP 503' });
    expect(classifyCall(failed(429, 'HTTP 429'))).toEqual({ kind: 'uncounted' });
    expect(classifyCall(failed(401, 'HTTP 401'))).toEqual({ kind: 'uncounted' });
    const transient = { reachability: refused('SUPPLIER_ERROR'), roaming: notRoaming };
    expect(classifyCall(insightsAnswer(200, { insights: transient }))).toEqual({
      kind: 'failed',
      label: 'transient insight errors',
    });
  });
});

describe('setupReason', () => {
  it('UNAUTHORIZED: the exact line, with the insight and the batch id', () => {
    expect(setupReason({ kind: 'unauthorized', insights: ['reachability'] }, ID)).toBe(
      'most answers are UNAUTHORIZED: the application is probably not enabled for the reachability insight in this country — check the Network Registry, then reachscan resume 0123456789abcdef01234567',
    );
    expect(setupReason({ kind: 'unauthorized', insights: ['reachability', 'roaming'] }, ID)).toContain(
      'not enabled for the reachability and roaming insights in this country',
    );
  });

  it('INVALID_PURPOSE, 403 and malformed requests each say what to fix', () => {
    expect(setupReason({ kind: 'invalid-purpose', insights: ['reachability', 'roaming'] }, ID)).toBe(
      "most answers are INVALID_PURPOSE: the purpose reachscan sends (VONAGE_PURPOSE) is not allowed for this application's reachability and roaming insights — attach it to the application in the Network Registry or set VONAGE_PURPOSE to a purpose the application has, then reachscan resume 0123456789abcdef01234567",
    );
    expect(setupReason({ kind: 'permission-denied', scopes: ['roaming'] }, ID)).toBe(
      "most calls are refused with HTTP 403 PERMISSION_DENIED: the application's credentials lack permission for the Device Status roaming scope — check that the application is enabled for Device Status in the Network Registry, then reachscan resume 0123456789abcdef01234567",
    );
    const cause: SetupCause = {
      kind: 'rejected',
      httpStatus: 422,
      said: 'Bad Request: purpose: is required',
    };
    expect(setupReason(cause, ID)).toBe(
      'most calls are rejected as malformed (HTTP 422: Bad Request: purpose: is required): the carrier does not accept the request reachscan sends — check --provider, the API version and paths (VONAGE_API_BASE_URL, VONAGE_IDENTITY_INSIGHTS_PATH, VONAGE_DEVICE_STATUS_PATH) and settings such as VONAGE_PURPOSE, then reachscan resume 0123456789abcdef01234567',
    );
  });
});

describe('the breaker with setup failures', () => {
  const unauthorized = {
    label: 'UNAUTHORIZED (reachability)',
    cause: { kind: 'unauthorized', insights: ['reachability'] },
  } as const;

  it('trips on mostly refusals and gives their reason', () => {
    const w = new ErrorWindow(10);
    for (let i = 0; i < 4; i++) w.record(null);
    for (let i = 0; i < 6; i++) w.record(unauthorized);
    const trip = w.check(0.5);
    expect(trip).toEqual({
      failed: 6,
      calls: 10,
      mostly: 'UNAUTHORIZED (reachability)',
      setup: unauthorized.cause,
    });
    expect(trip && pauseReason(trip, ID)).toMatch(/^most answers are UNAUTHORIZED: .* reachability insight /);
  });

  it('a few refusals among answers never trip it', () => {
    const board = new BreakerBoard();
    const settings = { threshold: 0.5, window: 100 };
    // 3 in every 100 calls refused, for 1,000 calls.
    for (let i = 0; i < 1_000; i++)
      expect(board.record('a', 0, settings, i % 100 < 3 ? unauthorized : null)).toBeNull();
  });

  it('when carrier failures outnumber the refusals, the reason is the ordinary one', () => {
    const w = new ErrorWindow(10);
    for (let i = 0; i < 4; i++) w.record(unauthorized);
    for (let i = 0; i < 5; i++) w.record('HTTP 503');
    w.record(null);
    const trip = w.check(0.5);
    expect(trip).toEqual({ failed: 9, calls: 10, mostly: 'HTTP 503' });
    expect(trip && pauseReason(trip, ID)).toMatch(
      /^90% of the last 10 carrier calls failed \(mostly HTTP 503\)/,
    );
  });
});
