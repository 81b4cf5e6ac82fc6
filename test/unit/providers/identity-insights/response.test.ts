import { describe, expect, it } from 'vitest';
import { asE164 } from '../../../../src/core/e164.js';
import { INSIGHT_STATUS } from '../../../../src/core/insight-status.js';
import type { AnsweredLookup, FailedLookup, LookupOutcome } from '../../../../src/core/lookup-result.js';
import { mapIdentityInsightsResponse } from '../../../../src/providers/identity-insights/response.js';

const NUMBER = asE164('+447400123456');
const NOW = Date.parse('2026-03-01T12:00:00Z');

function map(status: number, body: unknown, headers: Record<string, string> = {}): LookupOutcome {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return mapIdentityInsightsResponse(NUMBER, { status, headers, body: text }, NOW);
}
function answered(body: unknown): AnsweredLookup {
  const outcome = map(200, body);
  if (outcome.kind !== 'answered') throw new Error(`expected an answer, got ${JSON.stringify(outcome)}`);
  return outcome;
}
function failed(status: number, body: unknown, headers: Record<string, string> = {}): FailedLookup {
  const outcome = map(status, body, headers);
  if (outcome.kind !== 'failed') throw new Error('expected a failure');
  return outcome;
}

describe('mapping a 200 answer', () => {
  it('maps the documented example', () => {
    const result = answered({
      request_id: 'c2cc7a65-9b10-493f-9c0a-1c86751a91c4',
      insights: {
        reachability: {
          latest_status_at: '2024-02-20T10:41:38.657Z',
          is_reachable: true,
          connectivity: ['DATA', 'SMS'],
          status: { code: 'OK', message: 'Success' },
        },
        roaming: {
          latest_status_at: '2024-02-20T10:41:38.657Z',
          is_roaming: true,
          country_codes: ['DE'],
          status: { code: 'OK', message: 'Success' },
        },
      },
    });
    expect(result).toEqual({
      kind: 'answered',
      provider: 'identity-insights',
      phoneNumber: NUMBER,
      requestId: 'c2cc7a65-9b10-493f-9c0a-1c86751a91c4',
      reachability: {
        status: { code: 'OK', message: 'Success' },
        reachable: true,
        connectivity: ['DATA', 'SMS'],
        latestStatusAt: '2024-02-20T10:41:38.657Z',
      },
      roaming: {
        status: { code: 'OK', message: 'Success' },
        roaming: true,
        countries: ['DE'],
        mcc: null,
        latestStatusAt: '2024-02-20T10:41:38.657Z',
      },
      transient: false,
    });
  });

  it.each(Object.values(INSIGHT_STATUS))('keeps per-insight status %s verbatim', (code) => {
    const result = answered({
      insights: { reachability: { status: { code, message: 'm' } }, roaming: { status: { code } } },
    });
    expect(result.reachability.status).toEqual({ code, message: 'm' });
    expect(result.roaming.status).toEqual({ code, message: null });
    expect(result.transient).toBe(code === 'SUPPLIER_ERROR' || code === 'INTERNAL_ERROR');
  });

  it('keeps unknown status codes and connectivity values instead of failing', () => {
    const result = answered({
      insights: {
        reachability: {
          is_reachable: true,
          connectivity: ['DATA', ' SMS ', '5G_SA', 'DATA'],
          status: { code: 'NEW_CODE' },
        },
        roaming: { is_roaming: false, status: { code: 'ANOTHER_ONE', message: 'x' } },
      },
    });
    expect(result.reachability.status.code).toBe('NEW_CODE');
    expect(result.reachability.connectivity).toEqual(['DATA', 'SMS', '5G_SA']);
    expect(result.roaming.status.code).toBe('ANOTHER_ONE');
    expect(result.transient).toBe(false);
  });

  it('treats odd field types as "not said" and normalises timestamps to UTC', () => {
    const result = answered({
      request_id: 42,
      insights: {
        reachability: {
          is_reachable: 'yes',
          connectivity: 'DATA',
          latest_status_at: 'yesterday',
          status: { code: 'OK' },
        },
        roaming: {
          is_roaming: true,
          country_codes: ['de', 7, ''],
          latest_status_at: '2024-02-20T12:41:38+02:00',
          status: { code: 'OK' },
        },
      },
    });
    expect(result.requestId).toBeNull();
    expect(result.reachability).toMatchObject({ reachable: null, connectivity: [], latestStatusAt: null });
    expect(result.roaming).toMatchObject({ countries: ['DE'], latestStatusAt: '2024-02-20T10:41:38.000Z' });
  });

  it('drops connectivity for an unreachable device and countries when not roaming', () => {
    const result = answered({
      insights: {
        reachability: { is_reachable: false, connectivity: ['DATA'], status: { code: 'OK' } },
        roaming: { is_roaming: false, country_codes: ['FR'], status: { code: 'OK' } },
      },
    });
    expect(result.reachability.connectivity).toEqual([]);
    expect(result.roaming.countries).toEqual([]);
  });

  it('marks a missing insight or status as a bad response, not OK', () => {
    const result = answered({ insights: { reachability: { is_reachable: true } } });
    expect(result.reachability.status.code).toBe('ERROR_BAD_RESPONSE');
    expect(result.reachability.reachable).toBe(true);
    expect(result.roaming.status).toEqual({
      code: 'ERROR_BAD_RESPONSE',
      message: 'insight missing from the response',
    });
  });

  it('fails a 200 whose body is not an answer, as retryable', () => {
    for (const body of ['{"request_id":"x","insights":{"reach', '[]', '{"request_id":"x"}', '']) {
      expect(failed(200, body).failure).toMatchObject({
        code: 'ERROR_BAD_RESPONSE',
        retry: 'retryable',
        httpStatus: 200,
      });
    }
  });
});

