import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_FAULTS } from '../../../src/simulator/index.js';
import { withLocalPage } from '../../support/chromium.js';
import { readCsv, readReport, runScan, type ScanRun } from '../../support/scan.js';
import { startTestSimulator, type TestSimulator } from '../../support/simulator.js';

const BANNER = 'Simulated carrier — not real data';

let t: TestSimulator;
beforeAll(async () => {
  t = await startTestSimulator();
  t.sim.setDials({ faults: NO_FAULTS, rateCapPerSecond: 0, latencyMs: 0, authPendingShare: 0 });
});
afterAll(() => t.close());

/** What a browser shows of the banner: whether it is visible, its text, and whether it is above the title. */
async function bannerIn(outDir: string) {
  return withLocalPage(join(outDir, 'report.html'), async (page: Page) => {
    const banner = page.locator('#simulated-banner');
    if ((await banner.count()) === 0) return null;
    const [box, title] = await Promise.all([banner.boundingBox(), page.locator('h1').boundingBox()]);
    return {
      visible: await banner.isVisible(),
      text: await banner.innerText(),
      aboveTitle: box !== null && title !== null && box.y + box.height <= title.y,
      atTop: box !== null && box.y < 100,
    };
  });
}

/** `reachscan report` on a results file, into a fresh folder: its exit code and the folder. */
async function rebuild(results: string): Promise<{ code: number; stderr: string; outDir: string }> {
  const outDir = mkdtempSync(join(tmpdir(), 'reachscan-rebuilt-'));
  const run = await runScan(t, [results, '--out', outDir], {}, { command: 'report' });
  return { code: run.code, stderr: run.stderr, outDir };
}

describe('say where answers come from', () => {
  let simulated: ScanRun;

  it('a run on the built-in simulator: a banner at the top of report.html and report.md, simulated: true', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'reachscan-banner-')), 'in.csv');
    writeFileSync(file, 'id,phone\n1,+447400400001\n2,+447400400002\n3,not a number\n');
    simulated = await runScan(t, [file]);
    expect(simulated.code, simulated.stderr).toBe(0);
    expect(readReport(simulated.outDir)).toMatchObject({
      simulated: true,
      source: { live: 0, cache: 0, simulated: 2 },
    });
    const md = readFileSync(join(simulated.outDir, 'report.md'), 'utf8');
    expect(md.split('\n')[0]).toMatch(new RegExp(`^> \\*\\*${BANNER}\\*\\*: 2 of the answers`));
    expect(await bannerIn(simulated.outDir)).toEqual({
      visible: true,
      text: expect.stringContaining(BANNER),
      aboveTitle: true,
      atTop: true,
    });
  });

  it('reachscan report shows it when the rows say simulated, and not when they do not', async () => {
    const results = join(simulated.outDir, 'results.csv');
    const again = await rebuild(results);
    expect(again.code, again.stderr).toBe(0);
    expect(readReport(again.outDir)).toMatchObject({ simulated: true, source: { simulated: 2 } });
    expect(await bannerIn(again.outDir)).toMatchObject({ visible: true, aboveTitle: true });
    expect(readFileSync(join(again.outDir, 'report.md'), 'utf8')).toContain(BANNER);

    // The same rows, as a carrier's answers would be written.
    const real = join(mkdtempSync(join(tmpdir(), 'reachscan-real-')), 'results.csv');
    writeFileSync(real, readFileSync(results, 'utf8').replaceAll(',simulated,', ',live,'));
    expect(readCsv(real).map((r) => r.source)).toEqual(['live', 'live', '']);
    const live = await rebuild(real);
    expect(live.code, live.stderr).toBe(0);
    expect(readReport(live.outDir)).toMatchObject({
      simulated: false,
      source: { live: 2, cache: 0, simulated: 0 },
    });
    expect(await bannerIn(live.outDir)).toBeNull();
    const md = readFileSync(join(live.outDir, 'report.md'), 'utf8');
    expect(md).not.toContain(BANNER);
    expect(md.startsWith('# reachscan report')).toBe(true);
  });
});
