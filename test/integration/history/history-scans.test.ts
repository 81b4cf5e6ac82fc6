/// <reference lib="dom" />
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ProviderName } from '../../../src/core/lookup-result.js';
import { numberKey } from '../../../src/history/number-key.js';
import { dayAnchor, NO_FAULTS, parseDeviceState } from '../../../src/simulator/index.js';
import { chromiumPath } from '../../support/chromium.js';
import { readCsv, readReport, runScan, type ScanRun } from '../../support/scan.js';
import { startTestSimulator, type TestSimulator } from '../../support/simulator.js';

const DAY = 86_400_000;

/**
 * Scans of one fleet over simulated days. One clock, moved by the test, drives the pipeline, the carrier
 * client and the simulator; the simulator is told when a device changes state.
 */
describe.each<ProviderName>(['identity-insights', 'device-status'])(
  'history across scans (%s)',
  (provider) => {
    const start = dayAnchor(Date.now());
    let fake = { base: start + DAY / 2, real: Date.now() };
    const clock = () => fake.base + (Date.now() - fake.real);
    /** Midday of day `n` after the start (plus `extraMs`), from now on. */
    const setDay = (n: number, extraMs = 0) => {
      fake = { base: start + n * DAY + DAY / 2 + extraMs, real: Date.now() };
    };
    const dayIso = (n: number) => new Date(start + n * DAY).toISOString();

    const N = {
      A: '+447400200001', // reachable, then offline for good
      B: '+447400200002', // never seen reachable
      C: '+447400200003', // roams in DE, then FR, then comes home
      D: '+447400200004', // home, then roams in the US
      E: '+447400200005', // reachable, then unknown to the network
      F: '+447400200006', // offline, then back
      G: '+447400200007', // offline for 100 days before the first scan, by the carrier's clock
    } as const;
    const online = { connectivity: ['DATA', 'SMS'], connectivityChangedAt: dayIso(-5) };
    const offline = { connectivity: [], connectivityChangedAt: null };

    let t: TestSimulator;
    let file: string;
    const env = { REACHSCAN_STATE_PREFIX: `{test-history-${randomUUID()}}:` };

    const device = (number: string, state: unknown) =>
      t.sim.setDevice(number, parseDeviceState(state, clock()));
    const scan = (extra: string[] = []) =>
      runScan(t, [file, '--provider', provider, ...extra], env, { clock });
    const column = (run: ScanRun, name: string, col: string): Record<string, string> =>
      Object.fromEntries(readCsv(join(run.outDir, name)).map((r) => [r.phone_e164 ?? '', r[col] ?? '']));
    const staleList = (run: ScanRun): Record<string, string> =>
      Object.fromEntries(
        readCsv(join(run.outDir, 'no-connectivity-60d.csv')).map((r) => [
          r.phone_e164 ?? '',
          `${r.days_without_connectivity} ${r.no_connectivity_evidence}`,
        ]),
      );
    const changeList = (run: ScanRun) =>
      readCsv(join(run.outDir, 'changes.csv'))
        .map((r) => `${r.phone_e164} ${r.change}: ${r.before} → ${r.after}`)
        .sort();

    beforeAll(async () => {
      t = await startTestSimulator({ clock });
      t.sim.setDials({ faults: NO_FAULTS, rateCapPerSecond: 0, latencyMs: 0, authPendingShare: 0 });
      const dir = mkdtempSync(join(tmpdir(), 'reachscan-history-'));
      file = join(dir, 'fleet.csv');
      writeFileSync(
        file,
        ['device_id,msisdn', ...Object.entries(N).map(([id, n]) => `${id},${n}`), `A-again,${N.A}`].join(
          '\n',
        ),
      );
    });
    afterAll(() => t.close());

    let day61: ScanRun;

    it('day 0: a first scan has nothing to compare with; only the carrier status time can show a long gap', async () => {
      setDay(0);
      device(N.A, online);
      device(N.B, offline);
      device(N.C, { ...online, roaming: { mcc: 262, countries: ['DE'] } });
      device(N.D, online);
      device(N.E, online);
      device(N.F, offline);
      device(N.G, { connectivity: [], connectivityChangedAt: dayIso(-100) });
      const run = await scan();
      expect(run.code, run.stderr).toBe(0);
      const report = readReport(run.outDir);
      expect(report.changes).toMatchObject({ compared_rows: 0, rows: 0 });
      expect(changeList(run)).toEqual([]);
      // The built-in simulator answered: every row says so.
      expect(column(run, 'results.csv', 'source')).toEqual(
        Object.fromEntries(Object.values(N).map((n) => [n, 'simulated'])),
      );
      // request_id: the id the carrier gave each answer (Identity Insights' request_id, the CAMARA correlator).
      const ids = column(run, 'results.csv', 'request_id');
      const carrierIds = t.sim.stats().requestIds;
      expect(Object.keys(ids).sort()).toEqual(Object.values(N).sort());
      for (const n of Object.values(N)) expect(ids[n], n).toBe(carrierIds[n]);
      expect(new Set(Object.values(ids)).size).toBe(7);
      // Device Status gives no status time: G's 100 days are invisible to it until the history has them.
      expect(staleList(run)).toEqual(provider === 'identity-insights' ? { [N.G]: '100 status_time' } : {});
    });

    it('day 1: every kind of change is found, each against what was last known', async () => {
      setDay(1);
      device(N.A, offline);
      device(N.C, { ...online, roaming: { mcc: 208, countries: ['FR'] } });
      device(N.D, { ...online, roaming: { mcc: 310, countries: ['US'] } });
      device(N.E, { kind: 'unknown-subscriber' });
      device(N.F, { connectivity: ['DATA'], connectivityChangedAt: dayIso(1) });
      const run = await scan();
      expect(run.code, run.stderr).toBe(0);
      expect(changeList(run)).toEqual(
        [
          `${N.A} went_offline: reachable → not reachable`,
          `${N.A} went_offline: reachable → not reachable`, // the duplicate row says it too
          `${N.C} roaming_country_changed: DE → FR`,
          `${N.D} started_roaming: home network → US`,
          `${N.E} became_not_found: known to the network → NOT_FOUND`,
          `${N.F} came_back: not reachable → reachable (DATA)`,
        ].sort(),
      );
      const changesCsv = readCsv(join(run.outDir, 'changes.csv'));
      const d = changesCsv.find((r) => r.phone_e164 === N.D);
      expect(d?.device_id).toBe('D');
      expect(d?.previous_checked_at?.slice(0, 13)).toBe(new Date(start + DAY / 2).toISOString().slice(0, 13));
      expect(d?.checked_at?.slice(0, 13)).toBe(new Date(start + DAY + DAY / 2).toISOString().slice(0, 13));
      const report = readReport(run.outDir);
      expect(report.changes).toMatchObject({
        compared_rows: 8,
        rows: 6,
        by_kind: {
          went_offline: 2,
          came_back: 1,
          started_roaming: 1,
          stopped_roaming: 0,
          roaming_country_changed: 1,
          became_not_found: 1,
        },
      });
      expect(staleList(run)).toEqual(provider === 'identity-insights' ? { [N.G]: '101 status_time' } : {});
    });

    it('day 61: devices without connectivity for 60 days are listed, by status time or by history', async () => {
      setDay(61);
      device(N.C, online);
      day61 = await scan();
      expect(day61.code, day61.stderr).toBe(0);
      expect(changeList(day61)).toEqual([`${N.C} stopped_roaming: FR → home network`]);
      // A was last seen reachable on day 0 and first found unreachable on day 1: proven since day 1, not day 0.
      // B has been seen only unreachable since day 0.
      expect(staleList(day61)).toEqual({
        [N.A]: '60 history',
        [N.B]: '61 history',
        [N.G]: provider === 'identity-insights' ? '161 status_time' : '61 history',
      });
      const stale = readCsv(join(day61.outDir, 'no-connectivity-60d.csv'));
      expect(stale.map((r) => r.device_id)).toEqual(['A', 'B', 'G', 'A-again']);
      expect(column(day61, 'results.csv', 'last_seen_connected_at')[N.A]?.slice(0, 10)).toBe(
        dayIso(0).slice(0, 10),
      );
      expect(column(day61, 'results.csv', 'last_seen_connected_at')[N.B]).toBe('');
      const report = readReport(day61.outDir);
      expect(report.stale).toMatchObject({
        rows: 4,
        evidence:
          provider === 'identity-insights' ? { status_time: 1, history: 3 } : { status_time: 0, history: 4 },
      });
      // Longest gap first; equal gaps in file order; one entry per number (A is on two rows, the first one's
      // device_id shown: the file's first column other than the phone's).
      expect(report.stale.top.map((e) => [e.phone_e164, e.ids, e.rows])).toEqual(
        (provider === 'identity-insights' ? [N.G, N.B, N.A] : [N.B, N.G, N.A]).map((n) => [
          n,
          { device_id: n === N.G ? 'G' : n === N.B ? 'B' : 'A' },
          n === N.A ? 2 : 1,
        ]),
      );
      // Unknown answers never count as "not connected": E has been NOT_FOUND since day 1.
      expect(column(day61, 'results.csv', 'no_connectivity_since')[N.E]).toBe('');
    });

    it('day 61, two hours later, with --max-age 24h: every number comes from the history, nothing is asked', async () => {
      setDay(61, 2 * 3_600_000);
      const plan = await runScan(t, [file, '--provider', provider, '--max-age', '24h', '--json'], env, {
        clock,
        command: 'plan',
      });
      expect(plan.code, plan.stderr).toBe(0);
      expect(JSON.parse(plan.stdout)).toMatchObject({
        rows: 8,
        valid: 8,
        unique: 7,
        cached: 7,
        live: 0,
        upstream_requests: 0,
      });
      const asked = t.sim.stats().requests;
      const run = await scan(['--max-age', '24h']);
      expect(run.code, run.stderr).toBe(0);
      expect(t.sim.stats().requests).toBe(asked);
      expect(new Set(Object.values(column(run, 'results.csv', 'source')))).toEqual(new Set(['cache']));
      // The same answers as the live scan two hours before, checked_at included; nothing "changed".
      const strip = (r: Record<string, string>) => {
        const {
          source: _s,
          changes: _c,
          previous_checked_at: _p,
          previous_roaming_countries: _q,
          request_id: _i, // the carrier's id belongs to the run that asked
          ...rest
        } = r;
        return rest;
      };
      // The history keeps whole seconds.
      const seconds = (r: Record<string, string>) =>
        Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.replace(/T(.*)\.\d{3}Z$/, 'T$1.000Z')]));
      expect(readCsv(join(run.outDir, 'results.csv')).map(strip)).toEqual(
        readCsv(join(day61.outDir, 'results.csv')).map((r) => strip(seconds(r))),
      );
      expect(changeList(run)).toEqual([]);
      expect(staleList(run)).toEqual(staleList(day61));
      expect(readReport(run.outDir).source).toEqual({ live: 0, cache: 8, simulated: 0 });

      // Another provider's answers are not served for this one.
      const other = provider === 'identity-insights' ? 'device-status' : 'identity-insights';
      const otherPlan = await runScan(t, [file, '--provider', other, '--max-age', '24h', '--json'], env, {
        clock,
        command: 'plan',
      });
      expect(JSON.parse(otherPlan.stdout)).toMatchObject({ cached: 0, live: 7 });
    });

    it('keeps each number one compact hash that expires after the retention, and forgets it past that', async () => {
      const redis = new Redis(inject('redisUrl'));
      try {
        // No secret in these runs: the number names its key, in its bucket of the default 64.
        const key = numberKey({ prefix: env.REACHSCAN_STATE_PREFIX, buckets: 64 }, null, N.A);
        expect(await redis.type(key)).toBe('hash');
        const ttlDays = (await redis.ttl(key)) / 86_400;
        expect(ttlDays).toBeGreaterThan(399);
        expect(ttlDays).toBeLessThanOrEqual(400);
        expect(await redis.object('ENCODING', key)).toBe('listpack');
        expect(await redis.hget(key, 'p')).toBe(provider === 'identity-insights' ? 'ii' : 'ds');
      } finally {
        redis.disconnect();
      }
      setDay(61 + 401);
      const plan = await runScan(t, [file, '--provider', provider, '--max-age', '1000d', '--json'], env, {
        clock,
        command: 'plan',
      });
      expect(JSON.parse(plan.stdout)).toMatchObject({ cached: 0, live: 7 });
    });

    it('report.html renders in headless Chromium with the figures of report.json, fetching nothing', async () => {
      const report = readReport(day61.outDir);
      const browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'] });
      try {
        const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
        const fetched: string[] = [];
        const problems: string[] = [];
        page.on('request', (r) => {
          if (!r.url().startsWith('file:')) fetched.push(r.url());
        });
        page.on('console', (m) => {
          if (m.type() === 'error') problems.push(m.text());
        });
        page.on('pageerror', (e) => problems.push(e.message));
        await page.goto(pathToFileURL(join(day61.outDir, 'report.html')).href);
        await page.screenshot({ path: join(day61.outDir, 'report.png'), fullPage: true });

        const bars = await page.$$eval('rect[data-chart]', (rects) =>
          rects.map((r) => {
            const box = r.getBoundingClientRect();
            return {
              chart: r.getAttribute('data-chart') ?? '',
              label: r.getAttribute('data-label') ?? '',
              value: Number(r.getAttribute('data-value')),
              width: box.width,
              height: box.height,
            };
          }),
        );
        const chart = (name: string) =>
          Object.fromEntries(bars.filter((b) => b.chart === name).map((b) => [b.label, b.value]));
        const r = report.reachability;
        expect(chart('connectivity')).toEqual({
          'reachable, with data': r.data,
          'reachable, SMS only': r.sms_only,
          'reachable, other': r.reachable - r.data - r.sms_only,
          'not reachable': r.not_reachable,
          unknown: r.unknown,
        });
        expect(chart('roaming-countries')).toEqual(report.roaming.by_country);
        expect(chart('changes')).toMatchObject({ 'stopped roaming': 1, 'went offline': 0 });
        expect(Object.values(chart('no-connectivity-days'))).toEqual(
          report.no_connectivity_days.map((b) => b.rows),
        );
        expect(chart('no-connectivity-days')['60–89']).toBe(provider === 'identity-insights' ? 3 : 4);

        // Drawn, not just written: each bar's size is proportional to its value within its chart.
        for (const name of ['connectivity', 'roaming-countries', 'changes', 'no-connectivity-days']) {
          const mine = bars.filter((b) => b.chart === name);
          const size = (b: (typeof mine)[number]) => (name === 'no-connectivity-days' ? b.height : b.width);
          const max = Math.max(...mine.map((b) => b.value));
          const longest = Math.max(...mine.map(size));
          expect(longest, name).toBeGreaterThan(40);
          for (const b of mine)
            expect(size(b), `${name} ${b.label}`).toBeCloseTo((longest * b.value) / max, 0);
        }

        const headline = await page.$$eval('#headline .figure', (els): Record<string, string> =>
          Object.fromEntries(
            els.map((e) => [e.getAttribute('data-figure') ?? '', e.querySelector('b')?.textContent ?? '']),
          ),
        );
        expect(headline).toMatchObject({
          rows: String(report.rows.total),
          reachable: String(r.reachable),
          'not reachable': String(r.not_reachable),
          'no connectivity 60+ days': String(report.stale.rows),
          roaming: String(report.roaming.roaming),
          changes: String(report.changes.rows),
        });
        const staleRows = await page.$$eval('#stale-top tbody tr', (trs): string[][] =>
          trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent ?? '')),
        );
        // device_id, number, rows, days: who the number belongs to comes first.
        expect(staleRows.map((row) => row.slice(0, 4))).toEqual(
          report.stale.top.map((e) => [e.ids.device_id, e.phone_e164, String(e.rows), String(e.days)]),
        );
        expect(fetched).toEqual([]);
        expect(problems).toEqual([]);
      } finally {
        await browser.close();
      }
    });

    it('rebuilds the same stale list, changes and figures from results.csv alone', async () => {
      const out = mkdtempSync(join(tmpdir(), 'reachscan-rebuild-'));
      const rebuilt = await runScan(
        t,
        [join(day61.outDir, 'results.csv'), '--out', out],
        {},
        { command: 'report' },
      );
      expect(rebuilt.code, rebuilt.stderr).toBe(0);
      for (const name of ['no-connectivity-60d.csv', 'changes.csv']) {
        expect(readFileSync(join(out, name), 'utf8')).toBe(readFileSync(join(day61.outDir, name), 'utf8'));
      }
      const { batch_id, provider: by, input_file, ...figures } = readReport(out);
      const original = readReport(day61.outDir);
      expect([batch_id, by, input_file]).toEqual([null, null, 'results.csv']);
      for (const key of [
        'rows',
        'unique_numbers',
        'source',
        'reachability',
        'roaming',
        'status_counts',
        'stale',
        'no_connectivity_days',
        'changes',
        'rows_in_error',
        'invalid_numbers',
        'malformed_records',
        'lookups_failed',
        'simulated',
      ] as const) {
        expect(figures[key], key).toEqual(original[key]);
      }
      const other = await runScan(
        t,
        [join(day61.outDir, 'results.csv'), '--out', out, '--stale-days', '100'],
        {},
        {
          command: 'report',
        },
      );
      expect(other.code).toBe(0);
      expect(readCsv(join(out, 'no-connectivity-100d.csv')).map((r) => r.phone_e164)).toEqual(
        provider === 'identity-insights' ? [N.G] : [],
      );

      // A results file of the previous release (without last_seen_connected_at and request_id) still rebuilds.
      const older = join(out, 'older-results.csv');
      const lines = readFileSync(join(day61.outDir, 'results.csv'), 'utf8').trimEnd().split('\n');
      writeFileSync(older, lines.map((l) => l.split(',').slice(0, -2).join(',')).join('\n'));
      const fromOlder = await runScan(t, [older, '--out', join(out, 'older')], {}, { command: 'report' });
      expect(fromOlder.code, fromOlder.stderr).toBe(0);
      const gaps = (dir: string) =>
        readCsv(join(dir, 'no-connectivity-60d.csv')).map(
          (r) => `${r.phone_e164} ${r.days_without_connectivity}`,
        );
      expect(gaps(join(out, 'older'))).toEqual(gaps(day61.outDir));
    });
  },
);
