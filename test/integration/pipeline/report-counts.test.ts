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
