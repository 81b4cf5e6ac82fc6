import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NO_FAULTS } from '../../../src/simulator/index.js';
import { chromiumPath } from '../../support/chromium.js';
import { startTestSimulator, type TestSimulator } from '../../support/simulator.js';
import { call, startServe, type ServeProcess } from './serve-process.js';
import { SHOTS, shoot, signIn, watchOrigins } from './console-browser.js';

const SAMPLE = resolve('fixtures/crm-export.csv');

let t: TestSimulator;
let browser: Browser;
let serve: ServeProcess | null = null;
beforeAll(async () => {
  t = await startTestSimulator();
  browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'] });
  mkdirSync(SHOTS, { recursive: true });
});
afterAll(async () => {
  await browser.close();
  await t.close();
});
beforeEach(() => {
  t.sim.reset();
  t.sim.setDials({ faults: NO_FAULTS, rateCapPerSecond: 0, latencyMs: 0, retryAfter: true });
});
afterEach(async () => {
  await serve?.stop();
  serve = null;
});

describe('the console in Chromium', () => {
  it(
    'sign in, upload the sample, watch it finish, read the report, download every output, retry, sign out',
    { timeout: 180_000 },
    async () => {
      serve = await startServe(t);
      // Both rows of this number fail every attempt of the first run: the retry then has work to do.
      t.sim.script('+447400123456', Array(5).fill({ status: 503 }));
      const origin = new URL(serve.url).origin;
      const context = await browser.newContext({
        viewport: { width: 1280, height: 900 },
        acceptDownloads: true,
      });
      const page = await context.newPage();
      const outside = watchOrigins(context, origin);

      await page.goto(`${serve.url}/`);
      expect(new URL(page.url()).pathname).toBe('/sign-in');
      await shoot(page, 'sign-in');
      await signIn(page, 'not-the-token-at-all-0000');
      await page.getByRole('alert').waitFor();
      expect(await page.getByRole('alert').textContent()).toContain('not the one this server runs with');
      expect(new URL(page.url()).pathname).toBe('/sign-in');
      expect((await context.cookies()).map((c) => c.name)).not.toContain('reachscan_session');

      await signIn(page, serve.token);
      await page.getByRole('heading', { name: 'Batches' }).waitFor();
      const session = (await context.cookies()).find((c) => c.name === 'reachscan_session');
      expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict' });

      await page.getByRole('link', { name: 'New scan' }).click();
      await page.getByLabel('CSV or Excel file').setInputFiles(SAMPLE);
      await page.getByLabel(/Default country/).fill('GB');
      await shoot(page, 'new-scan', false);
      await page.getByRole('button', { name: 'Scan' }).click();
      await page.waitForURL(/\/batch\/[0-9a-f]{24}$/);
      const id = new URL(page.url()).pathname.split('/').at(-1) as string;

      // The page follows the batch by itself and shows the outputs once it is done.
      await page.getByRole('link', { name: 'report.html' }).waitFor({ timeout: 90_000 });
      expect(await page.locator('[data-field="state"]').first().textContent()).toBe('done');
      const report = page.frameLocator('iframe.report');
      await report.getByText(`Batch ${id}`).first().waitFor();
      await shoot(page, 'batch');

      const folder = join(serve.dataDir, 'batches', id);
      const onDisk = readdirSync(folder).filter(
        (n) => /\.(csv|xlsx|html|md|json)$/.test(n) && n !== 'batch.json',
      );
      const links = await page.locator('ul.files a').allTextContents();
      expect([...links].sort()).toEqual([...onDisk].sort());
      expect(links).toEqual(
        expect.arrayContaining([
          'results.csv',
          'results.xlsx',
          'rejects.csv',
          'no-connectivity-60d.csv',
          'changes.csv',
          'report.html',
          'report.md',
          'report.json',
        ]),
      );
      for (const name of links) {
        const [download] = await Promise.all([
          page.waitForEvent('download'),
          page.getByRole('link', { name, exact: true }).click(),
        ]);
        expect(download.suggestedFilename()).toBe(`crm-export-${name}`);
        const got = readFileSync(await download.path());
        expect(got.equals(readFileSync(join(folder, name))), name).toBe(true);
      }

      await page.getByRole('button', { name: 'Retry rows in error' }).click();
      await page.getByText('The rows in error are being asked again.').waitFor();
      await page.getByText(/Retry of the rows in error: 2 rows, merged/).waitFor({ timeout: 90_000 });
      const results = readFileSync(join(folder, 'results.csv'), 'utf8');
      expect(results).not.toMatch(/\+447400123456,[^\n]*LOOKUP/);
      // The Excel copy follows the merge: the same phone and error cells as results.csv.
      const csvRows: string[][] = parse(results, { bom: true, relax_column_count: true });
      const book = new ExcelJS.Workbook();
      await book.xlsx.readFile(join(folder, 'results.xlsx'));
      const sheet = book.getWorksheet('Results');
      const header = csvRows[0] as string[];
      for (const column of ['phone', 'phone_e164', 'error']) {
        const at = header.indexOf(column);
        const fromXlsx = Array.from(
          { length: csvRows.length },
          (_, i) => sheet?.getRow(i + 1).getCell(at + 1).text ?? '',
        );
        expect(fromXlsx, column).toEqual(csvRows.map((row) => row[at] ?? ''));
      }

      await page.getByRole('link', { name: 'Batches' }).click();
      const row = page.getByRole('row').filter({ hasText: 'crm-export.csv' }).first();
      await row.waitFor();
      expect(await row.textContent()).toContain('done');
      await shoot(page, 'batches');

      await page.getByRole('link', { name: 'Number', exact: true }).click();
      await page.getByLabel(/Phone number/).fill('+44 7400 123457');
      await page.getByRole('button', { name: 'Look up' }).click();
      await page.getByText('Last seen connected').waitFor();
      await shoot(page, 'number');

      await page.getByRole('link', { name: 'Queues' }).click();
      await page.waitForLoadState('networkidle');
      expect(new URL(page.url()).pathname).toMatch(/^\/admin\/queues/);
      await page.goBack();

      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(/\/sign-in$/);
      await page.goto(`${serve.url}/`);
      expect(new URL(page.url()).pathname).toBe('/sign-in');
      expect(outside).toEqual([]);
      await context.close();
    },
  );

  it(
    'a file over 10,000 rows shows its plan first; Scan on the plan starts it',
    { timeout: 120_000 },
    async () => {
      serve = await startServe(t, [], {});
      const rows = Array.from(
        { length: 10_001 },
        (_, i) => `C${i},+4474${String(i % 9000).padStart(8, '0')}`,
      );
      const big = join(tmpdir(), `big-${Date.now()}.csv`);
      writeFileSync(big, `customer,phone\n${rows.join('\n')}\n`);
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const outside = watchOrigins(page.context(), new URL(serve.url).origin);
      await page.goto(`${serve.url}/sign-in`);
      await signIn(page, serve.token);
      await page.goto(`${serve.url}/scan`);
      await page.getByLabel('CSV or Excel file').setInputFiles(big);
      await page.getByLabel(/^Budget/).fill('2000');
      await page.getByLabel(/^Purpose/).fill('Audit');
      await page.getByRole('button', { name: 'Scan' }).click();
      await page.getByRole('heading', { name: /Confirm the scan/ }).waitFor();
      const figures = await page.locator('dl.figures').textContent();
      expect(figures).toContain('Rows10,001');
      expect(figures).toContain('Unique numbers9,000');
      expect(figures).toContain('Upstream requests9,000');
      await shoot(page, 'plan', false);
      await page.getByRole('button', { name: 'Scan' }).click();
      await page.waitForURL(/\/batch\/[0-9a-f]{24}$/);
      await page.getByRole('heading', { name: /^big-/ }).waitFor();
      // The budget and purpose chosen before the plan reach the batch.
      expect(await page.locator('[data-field="purpose"]').textContent()).toBe('Audit');
      const id = new URL(page.url()).pathname.split('/').at(-1) as string;
      const record = JSON.parse(readFileSync(join(serve.dataDir, 'batches', id, 'batch.json'), 'utf8')) as {
        job: { budget?: unknown; purpose?: unknown };
      };
      expect(record.job).toMatchObject({ budget: { unit: 'requests', limit: 2000 }, purpose: 'Audit' });
      expect(outside).toEqual([]);
      await page.close();
    },
  );
});

