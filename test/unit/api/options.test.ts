import { describe, expect, it } from 'vitest';
import { parseBatchOptions, parseResumeBudget } from '../../../src/api/options.js';
import { HttpProblem } from '../../../src/api/problem.js';

const server = {
  history: { prefix: '{t-state}:', retentionDays: 400 },
  retryBaseMs: 1_000,
  stateSecret: null,
};

function problem(given: Record<string, string | string[]>): HttpProblem {
  try {
    parseBatchOptions(given, server);
  } catch (error) {
    if (error instanceof HttpProblem) return error;
    throw error;
  }
  throw new Error('expected a problem');
}

describe('parseBatchOptions', () => {
  it('takes the scan defaults when nothing is given', () => {
    expect(parseBatchOptions({}, server)).toEqual({
      provider: 'identity-insights',
      column: undefined,
      defaultCountry: null,
      staleDays: 60,
      maxAgeMs: 0,
      rate: 0,
      chunkSize: 250,
      bom: false,
      formulaGuard: true,
      history: server.history,
      retryBaseMs: 1_000,
      breaker: { threshold: 0.5, window: 200 },
      xlsx: false,
      webhook: null,
      prices: null,
    });
  });

  it('reads every option by its flag name', () => {
    expect(
      parseBatchOptions(
        {
          provider: 'device-status',
          column: 'Mobile No',
          'default-country': 'gb',
          'stale-days': '30',
          'max-age': '24h',
          rate: '2.5',
          'chunk-size': '100',
          'error-threshold': '0.3',
          'error-window': '50',
          bom: '',
        },
        server,
      ),
    ).toMatchObject({
      provider: 'device-status',
      column: 'Mobile No',
      defaultCountry: 'GB',
      staleDays: 30,
      maxAgeMs: 86_400_000,
      rate: 2.5,
      chunkSize: 100,
      breaker: { threshold: 0.3, window: 50 },
      bom: true,
    });
    expect(() => parseBatchOptions({ 'error-threshold': '2' }, server)).toThrow(/error-threshold/);
    expect(parseBatchOptions({ bom: 'false' }, server).bom).toBe(false);
  });

  it('names the option at fault, in API words', () => {
    const cases: [Record<string, string | string[]>, string, RegExp][] = [
      [{ rate: 'fast' }, 'rate', /^option "rate" must be a number \(got "fast"\)$/],
      [{ 'chunk-size': '0' }, 'chunk-size', /"chunk-size" must be between 1 and 5000/],
      [{ 'stale-days': '1.5' }, 'stale-days', /whole number/],
      [{ 'default-country': 'XX' }, 'default-country', /ISO country code/],
      [{ 'max-age': '3 weeks' }, 'max-age', /duration/],
      [{ provider: 'acme' }, 'provider', /identity-insights, device-status or camara/],
      [{ bom: 'perhaps' }, 'bom', /true or false/],
      [{ verbose: '1' }, 'verbose', /^unknown option "verbose"/],
      [{ rate: ['1', '2'] }, 'rate', /more than once/],
      [{ budget: 'lots' }, 'budget', /^option "budget" must be a number of requests \(500\) or an amount/],
      [{ budget: '25EUR' }, 'budget', /^option "budget" in money needs REACHSCAN_PRICES/],
      [{ purpose: 'two words' }, 'purpose', /^option "purpose" must be a purpose name/],
    ];
    for (const [given, option, message] of cases) {
      const error = problem(given);
      expect(error.status).toBe(400);
      expect(error.extra).toEqual({ option });
      expect(error.detail).toMatch(message);
      expect(error.detail).not.toContain('--');
    }
  });
});

describe('parseResumeBudget', () => {
  it('reads a new budget as resume --budget does; none when empty', () => {
    expect(parseResumeBudget(undefined)).toBeUndefined();
    expect(parseResumeBudget('  ')).toBeUndefined();
    expect(parseResumeBudget('800')).toEqual({ unit: 'requests', limit: 800 });
    expect(parseResumeBudget('30 eur')).toEqual({ unit: 'money', limit: 30_000_000, currency: 'EUR' });
  });

  it('refuses anything else with a 400 naming the option', () => {
    for (const text of ['0', 'more', '-5', '12 euros']) {
      const error = (() => {
        try {
          parseResumeBudget(text);
        } catch (caught) {
          return caught;
        }
        return null;
      })();
      expect(error).toBeInstanceOf(HttpProblem);
      expect((error as HttpProblem).status).toBe(400);
      expect((error as HttpProblem).extra).toEqual({ option: 'budget' });
      expect((error as HttpProblem).detail).toMatch(/^option "budget" must be/);
    }
  });
});
