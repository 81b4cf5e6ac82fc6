import { parsePrices } from '../../../src/config/prices.js';
import { describe, expect, it } from 'vitest';
import { durationFlag } from '../../../src/config/options.js';
import { estimateCost, formatDuration, formatPlan, type Plan } from '../../../src/batch/plan.js';

describe('--max-age durations', () => {
  it('reads a number with its unit, and 0 for never', () => {
    expect(durationFlag('24h', 'max-age')).toBe(86_400_000);
    expect(durationFlag('90s', 'max-age')).toBe(90_000);
    expect(durationFlag('30m', 'max-age')).toBe(1_800_000);
    expect(durationFlag('7d', 'max-age')).toBe(7 * 86_400_000);
    expect(durationFlag('1.5h', 'max-age')).toBe(5_400_000);
    expect(durationFlag('0', 'max-age')).toBe(0);
    expect(durationFlag(undefined, 'max-age')).toBeUndefined();
  });

  it('refuses a bare number or an unknown unit with the flag named', () => {
    for (const bad of ['24', '24w', '-1h', 'h', '']) {
      expect(() => durationFlag(bad, 'max-age')).toThrow(/^--max-age must be a duration such as/);
    }
  });
});

describe('the plan as printed', () => {
  const plan: Plan = {
    file: 'fleet.csv',
    provider: 'device-status',
    rows: 1200,
    rejected: 2,
    valid: 1150,
    invalid: 48,
    unique: 1000,
    cached: 400,
    live: 600,
    requests_per_number: 6,
    upstream_requests: 3600,
    max_age_ms: 86_400_000,
    rate_per_second: 50,
    estimated_seconds: 72,
    history_available: true,
    estimated_cost: null,
    currency: null,
  };

  it('says what is asked, what the history answers, and how long it takes at the rate', () => {
    const text = formatPlan(plan);
    expect(text).toContain('rows:               1200 (2 malformed records)');
    expect(text).toContain('from the history:   400 (checked within 1 d)');
    expect(text).toContain('to ask the carrier: 600');
    expect(text).toContain('upstream requests:  3600 (6 per number, more when authorisations are pending)');
    expect(text).toContain('time:               about 1 min 12 s at 50 requests/s');
  });

  it('shows the estimated cost at REACHSCAN_PRICES, auth requests included', () => {
    const prices = parsePrices(
      '{"currency":"EUR","device-status":{"token":0.001,"bc-authorize":0.001,"connectivity":0.01,"roaming":0.01}}',
    );
    // 600 numbers × (2 bc-authorize + 2 token at 0.001, connectivity + roaming at 0.01) = 600 × 0.024.
    expect(estimateCost(prices, 'device-status', 6, 600)).toBeCloseTo(14.4, 9);
    expect(formatPlan({ ...plan, estimated_cost: 14.4, currency: 'EUR' })).toContain(
      'estimated cost:     14.40 EUR (REACHSCAN_PRICES)',
    );
    expect(formatPlan(plan)).not.toContain('estimated cost');
    const ii = parsePrices('{"currency":"EUR","identity-insights":{"lookup":0.02}}');
    expect(estimateCost(ii, 'identity-insights', 1, 1000)).toBeCloseTo(20, 9);
    expect(estimateCost(ii, 'camara', 2, 1000)).toBe(0);
  });

  it('camara: pending authorisations only matter with CIBA (more than 2 requests a number)', () => {
    const camara = { ...plan, provider: 'camara' as const };
    expect(formatPlan({ ...camara, requests_per_number: 2, upstream_requests: 1200 })).toContain(
      'upstream requests:  1200 (2 per number)\n',
    );
    expect(formatPlan({ ...camara, requests_per_number: 4, upstream_requests: 2400 })).toContain(
      '(4 per number, more when authorisations are pending)',
    );
  });

  it('says why nothing is cached, and that no rate means no estimate', () => {
    const text = formatPlan({
      ...plan,
      history_available: false,
      rate_per_second: null,
      estimated_seconds: null,
    });
    expect(text).toContain('(history not available: Redis is not answering)');
    expect(text).toContain('no --rate given');
    expect(formatDuration(3725)).toBe('1 h 2 min 5 s');
    expect(formatDuration(0)).toBe('0 s');
    expect(formatDuration(90_000)).toBe('1 d 1 h');
  });
});