describe('the console without a browser', () => {
  it('forms need their CSRF token; a session reads the API but never writes to it; pages carry a strict CSP', async () => {
    serve = await startServe(t, []);
    const noCsrf = await call(`${serve.url}/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${serve.token}`,
    });
    expect(noCsrf.status).toBe(403);
    expect(noCsrf.headers['set-cookie'] ?? '').not.toContain('reachscan_session');

    const form = await call(`${serve.url}/sign-in`);
    expect(form.headers['content-security-policy']).toContain("script-src 'self'");
    expect(form.headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(form.text).not.toMatch(/<script>|style="/);
    const csrfCookie = String(form.headers['set-cookie']).split(';')[0] as string;
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form.text)?.[1] as string;
    const signedIn = await call(`${serve.url}/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: csrfCookie },
      body: `_csrf=${encodeURIComponent(csrf)}&token=${serve.token}`,
    });
    expect(signedIn.status).toBe(303);
    const session = String(signedIn.headers['set-cookie']).split(';')[0] as string;
    expect(session).toMatch(/^reachscan_session=[0-9a-f]{64}$/);

    expect((await call(`${serve.url}/batches`, { headers: { cookie: session } })).status).toBe(200);
    const write = await call(`${serve.url}/batches`, {
      method: 'POST',
      headers: { cookie: session, 'content-type': 'text/csv' },
      body: 'phone\n+447700900001\n',
    });
    expect(write.status).toBe(401);
    // Without a session, a page leads to the sign-in page; the API answers 401 as ever.
    const page = await call(`${serve.url}/`);
    expect(page.status).toBe(303);
    expect(page.headers.location).toBe('/sign-in');
    expect((await call(`${serve.url}/batches`)).status).toBe(401);
  });
});
