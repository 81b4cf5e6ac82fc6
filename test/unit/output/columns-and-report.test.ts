import { describe, expect, it } from 'vitest';
import { decodeAnswer, encodeAnswer } from '../../../src/output/answer.js';
import { resultHeader, type ResultFields } from '../../../src/output/columns.js';
import { daysWithoutConnectivity, ReportAccumulator } from '../../../src/output/report.js';

const row = (over: Partial<ResultFields>): ResultFields => ({
  phone_e164: '+447400123456',
  reachable: 'true',
  connectivity: 'DATA;SMS',
  last_status_at: '2026-01-01T00:00:00.000Z',
  roaming: 'false',
  roaming_countries: '',
  roaming_mcc: '',
  reachability_status: 'OK',
  roaming_status: 'OK',
  checked_at: '2026-03-01T00:00:00.000Z',
  error: '',
  ...over,
});

describe('result header', () => {
  it('never overwrites an input column: ours gets a prefix', () => {
    const header = resultHeader(['id', 'reachable', 'error', 'reachscan_error']);
    expect(header.slice(0, 4)).toEqual(['id', 'reachable', 'error', 'reachscan_error']);
    expect(header).toContain('reachscan_reachable');
    expect(header).toContain('reachscan_reachscan_error');
    expect(new Set(header).size).toBe(header.length);
  });
});

describe('stored answers', () => {
  it('round-trip through their compact form', () => {
    const { phone_e164: _, ...answer } = row({ roaming: 'true', roaming_countries: 'BL;GF' });
    expect(decodeAnswer(encodeAnswer(answer))).toEqual(answer);
    expect(() => decodeAnswer('[1,2]')).toThrow(/unexpected shape/);
  });
});

describe('report accumulator', () => {
  it('counts per row, countries per roaming row', () => {
    const acc = new ReportAccumulator();
    acc.addRow(row({}), false);
    acc.addRow(row({ connectivity: 'SMS' }), false);
    acc.addRow(row({ reachable: 'false', connectivity: '' }), true);
    acc.addRow(row({ roaming: 'true', roaming_countries: 'BL;GF' }), false);
    acc.addRow(
      row({
        phone_e164: '',
        reachable: '',
        roaming: '',
        reachability_status: 'INVALID_NUMBER_FORMAT',
        roaming_status: 'INVALID_NUMBER_FORMAT',
        error: 'x',
      }),
      false,
    );
    acc.addReject();
    const r = acc.build(
      {
        batchId: 'b',
        inputFile: 'f.csv',
        provider: 'identity-insights',
        startedAt: 's',
        staleDays: 60,
        staleFile: 'no-connectivity-60d.csv',
      },
      3,
      'f',
    );
    expect(r.rows).toEqual({ total: 5, valid: 4, invalid: 1, duplicate: 1, rejected: 1 });
    expect(r.reachability).toEqual({ reachable: 3, not_reachable: 1, unknown: 1, data: 2, sms_only: 1 });
    expect(r.roaming).toEqual({ roaming: 1, not_roaming: 3, unknown: 1, by_country: { BL: 1, GF: 1 } });
    expect(r.status_counts.reachability).toEqual({ OK: 4, INVALID_NUMBER_FORMAT: 1 });
    expect(r.stale).toEqual({ days: 60, rows: 1, file: 'no-connectivity-60d.csv' });
    expect(r.rows_in_error).toBe(1);
  });

  it('counts days without connectivity only for unreachable devices with a time', () => {
    const now = Date.parse('2026-03-02T12:00:00Z');
    expect(daysWithoutConnectivity(row({ reachable: 'false' }), now)).toBe(60);
    expect(daysWithoutConnectivity(row({}), now)).toBeNull();
    expect(daysWithoutConnectivity(row({ reachable: 'false', last_status_at: '' }), now)).toBeNull();
    expect(daysWithoutConnectivity(row({ reachable: '' }), now)).toBeNull(); // unknown never counts
  });
});
