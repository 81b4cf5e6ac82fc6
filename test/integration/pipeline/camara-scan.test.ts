import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Env } from '../../../src/config/env.js';
import { NO_FAULTS, type CamaraErrorCode } from '../../../src/simulator/index.js';
import { readCsv, runScan } from '../../support/scan.js';
import { startTestSimulator, type TestSimulator } from '../../support/simulator.js';

let t: TestSimulator;
beforeAll(async () => {
  t = await startTestSimulator();
});
afterAll(() => t.close());
beforeEach(() => {
  t.sim.reset();
  t.sim.setDials({
    faults: NO_FAULTS,
    camaraError: null,
    camaraErrorApi: 'both',
    refuseCombinedScopes: false,
  });
});

function input(count: number): string {
  const path = join(mkdtempSync(join(tmpdir(), 'reachscan-camara-')), 'numbers.csv');
  const lines = Array.from({ length: count }, (_, i) => `${i},+4474${String(i).padStart(8, '0')}`);
  writeFileSync(path, ['id,phone', ...lines].join('\n'));
  return path;
}

/** The CAMARA_* settings of a mode, as the string record runScan takes. */
function env(mode: 'client-credentials' | 'ciba' | 'api-key', extra: Env = {}): Record<string, string> {
  return Object.fromEntries(
    Object.entries(t.camaraEnv(mode, extra)).filter((e): e is [string, string] => e[1] !== undefined),
  );
}

describe('scan --provider camara', () => {
  it.each(['client-credentials', 'api-key', 'ciba'] as const)(
    '%s: every row answered, exit 0',
    async (mode) => {
      const run = await runScan(t, [input(40), '--provider', 'camara', '--concurrency', '8'], env(mode));
      expect(run.code, run.stderr).toBe(0);
      const rows = readCsv(join(run.outDir, 'results.csv'));
      expect(rows).toHaveLength(40);
      expect(rows.every((r) => r.request_id !== '' && r.source === 'simulated')).toBe(true);
      const perNumber = mode === 'ciba' ? 4 : 2;
      expect(Object.values(t.sim.stats().byNumber).every((n) => n <= perNumber)).toBe(true);
    },
  );

  it.each([
    [
      'QUOTA_EXCEEDED',
      /paused: the operator's quota is used up \(HTTP 429 QUOTA_EXCEEDED: .*\); paused: once the quota is renewed, run reachscan resume [0-9a-f]{24}/,
    ],
    [
      'UNNECESSARY_IDENTIFIER',
      /paused: the operator refuses a device named in the request, so its token is three-legged: check CAMARA_AUTH \(ciba\) \(HTTP 422 UNNECESSARY_IDENTIFIER.*; paused: fix the cause, then run reachscan resume/,
    ],
    ['PERMISSION_DENIED', /paused: the token lacks the scope .*HTTP 403 PERMISSION_DENIED/],
  ] as const)(
    '%s pauses the batch with its reason, asks nothing more, and a resume finishes it',
    { timeout: 60_000 },
    async (code: CamaraErrorCode, reason) => {
      t.sim.setDials({ camaraError: code });
      const file = input(200);
      const prefix = `test-${randomUUID()}`;
      const settings = { ...env('client-credentials'), REACHSCAN_QUEUE_PREFIX: prefix };
      const args = [file, '--provider', 'camara', '--concurrency', '4', '--chunk-size', '20'];
      const paused = await runScan(t, args, settings, { stopWhen: (stderr) => / paused: /.test(stderr) });
      expect(paused.stderr).toMatch(reason);
      const batchId = /batch ([0-9a-f]{24}) paused/.exec(paused.stderr)?.[1] ?? '';
      // Never retried in a loop: the calls in flight when it paused, not 200 numbers × 5 attempts.
      await sleep(1_000);
      const atPause = t.sim.stats().requests;
      expect(atPause).toBeLessThan(40);
      await sleep(1_500);
      expect(t.sim.stats().requests).toBe(atPause);

      t.sim.setDials({ camaraError: null });
      const resumed = await runScan(t, [batchId], settings, { command: 'resume' });
      expect(resumed.code, resumed.stderr).toBe(0);
      const done = await runScan(t, args, settings);
      expect(done.code, done.stderr).toBe(0);
      const rows = readCsv(join(done.outDir, 'results.csv'));
      expect(rows).toHaveLength(200);
      // The refused calls were not written down as the rows' answers.
      expect(rows.filter((r) => r.reachability_status === code)).toEqual([]);
    },
  );

  it('a 401 to a fresh token stops the batch: one line, exit 3', async () => {
    t.sim.setDials({ camaraError: 'UNAUTHENTICATED' });
    const run = await runScan(
      t,
      [input(300), '--provider', 'camara', '--concurrency', '4'],
      env('client-credentials'),
    );
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(
      /refused our credentials \(HTTP 401: the operator refuses a freshly issued access token\)/,
    );
    expect(t.sim.stats().requests).toBeLessThan(60); // the calls in flight, not 300 numbers × 2 calls
  });

  it('missing CAMARA settings stop the scan before anything is queued, naming each', async () => {
    const run = await runScan(t, [input(3), '--provider', 'camara'], {
      CAMARA_AUTH: 'ciba',
      CAMARA_CLIENT_SECRET: 'hush-hush-123',
    });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('CAMARA_API_BASE_URL is not set');
    expect(run.stderr).toContain('CAMARA_AUTHORIZE_URL is not set');
    expect(run.stderr).not.toContain('hush-hush-123');
    expect(t.sim.stats().requests).toBe(0);
  });
});
