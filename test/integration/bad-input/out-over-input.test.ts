import { linkSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatorStats } from '../../../src/simulator/stats.js';
import { simulatorEnv } from '../../support/reachscan-process.js';
import { startSimulatorProcess, type SimulatorProcess } from '../../support/simulator-process.js';
import { reachscan } from './cli.js';

/**
 * An --out whose outputs would overwrite the input file: refused with exit 2 and one line before anything is
 * asked (the simulator, a real carrier for the CLI, counts no request), and the file is left as it was.
 */

const INPUT = 'id,phone\n1,+447400000001\n2,+447400000002\n';

let sim: SimulatorProcess;
beforeAll(async () => {
  sim = await startSimulatorProcess();
});
afterAll(async () => {
  await sim.stop();
});

const requests = async () =>
  ((await (await fetch(`${sim.url}/_sim/stats`)).json()) as SimulatorStats).requests;

describe('--out that would overwrite the input', () => {
  it.each([
    ['the input is <out>/rejects.csv', 'rejects.csv', (out: string) => join(out, 'rejects.csv')],
    ['the input is <out>/results.csv', 'results.csv', (out: string) => join(out, 'results.csv')],
    [
      'the input is a hard link to <out>/report.json',
      'report.json',
      (out: string) => {
        const elsewhere = join(mkdtempSync(join(tmpdir(), 'reachscan-link-')), 'customers.csv');
        linkSync(join(out, 'report.json'), elsewhere);
        return elsewhere;
      },
    ],
    [
      'the input is a symbolic link to <out>/changes.csv',
      'changes.csv',
      (out: string) => {
        const elsewhere = join(mkdtempSync(join(tmpdir(), 'reachscan-link-')), 'customers.csv');
        symlinkSync(join(out, 'changes.csv'), elsewhere);
        return elsewhere;
      },
    ],
  ])(
    '%s: exit 2, one line, nothing asked, the file untouched',
    async (_, name, inputOf) => {
      const out = mkdtempSync(join(tmpdir(), 'reachscan-out-over-input-'));
      writeFileSync(join(out, name), INPUT);
      const input = inputOf(out);
      const before = await requests();
      const run = await reachscan(['scan', input, '--out', out, '--default-country', 'GB'], {
        env: simulatorEnv(sim.stdout()),
      });
      expect(run.code, run.stderr).toBe(2);
      expect(run.said).toEqual([
        `${input}: it is ${join(out, name)}, which this scan's outputs would overwrite; choose another output folder (--out)`,
      ]);
      expect(run.stderr).not.toMatch(/\n\s+at /);
      expect(await requests()).toBe(before);
      expect(readFileSync(join(out, name), 'utf8')).toBe(INPUT);
      expect(readdirSync(out)).toEqual([name]);
    },
    30_000,
  );
});
