import { spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
// On globalThis, not in a module variable: each vitest project loads its global setup through its own module
// runner, so a module-level memo would not be shared, and two builds into dist/ could overlap.
const KEY = Symbol.for('reachscan.test.build');

/** `tsc -p tsconfig.build.json` into dist/, once per test run however many global setups ask for it. */
export function buildOnce(): Promise<void> {
  const shared = globalThis as { [KEY]?: Promise<void> };
  shared[KEY] ??= new Promise<void>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.build.json')],
      { cwd: ROOT, stdio: 'inherit' },
    );
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`tsc -p tsconfig.build.json exited with ${code}`)),
    );
  });
  return shared[KEY];
}
