import { describe, expect, it } from 'vitest';
import { asE164 } from '../../../../src/core/e164.js';
import { cibaScopes } from '../../../../src/providers/camara/access.js';
import {
  callFromResponse,
  reachabilityFromBody,
  roamingAnswerFromBody,
} from '../../../../src/providers/camara/response.js';

const NUMBER = asE164('+447700900123');
const res = (status: number, body: unknown, headers: Record<string, string> = {}) => ({
  status,
  headers,
  body: typeof body === 'string' ? body : JSON.stringify(body),
});
const call = (status: number, body: unknown) =>
  callFromResponse(res(status, body), 'reachability', NUMBER, () => 0);

describe('CAMARA answers in every shape', () => {
  it('v1.1 and v1.0: reachable, connectivity (only when reachable), lastStatusTime normalised to UTC', () => {
    expect(
      reachabilityFromBody({
        reachable: true,
        connectivity: ['DATA', 'sms', 'DATA'],
        lastStatusTime: '2026-05-01T12:00:00+02:00',
      }),
    ).toEqual({
      status: { code: 'OK', message: null },
      reachable: true,
      connectivity: ['DATA', 'SMS'],
      latestStatusAt: '2026-05-01T10:00:00.000Z',
    });
    expect(reachabilityFromBody({ reachable: false, connectivity: ['DATA'] })).toMatchObject({
      reachable: false,
      connectivity: [],
      latestStatusAt: null,
    });
    expect(reachabilityFromBody({ reachable: true, lastStatusTime: 'yesterday' })).toMatchObject({
      connectivity: [],
      latestStatusAt: null,
    });
  });

  it('v0.6: reachabilityStatus to v1 facts; an unknown value kept as the status', () => {
    expect(reachabilityFromBody({ reachabilityStatus: 'CONNECTED_SMS' })).toMatchObject({
      reachable: true,
      connectivity: ['SMS'],
    });
    expect(reachabilityFromBody({ reachabilityStatus: 'NOT_CONNECTED' })).toMatchObject({
      reachable: false,
      connectivity: [],
    });
    expect(reachabilityFromBody({ reachabilityStatus: 'ASLEEP' })).toMatchObject({
      status: { code: 'ASLEEP' },
      reachable: null,
    });
    expect(reachabilityFromBody({})).toMatchObject({ status: { code: 'ERROR_BAD_RESPONSE' } });
  });

  it('roaming: countryName wins (even []), else the MCC table; lastStatusTime kept', () => {
    expect(
      roamingAnswerFromBody({ roaming: true, countryCode: 208, lastStatusTime: '2026-05-01T00:00:00Z' }),
    ).toMatchObject({
      roaming: true,
      mcc: 208,
      countries: ['FR'],
      latestStatusAt: '2026-05-01T00:00:00.000Z',
    });
    expect(roamingAnswerFromBody({ roaming: true, countryCode: 901, countryName: [] })).toMatchObject({
      countries: [],
    });
    expect(roamingAnswerFromBody({ roaming: false })).toMatchObject({
      roaming: false,
      mcc: null,
      countries: [],
    });
  });
});

describe('what a CAMARA error means', () => {
  it('answers, setup pauses, the quota pause, rate limits and retries', () => {
    expect(call(404, { status: 404, code: 'IDENTIFIER_NOT_FOUND', message: 'no' })).toMatchObject({
      kind: 'answer',
      code: 'IDENTIFIER_NOT_FOUND',
    });
    expect(call(422, { status: 422, code: 'SERVICE_NOT_APPLICABLE' })).toMatchObject({ kind: 'answer' });
    expect(call(422, { status: 422, code: 'DEVICE_NOT_APPLICABLE' })).toMatchObject({ kind: 'answer' });
    expect(call(400, { status: 400, code: 'INVALID_ARGUMENT' })).toMatchObject({ kind: 'answer' });
    expect(call(422, { status: 422, code: 'SOMETHING_NEW' })).toMatchObject({
      kind: 'answer',
      code: 'SOMETHING_NEW',
    });
    expect(call(422, { status: 422, code: 'UNSUPPORTED_DEVICE_IDENTIFIERS' })).toMatchObject({
      failure: { pause: { kind: 'setup' } },
    });
    expect(call(403, { status: 403, code: 'INVALID_TOKEN_CONTEXT' })).toMatchObject({
      failure: { pause: { kind: 'setup' } },
    });
    expect(call(403, 'Forbidden')).toMatchObject({ failure: { pause: { kind: 'setup' }, httpStatus: 403 } });
    expect(call(404, '<html>Not Found</html>')).toMatchObject({ failure: { pause: { kind: 'setup' } } });
    expect(call(429, { status: 429, code: 'QUOTA_EXCEEDED' })).toMatchObject({
      failure: { code: 'ERROR_RATE_LIMITED', retry: 'retryable', pause: { kind: 'quota' } },
    });
    expect(call(429, '')).toMatchObject({ failure: { retry: 'rate-limited' } });
    expect(call(503, { status: 503, code: 'UNAVAILABLE' })).toMatchObject({
      failure: { retry: 'retryable', upstreamCode: 'UNAVAILABLE' },
    });
    expect(call(502, 'bad gateway')).toMatchObject({ failure: { retry: 'retryable' } });
  });

  it('masks the number an operator echoes in its message', () => {
    const c = call(422, {
      status: 422,
      code: 'UNNECESSARY_IDENTIFIER',
      message: 'device +447700900123 not expected',
    });
    expect(JSON.stringify(c)).not.toContain('447700900123');
  });
});

describe('CIBA scopes', () => {
  it('standard: one purpose, scopes after it; hash: the purpose on each scope; openid first', () => {
    expect(cibaScopes('standard', 'FraudPreventionAndDetection')).toEqual({
      combined:
        'openid dpv:FraudPreventionAndDetection device-reachability-status:read device-roaming-status:read',
      each: {
        reachability: 'openid dpv:FraudPreventionAndDetection device-reachability-status:read',
        roaming: 'openid dpv:FraudPreventionAndDetection device-roaming-status:read',
      },
    });
    expect(cibaScopes('hash', 'P').combined).toBe(
      'openid dpv:P#device-reachability-status:read dpv:P#device-roaming-status:read',
    );
    expect(cibaScopes('hash', 'P').each.roaming).toBe('openid dpv:P#device-roaming-status:read');
  });
});
