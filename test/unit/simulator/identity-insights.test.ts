import { describe, expect, it } from 'vitest';
import { renderInsights, validateRequest } from '../../../src/simulator/identity-insights.js';

const ok = {
  phone_number: '+447400123456',
  purpose: 'FraudPreventionAndDetection',
  insights: { reachability: {}, roaming: {} },
};

describe('simulator request validation', () => {
  it('accepts a good request and restores the +', () => {
    expect(validateRequest({ ...ok, phone_number: '447400123456' })).toEqual({
      phoneNumber: '+447400123456',
      purpose: 'FraudPreventionAndDetection',
      insights: ['reachability', 'roaming'],
    });
  });

  it.each([
    [{ ...ok, phone_number: undefined }, 'phone_number', 'is required'],
    [
      { ...ok, phone_number: '00447400123456' },
      'phone_number',
      'must be in E.164 format, country code first, without 00',
    ],
    [{ ...ok, insights: {} }, 'insights', 'at least one insight is required'],
    [{ ...ok, insights: undefined }, 'insights', 'is required and must be an object'],
    [{ ...ok, insights: { reachability: { x: 1 } } }, 'insights.reachability', 'must be an empty object'],
    [{ ...ok, insights: { sim_swap: {} } }, 'insights.sim_swap', 'is not a supported insight'],
    [{ ...ok, purpose: undefined }, 'purpose', 'is required for network insights'],
  ])('refuses %j: %s %s', (body, name, reason) => {
    expect(validateRequest(body)).toEqual([{ name, reason }]);
  });

  it('refuses a body that is not an object', () => {
    expect(validateRequest([1])).toEqual([{ name: 'body', reason: 'must be a JSON object' }]);
  });
});

describe('simulator rendering', () => {
  it('answers only the insights asked for, and forces a status when told', () => {
    const state = { kind: 'unknown-subscriber' } as const;
    expect(Object.keys(renderInsights(state, ['roaming'], null))).toEqual(['roaming']);
    expect(
      renderInsights(state, ['reachability'], { code: 'SUPPLIER_ERROR', insights: ['reachability'] }),
    ).toEqual({
      reachability: { status: { code: 'SUPPLIER_ERROR', message: 'The supplier did not answer.' } },
    });
  });

  it('forces a status on the insights named only, answering the others from the device', () => {
    const device = { kind: 'unknown-subscriber' } as const;
    expect(
      renderInsights(device, ['reachability', 'roaming'], { code: 'UNAUTHORIZED', insights: ['roaming'] }),
    ).toEqual({
      reachability: { status: { code: 'NOT_FOUND', message: 'Unknown phone number.' } },
      roaming: {
        status: {
          code: 'UNAUTHORIZED',
          message: 'The operator does not allow this insight for this number.',
        },
      },
    });
  });
});
