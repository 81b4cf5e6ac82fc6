import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NO_FAULTS } from '../../../src/simulator/index.js';
import { chromiumPath } from '../../support/chromium.js';
import { startTestSimulator, type TestSimulator } from '../../support/simulator.js';
import { overflowAtPhoneWidth, shoot, SHOTS, signIn, watchOrigins } from './console-browser.js';
import {
  call,
  fleetCsv,
  phone,
  reachscan,
  startServe,
  writeTemp,
  type ServeProcess,
} from './serve-process.js';

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

/** serve with the in-process worker, a history of its own (hashed names) and a log that says everything. */
function startPrivateServe(): Promise<ServeProcess> {
  return startServe(t, ['--worker', '--concurrency', '4'], {
    REACHSCAN_STATE_PREFIX: `{console-priv-${randomUUID()}}:`,
    REACHSCAN_STATE_SECRET: randomBytes(24).toString('hex'),
    REACHSCAN_LOG_LEVEL: 'debug',
  });
}

async function signedIn(serve: ServeProcess): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${serve.url}/sign-in`);
  await signIn(page, serve.token);
  await page.getByRole('heading', { name: 'Batches' }).waitFor();
  return page;
}

const upstreamRequests = () => Object.values(t.sim.stats().byNumber).reduce((sum, n) => sum + n, 0);

describe('budgets, purpose and forgetting in the console', () => {
  it(
    'a budget pauses the batch with its reason, Resume with a new budget finishes it; the purpose reaches report.json; a number is forgotten',
    { timeout: 120_000 },
    async () => {
      serve = await startPrivateServe();
      const page = await signedIn(serve);
      const outside = watchOrigins(page.context(), new URL(serve.url).origin);
      const fleet = writeTemp('fleet.csv', fleetCsv(10, 611));

      // A bad budget: the form comes back with the parser's reason and the field marked.
      await page.goto(`${serve.url}/scan`);
      await page.getByLabel('CSV or Excel file').setInputFiles(fleet);
      await page.getByLabel(/^Budget/).fill('lots');
      await page.getByRole('button', { name: 'Scan' }).click();
      const alert = page.getByRole('alert');
      await alert.waitFor();
      expect(await alert.textContent()).toBe(
        'option "budget" must be a number of requests (500) or an amount with its currency (25EUR), got "lots"',
      );
      expect(await page.getByLabel(/^Budget/).getAttribute('aria-invalid')).toBe('true');
      expect(await page.getByLabel(/^Budget/).inputValue()).toBe('lots');
      await shoot(page, 'scan-budget-error', false);
      expect(await overflowAtPhoneWidth(page)).toBe(0);
      expect(upstreamRequests()).toBe(0);

      // 4 requests for 10 numbers (Identity Insights asks once per number): the batch pauses at 4.
      await page.getByLabel('CSV or Excel file').setInputFiles(fleet);
      await page.getByLabel(/^Budget/).fill('4');
      await page.getByLabel(/^Purpose/).fill('CustomerCare');
      await page.getByRole('button', { name: 'Scan' }).click();
      await page.waitForURL(/\/batch\/[0-9a-f]{24}$/);
      const id = new URL(page.url()).pathname.split('/').at(-1) as string;
      await page.getByText('budget reached: 4 of 4 requests spent').waitFor({ timeout: 30_000 });
      expect(await page.locator('[data-field="state"]').textContent()).toBe('paused');
      expect(await page.locator('[data-field="spent"]').textContent()).toBe('4 of 4 requests');
      expect(await page.locator('[data-field="purpose"]').textContent()).toBe('CustomerCare');
      expect(await page.locator('[data-field="eta"]').textContent()).toBe('—');
      expect(upstreamRequests()).toBe(4);
      await shoot(page, 'batch-budget-paused');
      expect(await overflowAtPhoneWidth(page)).toBe(0);

      // A budget in money for a batch without prices: refused, nothing resumed.
      await page.getByLabel(/^New budget/).fill('5EUR');
      await page.getByRole('button', { name: 'Resume' }).click();
      await page.getByRole('alert').waitFor();
      expect(await page.getByRole('alert').textContent()).toBe(
        'option "budget": this batch has no prices (REACHSCAN_PRICES was not set when it started)',
      );
      expect(await page.locator('[data-field="state"]').textContent()).toBe('paused');

      // Raised to 100 requests: it goes on, and is done.
      await page.getByLabel(/^New budget/).fill('100');
      await page.getByLabel(/^New budget/).press('Enter');
      await page.getByText('Resumed.').waitFor();
      await page.getByRole('link', { name: 'report.json' }).waitFor({ timeout: 60_000 });
      expect(await page.locator('[data-field="state"]').first().textContent()).toBe('done');
      expect(await page.locator('[data-field="spent"]').textContent()).toMatch(/^\d+ of 100 requests$/);
      await shoot(page, 'batch-budget-done');
      const report = JSON.parse(readFileSync(join(serve.dataDir, 'batches', id, 'report.json'), 'utf8')) as {
        purpose: string;
        cost: { budget: string; requests: number };
        rows: { total: number };
      };
      expect(report.purpose).toBe('CustomerCare');
      expect(report.cost.budget).toBe('100 requests');
      expect(report.rows.total).toBe(10);

      // The number page shows the purpose of the write, then forgets the number (by keyboard alone).
      const number = phone(611, 3);
      await page.getByRole('link', { name: 'Number', exact: true }).click();
      await page.getByLabel(/Phone number/).fill(number);
      await page.getByRole('button', { name: 'Look up' }).click();
      await page.locator('[data-field="purpose"]').waitFor();
      expect(await page.locator('[data-field="purpose"]').textContent()).toBe('CustomerCare');
      await shoot(page, 'number-held');
      expect(await overflowAtPhoneWidth(page)).toBe(0);
      await page.getByLabel('Yes, erase the history of this number').focus();
      await page.keyboard.press('Space');
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Forget this number');
      await page.keyboard.press('Enter');
      await page.getByText('Forgotten: 1 record erased from the history.').waitFor();
      await page.getByText('The history holds nothing for this number.').waitFor();
      await shoot(page, 'number-forgotten', false);
      expect(await overflowAtPhoneWidth(page)).toBe(0);

      // Looked up again, and asked through the CLI and the API: nothing held.
      await page.goto(`${serve.url}/number?phone=${encodeURIComponent(number)}`);
      await page.getByText('The history holds nothing for this number.').waitFor();
      expect(await page.getByRole('button', { name: 'Forget this number' }).count()).toBe(0);
      const cli = reachscan(['history', number], serve.env);
      expect(await cli.exited, cli.stderr()).toBe(0);
      expect(cli.stdout()).toBe(`${number}: nothing held\n`);
      const api = await call(`${serve.url}/history`, {
        method: 'POST',
        token: serve.token,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ number }),
      });
      expect(api.json()).toEqual({ number, held: false });
      // Its neighbour is still held.
      const neighbour = await call(`${serve.url}/history`, {
        method: 'POST',
        token: serve.token,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ number: phone(611, 4) }),
      });
      expect(neighbour.json()).toMatchObject({ held: true, purpose: 'CustomerCare' });

      expect(outside).toEqual([]);
      await page.context().close();

      // The server's log, at debug level, never held the number (its last digits masked elsewhere are fine).
      const log = serve.stdout() + serve.stderr();
      expect(log).toContain('console: a number was forgotten');
      expect(log).not.toContain(number.slice(1));
      expect(log).not.toContain(number.slice(3));
    },
  );
});

describe('the forget form without a browser', () => {
  it('needs its CSRF token and the ticked box; forgetting twice says nothing was held', async () => {
    const running = await startPrivateServe();
    serve = running;
    const number = phone(612, 1);
    // Something held to forget: a scan of the number, as any batch writes it.
    const upload = await call(`${serve.url}/batches?purpose=Audit`, {
      method: 'POST',
      token: serve.token,
      headers: { 'content-type': 'text/csv' },
      body: `phone\n${number}\n`,
    });
    expect(upload.status).toBe(202);
    const status = upload.json<{ status_url: string }>().status_url;
    await expect
      .poll(async () => (await call(`${running.url}${status}`, { token: running.token })).json().state, {
        timeout: 30_000,
      })
      .toBe('done');

    const session = await browserlessSession(running);
    const post = (body: string, cookie = session.cookies) =>
      call(`${running.url}/number/forget`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
        body,
      });
    const phoneField = `phone=${encodeURIComponent(number)}`;

    expect((await post(`${phoneField}&confirm=yes`)).status).toBe(403);
    const unticked = await post(`_csrf=${encodeURIComponent(session.csrf)}&${phoneField}`);
    expect(unticked.status).toBe(400);
    expect(unticked.text).toContain('Nothing was erased: tick');
    expect(unticked.text).toContain('>Audit<');

    const first = await post(`_csrf=${encodeURIComponent(session.csrf)}&${phoneField}&confirm=yes`);
    expect(first.status).toBe(200);
    expect(first.text).toContain('Forgotten: 1 record erased from the history.');
    const again = await post(`_csrf=${encodeURIComponent(session.csrf)}&${phoneField}&confirm=yes`);
    expect(again.text).toContain('Forgotten: nothing was held (the number was not in the history).');
    const cli = reachscan(['forget', number], running.env);
    expect(await cli.exited, cli.stderr()).toBe(0);
    expect(cli.stdout()).toBe('forgot 0 of 1 number (1 not in the history)\n');
  });
});

/** A console session and a CSRF token, as a browser gets them, through plain requests. */
async function browserlessSession(serve: ServeProcess): Promise<{ cookies: string; csrf: string }> {
  const form = await call(`${serve.url}/sign-in`);
  const csrfCookie = String(form.headers['set-cookie']).split(';')[0] as string;
  const csrf = /name="_csrf" value="([^"]+)"/.exec(form.text)?.[1] as string;
  const signedIn = await call(`${serve.url}/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: csrfCookie },
    body: `_csrf=${encodeURIComponent(csrf)}&token=${serve.token}`,
  });
  const session = String(signedIn.headers['set-cookie']).split(';')[0] as string;
  return { cookies: `${csrfCookie}; ${session}`, csrf };
}
