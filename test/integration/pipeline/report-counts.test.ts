import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ProviderName } from '../../../src/core/lookup-result.js';
import { NO_FAULTS, parseDeviceState } from '../../../src/simulator/index.js';
import { readReport, runScan } from '../../support/scan.js';
import { startTestSimulator, type TestSimulator } from '../../support/simulator.js';

let t: TestSimulator;
beforeAll(async () => {
  t = await startTestSimulator();
});
afterAll(() => t.close());
beforeEach(() => {
  t.sim.reset();
  t.sim.setDials({ faults: NO_FAULTS, rateCapPerSecond: 0, latencyMs: 0, authPendingShare: 0 });
});

/** A CSV file of `lines` (the header first) in a folder of its own. */
function writeInput(lines: readonly string[]): string {
  const file = join(mkdtempSync(join(tmpdir(), 'reachscan-counts-')), 'input.csv');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

const online = { connectivity: ['DATA', 'SMS'], connectivityChangedAt: Date.now() - 3_600_000 };
const device = (number: string, state: unknown) => t.sim.setDevice(number, parseDeviceState(state));

describe.each<ProviderName>(['identity-insights', 'device-status'])('roaming by country (%s)', (provider) => {
  it('counts a device on a multi-country MCC once, in one group; the groups add up to the roaming count', async () => {
    const french = { mcc: 340, countries: ['BL', 'GF', 'GP', 'MF', 'MQ'] };
    device('+447400300001', { ...online, roaming: french });
    device('+447400300002', { ...online, roaming: french });
    device('+447400300003', { ...online, roaming: { mcc: 262, countries: ['DE'] } });
    device('+447400300004', online);
    const file = writeInput([
      'id,phone',
      '1,+447400300001',
      '2,+447400300002',
      '3,+447400300003',
      '4,+447400300004',
    ]);
    const run = await runScan(t, [file, '--provider', provider]);
    expect(run.code, run.stderr).toBe(0);
    const report = readReport(run.outDir);
    expect(report.roaming).toMatchObject({
      roaming: 3,
      not_roaming: 1,
      by_country: { 'MCC 340 (BL, GF, GP, MF, MQ)': 2, DE: 1 },
    });
    expect(Object.keys(report.roaming.by_country)).toHaveLength(2);
    expect(run.stdout).toMatch(/^ {2}roaming: 3 \(MCC 340 \(BL, GF, GP, MF, MQ\) 2; DE 1\)$/m);
    const md = readFileSync(join(run.outDir, 'report.md'), 'utf8');
    expect(md).toMatch(/^\| MCC 340 \(BL, GF, GP, MF, MQ\) \| 2 \|/m);
    expect(md).not.toMatch(/^\| (BL|GF|GP|MF|MQ) \|/m);
    const html = readFileSync(join(run.outDir, 'report.html'), 'utf8');
    const bars = [
      ...html.matchAll(/data-chart="roaming-countries" data-label="([^"]*)" data-value="(\d+)"/g),
    ];
    expect(bars.map((m) => [m[1], Number(m[2])])).toEqual([
      ['MCC 340 (BL, GF, GP, MF, MQ)', 2],
      ['DE', 1],
    ]);
  });
});

/** The headline figures of report.html, by name: [value, note]. */
function headline(html: string): Record<string, [number, string]> {
  return Object.fromEntries(
    [...html.matchAll(/data-figure="([^"]+)"><b>(\d+)<\/b>[^<]*<br><span>([^<]*)<\/span>/g)].map((m) => [
      m[1] as string,
      [Number(m[2]), m[3] as string],
    ]),
  );
}

