import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { chromium, type Page } from 'playwright-core';

/**
 * The system's Chromium (Debian's `chromium` package; no browser is downloaded). CHROMIUM_PATH overrides.
 * Throws with the way to get one: a test that needs a browser must not pass without one.
 */
export function chromiumPath(): string {
  const given = process.env.CHROMIUM_PATH;
  if (given !== undefined && given !== '') return given;
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      const path = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
      if (path !== '' && existsSync(path)) return path;
    } catch {
      // not this one
    }
  }
  throw new Error(
    'no Chromium found: install Debian\'s "chromium" package (apt-get install chromium) or set CHROMIUM_PATH',
  );
}

/** Opens a local file (a report.html) in headless Chromium, hands the page to `use`, and closes the browser. */
export async function withLocalPage<T>(file: string, use: (page: Page) => Promise<T>): Promise<T> {
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    await page.goto(pathToFileURL(file).href);
    return await use(page);
  } finally {
    await browser.close();
  }
}
