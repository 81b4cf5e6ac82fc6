import { describe, expect, it } from 'vitest';
import { decodeAnswer, encodeAnswer } from '../../../src/core/answer.js';
import { resultHeader } from '../../../src/core/columns.js';
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
  it('round-trip through their compact form', () => {
    const { phone_e164: _, ...answer } = row({ roaming: 'true', roaming_countries: 'BL;GF' });
    expect(decodeAnswer(encodeAnswer(answer))).toEqual(answer);
    expect(() => decodeAnswer('[1,2]')).toThrow(/unexpected shape/);
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
    expect(r.source).toEqual({ live: 3, cache: 1 });
    expect(r.reachability).toEqual({ reachable: 3, not_reachable: 1, unknown: 1, data: 2, sms_only: 1 });
    expect(r.roaming).toEqual({ roaming: 1, not_roaming: 3, unknown: 1, by_country: { BL: 1, GF: 1 } });
    expect(r.status_counts.reachability).toEqual({ OK: 4, INVALID_NUMBER_FORMAT: 1 });
    expect(r.stale).toMatchObject({ days: 60, rows: 0, file: 'no-connectivity-60d.csv' });
    expect(r.rows_in_error).toBe(1);
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