describe('counts that mean what they say, and exit codes', () => {
  const mixed = [
    'id,phone',
    '1,+447400300011',
    '2,not a number',
    '3,+447400300012,one field too many',
    '4,+447400300013',
    '5,',
    '6,+447400300011',
  ];
  const answerAll = () => {
    for (const n of ['+447400300011', '+447400300012', '+447400300013']) device(n, online);
  };

  it('a file of nothing but invalid cells: exit 0 (findings, not failures), 1 with --strict', async () => {
    const file = writeInput(['id,phone', '1,not a number', '2,', '3,4.47911E+11']);
    const run = await runScan(t, [file]);
    expect(run.code, run.stderr).toBe(0);
    expect(readReport(run.outDir)).toMatchObject({
      rows: { total: 3, valid: 0, invalid: 3 },
      invalid_numbers: 3,
      malformed_records: 0,
      lookups_failed: 0,
      reachability: { reachable: 0, not_reachable: 0, unknown: 0 },
    });
    expect(t.sim.stats().requests).toBe(0);
    const strict = await runScan(t, [file, '--strict']);
    expect(strict.code, strict.stderr).toBe(1);
    expect(strict.stdout).toMatch(/^3 rows → /m); // the outputs are written all the same
  });

  it('valid, invalid and malformed rows mixed: exact counts, shares of the numbers asked, exit 0', async () => {
    answerAll();
    const run = await runScan(t, [writeInput(mixed)]);
    expect(run.code, run.stderr).toBe(0);
    const report = readReport(run.outDir);
    expect(report).toMatchObject({
      rows: { total: 5, valid: 3, invalid: 2, duplicate: 1, rejected: 1 },
      unique_numbers: 2,
      invalid_numbers: 2,
      malformed_records: 1,
      lookups_failed: 0,
      rows_in_error: 2,
      reachability: { reachable: 3, not_reachable: 0, unknown: 0 },
      roaming: { roaming: 0, not_roaming: 3, unknown: 0 },
    });
    expect(run.stdout).toMatch(/^ {2}numbers: 3 valid .*, 2 invalid, 1 malformed record → rejects\.csv$/m);
    expect(run.stdout).toMatch(/^ {2}lookups failed: 0; report: /m);
    expect(run.stdout).not.toMatch(/in error/);
    // Every number asked answered reachable: 100%, not 3 of 5 rows.
    const md = readFileSync(join(run.outDir, 'report.md'), 'utf8');
    expect(md).toMatch(/^\| reachable \| 3 \| 100\.0% \|$/m);
    expect(md).toContain('1 record rejected as malformed CSV (rejects.csv); 0 lookups failed');
    expect(md).not.toMatch(/in error/);
    const figures = headline(readFileSync(join(run.outDir, 'report.html'), 'utf8'));
    expect(figures).toMatchObject({
      reachable: [3, '100.0%'],
      'lookups failed': [0, expect.any(String)],
      'invalid numbers': [2, '1 malformed record (rejects.csv)'],
    });
    expect(figures['in error']).toBeUndefined();
    expect((await runScan(t, [writeInput(mixed), '--strict'])).code).toBe(1);
  });

  it('a lookup that fails after its retries: counted apart, exit 1', async () => {
    answerAll();
    t.sim.script(
      '+447400300013',
      Array.from({ length: 10 }, () => ({ status: 503, body: {} })),
    );
    const run = await runScan(t, [writeInput(mixed)]);
    expect(run.code, run.stderr).toBe(1);
    expect(readReport(run.outDir)).toMatchObject({
      invalid_numbers: 2,
      malformed_records: 1,
      lookups_failed: 1,
      rows_in_error: 3,
      reachability: { reachable: 2, not_reachable: 0, unknown: 1 },
    });
    expect(run.stdout).toMatch(/^ {2}lookups failed: 1; report: /m);
    expect(t.sim.stats().byNumber['+447400300013']).toBe(5); // the chunk's attempts, all spent
  });

  it('every lookup failing (the carrier answers 503 to all): exit 1, every valid row counted as failed', async () => {
    t.sim.setDials({ faults: { ...NO_FAULTS, http503: 1 } });
    const run = await runScan(t, [writeInput(['id,phone', '1,+447400300021', '2,+447400300022', '3,bad'])]);
    expect(run.code, run.stderr).toBe(1);
    expect(readReport(run.outDir)).toMatchObject({ lookups_failed: 2, invalid_numbers: 1, rows_in_error: 3 });
    expect(t.sim.stats().faults.http503).toBe(10); // 5 attempts each
  });
});
