import { describe, expect, it } from 'vitest';
import { decodeAnswer, encodeAnswer } from '../../../src/core/answer.js';
import { RESULT_COLUMNS, resultHeader, type ResultFields } from '../../../src/core/columns.js';
import { ReportAccumulator } from '../../../src/output/report.js';
import { resultRow } from '../../support/rows.js';

const row = resultRow;

const context = {
  batchId: 'b',
  inputFile: 'f.csv',
  provider: 'identity-insights',
  startedAt: 's',
  staleDays: 60,
  staleFile: 'no-connectivity-60d.csv',
  changesFile: 'changes.csv',
};

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
  const live = (over: Partial<ResultFields> = {}) => {
    const { phone_e164: _, ...answer } = row({
      source: 'simulated',
      request_id: '0f8e9a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b',
      last_seen_connected_at: '2026-03-01T00:00:00.000Z',
      ...over,
    });
    return answer;
  };

  it('round-trip through their compact form, times and request ids packed', () => {
    const answer = live({ roaming: 'true', roaming_countries: 'BL;GF' });
    const stored = encodeAnswer(answer);
    expect(decodeAnswer(stored)).toEqual(answer);
    // Redis keeps a value of up to 124 characters in a 128-byte block.
    expect(stored.length).toBeLessThanOrEqual(124);
    expect(stored).not.toContain('2026-03-01');
    expect(stored).not.toContain('0f8e9a2b');
    expect(() => decodeAnswer('[1,2]')).toThrow(/unexpected shape/);
    expect(() => decodeAnswer('a\x1fb')).toThrow(/unexpected shape/);
  });

  it('keep values that are not in the exact packed forms as they are', () => {
    for (const answer of [
      live({ checked_at: '2026-03-01T00:00:00Z' }), // no milliseconds
      live({ last_status_at: '2026-02-30T00:00:00.000Z' }), // no such day
      live({ request_id: '0F8E9A2B-3C4D-4E5F-8A9B-0C1D2E3F4A5B' }), // upper case
      live({ request_id: 'req-42' }),
      live({ previous_checked_at: '1969-12-31T23:59:59.999Z' }),
    ])
      expect(decodeAnswer(encodeAnswer(answer))).toEqual(answer);
  });

  it('keep values that hold the separator or the packing mark, or start like JSON, whole', () => {
    for (const answer of [
      live({ error: 'upstream said a\x1fb' }),
      live({ error: '~not packed' }),
      live({ request_id: '~abc' }),
      live({ reachable: '[odd' }),
      live({ reachable: '' }),
    ])
      expect(decodeAnswer(encodeAnswer(answer))).toEqual(answer);
  });

  it('read the JSON arrays an earlier release stored', () => {
    const answer = live({ roaming: 'true', roaming_countries: 'BL;GF' });
    const earlier = JSON.stringify(RESULT_COLUMNS.slice(1).map((c) => answer[c as keyof typeof answer]));
    expect(decodeAnswer(earlier)).toEqual(answer);
  });
});