describe('mapping an HTTP error', () => {
  const problem = (title: string, detail: string, extra: object = {}) => ({
    type: 'https://developer.vonage.com/api-errors#x',
    title,
    detail,
    instance: 'i',
    ...extra,
  });

  it('401 is fatal', () => {
    expect(failed(401, problem('Unauthorized', 'Invalid token.')).failure).toEqual({
      code: 'ERROR_AUTH',
      retry: 'fatal',
      detail: 'HTTP 401: Unauthorized: Invalid token.',
      httpStatus: 401,
    });
  });

  it('422 is permanent and names the invalid parameters', () => {
    const body = problem('Bad Request', 'Validation failed.', {
      invalid_parameters: [{ name: 'phone_number', reason: 'is required' }],
    });
    expect(failed(422, body).failure).toMatchObject({
      code: 'ERROR_REJECTED',
      retry: 'permanent',
      detail: 'HTTP 422: Bad Request: Validation failed.: phone_number: is required',
    });
  });

  it('429 is rate-limited, with Retry-After in ms when given', () => {
    expect(failed(429, problem('Rate Limited', 'slow down'), { 'retry-after': '2' }).failure).toMatchObject({
      code: 'ERROR_RATE_LIMITED',
      retry: 'rate-limited',
      retryAfterMs: 2000,
    });
    expect(failed(429, problem('Rate Limited', 'slow down')).failure).not.toHaveProperty('retryAfterMs');
  });

  it('5xx is retryable, whatever the body', () => {
    expect(failed(503, '<html>busy</html>').failure).toEqual({
      code: 'ERROR_UPSTREAM',
      retry: 'retryable',
      detail: 'HTTP 503',
      httpStatus: 503,
    });
  });

  it('bounds the detail length of a chatty problem', () => {
    const detail = failed(400, problem('Bad', 'x'.repeat(5_000))).failure.detail;
    expect(detail.length).toBeLessThan(320);
  });

  it('masks the number and cuts out tokens a problem echoes: the detail is logged', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJhcHBsaWNhdGlvbl9pZCI6IngifQ.c2lnbmF0dXJl';
    const body = problem('Unauthorized', `Invalid token: Bearer ${jwt}; also ${jwt}`, {
      invalid_parameters: [{ name: 'phone_number', reason: '+447400123456 (447400123456) is not valid' }],
    });
    expect(failed(401, body).failure.detail).toBe(
      'HTTP 401: Unauthorized: Invalid token: Bearer [redacted]; also [redacted]: phone_number: +*********456 (*********456) is not valid',
    );
  });
});
