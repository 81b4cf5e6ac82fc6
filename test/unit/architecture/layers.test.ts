import { join } from 'node:path';
import { ESLint, type Linter } from 'eslint';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ESM config module, without types
import config from '../../../eslint.config.js';
// @ts-expect-error: a plain ESM config module, without types
import { LAYERS } from '../../../eslint.layers.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const layers = LAYERS as Record<string, string[]>;

/** Lints `code` as if it were the file at `path` (relative to the repository), with only the layer rule on. */
async function layerProblems(path: string, code: string): Promise<string[]> {
  const layerConfig = (config as Linter.Config[]).find(
    (entry) => entry.rules?.['boundaries/dependencies'] !== undefined,
  );
  const eslint = new ESLint({
    cwd: ROOT,
    overrideConfigFile: true,
    overrideConfig: [
      { ...layerConfig, languageOptions: { parser: (await import('typescript-eslint')).parser } },
    ],
  });
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, path) });
  return (result?.messages ?? []).map((m) => m.message);
}

describe('layers', () => {
  it('form no cycle: every folder can be placed below the folders that import it', () => {
    const placed = new Set<string>();
    let progress = true;
    while (progress) {
      progress = false;
      for (const [folder, allowed] of Object.entries(layers)) {
        if (!placed.has(folder) && allowed.every((dependency) => placed.has(dependency))) {
          placed.add(folder);
          progress = true;
        }
      }
    }
    expect([...Object.keys(layers)].filter((folder) => !placed.has(folder))).toEqual([]);
  });

  it('lint fails on an upward import, and passes the same import downward', async () => {
    const upward = await layerProblems(
      'src/history/probe.ts',
      "import { ingest } from '../batch/ingest.js';\nexport const probe = ingest;\n",
    );
    expect(upward).toEqual(['history/ may not import batch/ (layers point one way: eslint.layers.js)']);
    const downward = await layerProblems(
      'src/batch/probe.ts',
      "import { StateStore } from '../history/state-store.js';\nexport const probe = StateStore;\n",
    );
    expect(downward).toEqual([]);
  });

  it('keeps the simulator out of production code but the CLI --simulate wiring', async () => {
    const code =
      "import { startSimulator } from '../simulator/index.js';\nexport const probe = startSimulator;\n";
    expect(await layerProblems('src/batch/probe.ts', code)).toHaveLength(1);
    expect(await layerProblems('src/cli/probe.ts', code)).toHaveLength(1);
    const wiring = await layerProblems(
      'src/cli/simulate/probe.ts',
      "import { startSimulator } from '../../simulator/index.js';\nexport const probe = startSimulator;\n",
    );
    expect(wiring).toEqual([]);
  });
});