describe('report accumulator', () => {
  it('counts per row, countries per roaming row', () => {
    const acc = new ReportAccumulator(60);
    acc.addRow(row({}));
    acc.addRow(row({ connectivity: 'SMS', source: 'cache' }));
    const stale = acc.addRow(
      row({
        reachable: 'false',
        connectivity: '',
        no_connectivity_since: '2026-01-01T00:00:00.000Z',
        no_connectivity_evidence: 'status_time',
      }),
    );
    expect(stale).toEqual({ days: 59, stale: false, changes: [] });
    acc.addRow(row({ roaming: 'true', roaming_countries: 'BL;GF' }));
    acc.addRow(
      row({
        phone_e164: '',
        reachable: '',
        roaming: '',
        reachability_status: 'INVALID_NUMBER_FORMAT',
        roaming_status: 'INVALID_NUMBER_FORMAT',
        error: 'x',
        source: '',
      }),
    );
    acc.addReject();
    const r = acc.build(context, 3, 'f');
    expect(r.rows).toEqual({ total: 5, valid: 4, invalid: 1, duplicate: 1, rejected: 1 });
    expect(r.source).toEqual({ live: 3, cache: 1, simulated: 0 });
    // The invalid cell was never asked: it is in none of the answers' counts.
    expect(r.reachability).toEqual({ reachable: 3, not_reachable: 1, unknown: 0, data: 2, sms_only: 1 });
    expect(r.roaming).toEqual({ roaming: 1, not_roaming: 3, unknown: 0, by_country: { 'BL + GF': 1 } });
    expect(r.status_counts.reachability).toEqual({ OK: 4, INVALID_NUMBER_FORMAT: 1 });
    expect(r.stale).toMatchObject({ days: 60, rows: 0, file: 'no-connectivity-60d.csv' });
    expect(r).toMatchObject({
      rows_in_error: 1,
      invalid_numbers: 1,
      malformed_records: 1,
      lookups_failed: 0,
      simulated: false,
    });
  });

  it('counts failed lookups apart from invalid cells and malformed records; rows_in_error holds both kinds', () => {
    const acc = new ReportAccumulator(60);
    acc.addRow(row({ source: 'simulated' }));
    acc.addRow(
      row({
        reachable: '',
        connectivity: '',
        roaming: '',
        reachability_status: 'ERROR_UPSTREAM',
        roaming_status: 'ERROR_UPSTREAM',
        error: 'HTTP 503',
        source: 'simulated',
      }),
    );
    for (const status of ['INVALID_NUMBER_FORMAT', 'EXCEL_MANGLED'])
      acc.addRow(
        row({
          phone_e164: '',
          reachable: '',
          connectivity: '',
          roaming: '',
          reachability_status: status,
          roaming_status: status,
          error: 'x',
          source: '',
        }),
      );
    acc.addReject();
    acc.addReject();
    acc.addReject();
    const r = acc.build(context, 2, 'f');
    expect(r).toMatchObject({
      invalid_numbers: 2,
      malformed_records: 3,
      lookups_failed: 1,
      rows_in_error: 3,
      simulated: true,
      source: { live: 0, cache: 0, simulated: 2 },
      reachability: { reachable: 1, not_reachable: 0, unknown: 1 },
      roaming: { roaming: 0, not_roaming: 1, unknown: 1 },
    });
    expect(r.reachability.reachable + r.reachability.not_reachable + r.reachability.unknown).toBe(
      r.rows.valid,
    );
  });

  it('counts each roaming device once: an MCC of several countries is one group, the groups add up', () => {
    const acc = new ReportAccumulator(60);
    const roaming = (countries: string, mcc = '') =>
      acc.addRow(row({ roaming: 'true', roaming_countries: countries, roaming_mcc: mcc }));
    roaming('BL;GF;GP;MF;MQ', '340'); // Device Status: the MCC, and its countries
    roaming('MQ;GP;BL;MF;GF'); // Identity Insights: the countries only
    roaming('DE', '262');
    roaming('DE');
    roaming('', '901');
    roaming('');
    acc.addRow(row({}));
    const r = acc.build(context, 7, 'f');
    expect(r.roaming.by_country).toEqual({
      'MCC 340 (BL, GF, GP, MF, MQ)': 2,
      DE: 2,
      'MCC 901': 1,
      unknown: 1,
    });
    expect(Object.values(r.roaming.by_country).reduce((a, b) => a + b, 0)).toBe(r.roaming.roaming);
  });

  it('counts days to the check, puts the threshold on a bucket edge and keeps the longest gaps first', () => {
    const acc = new ReportAccumulator(45);
    const gone = (phone: string, since: string, evidence = 'history') =>
      acc.addRow(
        row({
          phone_e164: phone,
          reachable: 'false',
          connectivity: '',
          no_connectivity_since: since,
          no_connectivity_evidence: evidence,
        }),
      );
    expect(gone('+1', '2026-01-15T00:00:00.000Z').days).toBe(45); // 45 days before checked_at
    expect(gone('+2', '2026-01-15T00:00:01.000Z')).toMatchObject({ days: 44, stale: false });
    expect(gone('+3', '2025-01-01T00:00:00.000Z', 'status_time')).toMatchObject({ days: 424, stale: true });
    // Unknown is never "not connected", whatever its times say.
    expect(
      acc.addRow(row({ reachable: '', no_connectivity_since: '2025-01-01T00:00:00.000Z' })).days,
    ).toBeNull();
    const r = acc.build({ ...context, staleDays: 45 }, 4, 'f');
    expect(r.stale).toMatchObject({ rows: 2, evidence: { status_time: 1, history: 1 } });
    expect(r.stale.top.map((e) => [e.phone_e164, e.days])).toEqual([
      ['+3', 424],
      ['+1', 45],
    ]);
    const buckets = Object.fromEntries(
      r.no_connectivity_days.map((b) => [`${b.from}-${b.to ?? ''}`, b.rows]),
    );
    expect(buckets).toMatchObject({ '30-44': 1, '45-59': 1, '365-': 1, '0-6': 0 });
  });

  it('lists each number once among the longest gaps, with its identifying columns and its rows', () => {
    const acc = new ReportAccumulator(60, ['customer_id', 'name']);
    const gone = (phone: string, since: string, ids: string[]) =>
      acc.addRow(
        row({
          phone_e164: phone,
          reachable: 'false',
          connectivity: '',
          no_connectivity_since: since,
          no_connectivity_evidence: 'history',
        }),
        ids,
      );
    gone('+1', '2025-06-01T00:00:00.000Z', ['C1', 'Ada']);
    gone('+2', '2025-09-01T00:00:00.000Z', ['C2', 'Alan']);
    gone('+1', '2025-06-01T00:00:00.000Z', ['C9', 'Ada again']);
    gone('+1', '2025-06-01T00:00:00.000Z', ['C10', 'Ada thrice']);
    for (let i = 0; i < 30; i++) gone(`+3${i}`, '2025-12-01T00:00:00.000Z', [`D${i}`, '']);
    const r = acc.build(context, 32, 'f');
    expect(r.stale.rows).toBe(34);
    expect(r.stale.id_columns).toEqual(['customer_id', 'name']);
    expect(r.stale.top).toHaveLength(20);
    expect(new Set(r.stale.top.map((e) => e.phone_e164)).size).toBe(20);
    expect(r.stale.top.slice(0, 2)).toEqual([
      {
        phone_e164: '+1',
        days: 273,
        since: '2025-06-01T00:00:00.000Z',
        evidence: 'history',
        ids: { customer_id: 'C1', name: 'Ada' },
        rows: 3,
      },
      {
        phone_e164: '+2',
        days: 181,
        since: '2025-09-01T00:00:00.000Z',
        evidence: 'history',
        ids: { customer_id: 'C2', name: 'Alan' },
        rows: 1,
      },
    ]);
  });

  it('lists each change of a row with its two sides', () => {
    const acc = new ReportAccumulator(60);
    const verdict = acc.addRow(
      row({
        roaming: 'true',
        roaming_countries: 'FR',
        roaming_mcc: '208',
        changes: 'came_back;roaming_country_changed',
        previous_checked_at: '2026-02-28T00:00:00.000Z',
        previous_roaming_countries: 'DE',
      }),
    );
    expect(verdict.changes.map((c) => [c.change, c.before, c.after])).toEqual([
      ['came_back', 'not reachable', 'reachable (DATA;SMS)'],
      ['roaming_country_changed', 'DE', 'FR'],
    ]);
    const r = acc.build(context, 1, 'f');
    expect(r.changes).toMatchObject({ compared_rows: 1, rows: 1 });
    expect(r.changes.by_kind).toMatchObject({ came_back: 1, roaming_country_changed: 1, went_offline: 0 });
  });
});
