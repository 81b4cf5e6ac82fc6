import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { BrowserContext, Page } from 'playwright-core';

/** Where the screenshots of each page go, at 1280 px and at phone width. */
export const SHOTS = process.env.CONSOLE_SHOTS_DIR ?? join(tmpdir(), 'console-shots');

/** Every request the context's pages make to another origin than the server's (none allowed). */
export function watchOrigins(context: BrowserContext, origin: string): string[] {
  const outside: string[] = [];
  context.on('request', (request) => {
    const url = new URL(request.url());
    if (url.protocol === 'data:' || url.protocol === 'about:' || url.protocol === 'blob:') return;
    if (url.origin !== origin) outside.push(request.url());
  });
  return outside;
}

/**
 * Screenshots at 1280 px and at phone width. A page that a GET shows again is opened afresh at 390 px (a frame
 * resized in place is not always painted again in headless Chromium); a form's answer is resized in place.
 */
export async function shoot(page: Page, name: string, reopen = true): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}-1280.png`), fullPage: true });
  if (!reopen) {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(SHOTS, `${name}-390.png`), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
    return;
  }
  const phone = await page.context().newPage();
  await phone.setViewportSize({ width: 390, height: 844 });
  await phone.goto(page.url());
  for (const frame of phone.frames()) await frame.waitForLoadState('load');
  // A frame out of view is not painted until it is scrolled to (Chromium throttles it).
  for (const frame of await phone.locator('iframe').all()) await frame.scrollIntoViewIfNeeded();
  await phone.screenshot({ path: join(SHOTS, `${name}-390.png`), fullPage: true });
  await phone.close();
}

/** How far the page is wider than a 390 px phone (0: nothing to scroll sideways); the viewport is put back. */
export async function overflowAtPhoneWidth(page: Page): Promise<number> {
  const before = page.viewportSize();
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (before !== null) await page.setViewportSize(before);
  return overflow;
}

export async function signIn(page: Page, token: string): Promise<void> {
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
}
