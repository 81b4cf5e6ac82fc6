/// <reference lib="dom" />
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HISTOGRAM_SIZE } from '../../../src/output/report-histogram.js';
import { dayAnchor, NO_FAULTS, parseDeviceState } from '../../../src/simulator/index.js';
import { chromiumPath } from '../../support/chromium.js';
import { readReport, runScan, type ScanRun } from '../../support/scan.js';
import { startTestSimulator, type TestSimulator } from '../../support/simulator.js';

const DAY = 86_400_000;

/**
 * Three nightly runs of one fleet under one label: the third report shows a trend of the three, with the
 * figures each run had, and the longest gaps name each number's customer once.
 */
describe('report for a manager: --id-columns and the trend of a --label', () => {
  const start = dayAnchor(Date.now());
  let fake = { base: start + DAY / 2, real: Date.now() };
  const clock = () => fake.base + (Date.now() - fake.real);
  const setDay = (n: number) => {
    fake = { base: start + n * DAY + DAY / 2, real: Date.now() };
  };
  const dayIso = (n: number) => new Date(start + n * DAY).toISOString();

  const N = {
    R1: '+447400300001',
    R2: '+447400300002', // reachable, offline from day 15
    R3: '+447400300003', // reachable, offline from day 1
    O3: '+447400300004', // offline 3 days before day 0
    O10: '+447400300005',
    O45: '+447400300006', // stale (60+) by day 20
    O100: '+447400300007', // on two rows, two customers
    O400: '+447400300008', // back on day 1
  } as const;
  const online = (since: number) => ({ connectivity: ['DATA', 'SMS'], connectivityChangedAt: dayIso(since) });
  const offline = (since: number) => ({ connectivity: [], connectivityChangedAt: dayIso(since) });

  let t: TestSimulator;
  let file: string;
  const env = { REACHSCAN_STATE_PREFIX: `{test-trend-${randomUUID()}}:` };
  const device = (number: string, state: unknown) =>
    t.sim.setDevice(number, parseDeviceState(state, clock()));
  const scan = (extra: string[] = [], scanEnv = env) => runScan(t, [file, ...extra], scanEnv, { clock });
  const labelled = ['--label', 'fleet', '--id-columns', 'name,customer_id'];

  beforeAll(async () => {
    t = await startTestSimulator({ clock });
    t.sim.setDials({ faults: NO_FAULTS, rateCapPerSecond: 0, latencyMs: 0, authPendingShare: 0 });
    file = join(mkdtempSync(join(tmpdir(), 'reachscan-trend-')), 'fleet.csv');
    const rows = Object.entries(N).map(([id, n], i) => `C${i + 1},${id} Ltd,${n},gold`);
    rows.push(`C9,Second owner of O100,${N.O100},silver`);
    writeFileSync(file, ['customer_id,name,msisdn,segment', ...rows].join('\n'));
  });
  afterAll(() => t.close());

  it('refuses an --id-columns name the file does not have (exit 2), naming it and the columns', async () => {
    const run = await scan(['--id-columns', 'name,acount']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      'fleet.csv has no column named "acount"; its columns are "customer_id", "name", "msisdn", "segment"',
    );
    expect(run.stderr).toContain('--id-columns');
    expect(existsSync(join(run.outDir, 'report.json'))).toBe(false);
  });

  it('without --label: no trend, and the first two columns that are not the phone column', async () => {
    setDay(-30);
    for (const n of Object.values(N)) device(n, online(-40));
    const run = await scan([], { REACHSCAN_STATE_PREFIX: `{test-trend-${randomUUID()}}:` });
    expect(run.code, run.stderr).toBe(0);
    const report = readReport(run.outDir);
    expect(report).toMatchObject({ label: null, trend: [] });
    expect(report.stale.id_columns).toEqual(['customer_id', 'name']);
    expect(readFileSync(join(run.outDir, 'report.html'), 'utf8')).not.toContain('id="trend"');
    expect(run.stdout).not.toContain('trend');
  });

  const runs: ScanRun[] = [];

  it('day 0, 1 and 20 under one label: the third report has a trend of three runs with their figures', async () => {
    setDay(0);
    for (const n of [N.R1, N.R2, N.R3]) device(n, online(-5));
    device(N.O3, offline(-3));
    device(N.O10, offline(-10));
    device(N.O45, offline(-45));
    device(N.O100, offline(-100));
    device(N.O400, offline(-400));
    runs.push(await scan(labelled));

    setDay(1);
    device(N.R3, offline(1));
    device(N.O400, online(1));
    runs.push(await scan(labelled));

    setDay(20);
    device(N.R2, offline(15));
    runs.push(await scan(labelled));
    for (const run of runs) expect(run.code, run.stderr).toBe(0);

    const first = readReport(runs[0]!.outDir);
    expect(first.label).toBe('fleet');
    expect(first.trend).toHaveLength(1);
    expect(readFileSync(join(runs[0]!.outDir, 'report.html'), 'utf8')).toContain(
      'This is the first run labelled “fleet” in the history',
    );

    const third = readReport(runs[2]!.outDir);
    const figures = third.trend.map(
      ({ rows, reachable, not_reachable, unknown, stale, stale_days, changes }) => ({
        rows,
        reachable,
        not_reachable,
        unknown,
        stale,
        stale_days,
        changes,
      }),
    );
    expect(figures).toEqual([
      // R1-R3 reachable; O3, O10, O45, O100 (two rows), O400 not; O100 twice and O400 stale.
      { rows: 9, reachable: 3, not_reachable: 6, unknown: 0, stale: 3, stale_days: 60, changes: 0 },
      // R3 went offline, O400 came back; O400 leaves the stale list.
      { rows: 9, reachable: 3, not_reachable: 6, unknown: 0, stale: 2, stale_days: 60, changes: 2 },
      // R2 went offline; O45 has reached 65 days.
      { rows: 9, reachable: 2, not_reachable: 7, unknown: 0, stale: 3, stale_days: 60, changes: 1 },
    ]);
    expect(third.trend.map((e) => e.started_at)).toEqual(runs.map((r) => readReport(r.outDir).started_at));
    expect(third.trend.at(-1)?.batch_id).toBe(third.batch_id);
    expect(runs[2]!.stdout).toContain(
      'trend "fleet" (last 3 runs): reachable 3 → 3 → 2, not reachable 6 → 6 → 7, stale 3 → 2 → 3',
    );
    const md = readFileSync(join(runs[2]!.outDir, 'report.md'), 'utf8');
    expect(md).toContain('3 runs labelled “fleet”');
    expect(md).toContain('since the run before: reachable −1, not reachable +1, stale +1.');
  });

  it('lists each number once among the longest gaps, after the named columns, in the order named', () => {
    const report = readReport(runs[2]!.outDir);
    expect(report.stale.id_columns).toEqual(['name', 'customer_id']);
    expect(report.stale.top.map((e) => [e.phone_e164, e.ids, e.rows])).toEqual([
      [N.O100, { name: 'O100 Ltd', customer_id: 'C7' }, 2],
      [N.O45, { name: 'O45 Ltd', customer_id: 'C6' }, 1],
    ]);
  });

  it('report.html in Chromium: histogram bars to scale, and the trend of the three runs shown', async () => {
    const report = readReport(runs[2]!.outDir);
    const browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      await page.goto(pathToFileURL(join(runs[2]!.outDir, 'report.html')).href);
      await page.screenshot({ path: join(runs[2]!.outDir, 'report.png'), fullPage: true });

      const bars = await page.$$eval('rect[data-chart="no-connectivity-days"]', (rects) =>
        rects.map((r) => {
          const box = r.getBoundingClientRect();
          return {
            from: Number(r.getAttribute('data-from')),
            to: r.getAttribute('data-to') === '' ? null : Number(r.getAttribute('data-to')),
            rows: Number(r.getAttribute('data-value')),
            x: box.x,
            width: box.width,
            height: box.height,
          };
        }),
      );
      expect(bars.map((b) => b.rows)).toEqual(report.no_connectivity_days.map((b) => b.rows));
      expect(bars.filter((b) => b.rows > 0).length).toBeGreaterThan(2);
      const closed = bars.filter((b) => b.to !== null);
      // Widths: the day axis is one scale; each bar spans its days on it, side by side.
      const axisDays = closed.at(-1)!.to! + 1;
      const pxPerDay = (closed.at(-1)!.x + closed.at(-1)!.width - closed[0]!.x) / axisDays;
      expect(pxPerDay * axisDays).toBeCloseTo(HISTOGRAM_SIZE.plotWidth, 0);
      for (const b of closed) {
        expect(b.width, `width of ${b.from}–${b.to}`).toBeCloseTo((b.to! - b.from + 1) * pxPerDay, 1);
        expect(b.x - closed[0]!.x, `start of ${b.from}`).toBeCloseTo(b.from * pxPerDay, 1);
      }
      const short = closed.find((b) => b.from === 0)!;
      const long = closed.find((b) => b.from === 180)!;
      expect(long.width / short.width).toBeCloseTo(185 / 7, 1);
      // Heights: rows, the tallest bar the plot's height.
      const most = Math.max(...bars.map((b) => b.rows));
      for (const b of bars)
        expect(b.height, `height of ${b.from}`).toBeCloseTo((HISTOGRAM_SIZE.plotHeight * b.rows) / most, 1);
      // The open bucket has no span: a fixed width past the axis.
      const open = bars.find((b) => b.to === null)!;
      expect(open.width).toBeCloseTo(HISTOGRAM_SIZE.openWidth, 1);
      expect(open.x).toBeGreaterThan(closed.at(-1)!.x + closed.at(-1)!.width);

      const trend = page.locator('#trend-runs');
      expect(await trend.isVisible()).toBe(true);
      const rows = await page.$$eval('#trend-runs tbody tr', (trs): string[][] =>
        trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent ?? '')),
      );
      expect(rows.map((r) => r.slice(1))).toEqual([
        ['9', '2', '7', '3', '1'],
        ['9', '3', '6', '2', '2'],
        ['9', '3', '6', '3', '0'],
      ]);
      expect(rows[0]![0]).toMatch(/^\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} UTC \(this run\)$/);
      expect(await page.locator('#trend').textContent()).toBe('Trend');
    } finally {
      await browser.close();
    }
  });
});
