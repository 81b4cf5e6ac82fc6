import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

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
