import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterEach, describe, expect, it } from 'vitest';
import { dayAnchor, deviceStateFor } from '../../src/simulator/index.js';
import type { FaultRates } from '../../src/simulator/dials.js';
import { startFaultCase, type FaultCase } from './harness.js';

let fc: FaultCase | null = null;
afterEach(async () => {
  await fc?.close();
  fc = null;
});

interface SetupCase {
  readonly name: string;
  /** How the simulator is started: the fault at 1, as a user would dial it. */
  readonly simArgs: readonly string[];
  /** The dial the test turns off before resuming. */
  readonly fault: keyof FaultRates;
  readonly provider: 'identity-insights' | 'device-status';
  /** The pause reason, up to the command at its end. */
  readonly reason: string;
}

const CASES: readonly SetupCase[] = [
  {
    name: 'Identity Insights UNAUTHORIZED',
    simArgs: ['--fault-unauthorized', '1', '--refused-insights', 'reachability'],
    fault: 'unauthorized',
    provider: 'identity-insights',
    reason:
      'most answers are UNAUTHORIZED: the application is probably not enabled for the reachability insight in this country — check the Network Registry, then',
  },
  {
    name: 'Identity Insights INVALID_PURPOSE',
    simArgs: ['--fault-invalid-purpose', '1'],
    fault: 'invalidPurpose',
    provider: 'identity-insights',
    reason:
      "most answers are INVALID_PURPOSE: the purpose reachscan sends (VONAGE_PURPOSE) is not allowed for this application's reachability and roaming insights — attach it to the application in the Network Registry or set VONAGE_PURPOSE to a purpose the application has, then",
  },
  {
    name: 'Device Status 403 PERMISSION_DENIED',
    simArgs: ['--fault-permission-denied', '1'],
    fault: 'permissionDenied',
    provider: 'device-status',
    reason:
      "most calls are refused with HTTP 403 PERMISSION_DENIED: the application's credentials lack permission for the Device Status connectivity and roaming scopes — check that the application is enabled for Device Status in the Network Registry, then",
  },
  {
    name: 'Identity Insights 422',
    simArgs: ['--fault-422', '1'],
    fault: 'http422',
    provider: 'identity-insights',
    reason:
      'most calls are rejected as malformed (HTTP 422: Bad Request: The request failed due to validation errors.: phone_number: must be in E.164 format, country code first, without 00): the carrier does not accept the request reachscan sends — check --provider, the API version and paths (VONAGE_API_BASE_URL, VONAGE_IDENTITY_INSIGHTS_PATH, VONAGE_DEVICE_STATUS_PATH) and settings such as VONAGE_PURPOSE, then',
  },
];

/** What the simulator answers from each number's own state after the resume: 1 call, or 2 with Device Status. */
function expectedAnswers(
  provider: SetupCase['provider'],
  numbers: readonly string[],
): Record<string, number> {
  if (provider === 'identity-insights') return Object.fromEntries(numbers.map((n) => [n, 1]));
  // Device Status calls the API only for numbers on a supported network whose back-channel auth succeeds.
  const anchor = dayAnchor(Date.now());
  return Object.fromEntries(
    numbers.filter((n) => deviceStateFor(n, 'reachscan', anchor).kind === 'device').map((n) => [n, 2]),
  );
}

describe('setup failures stop the batch', () => {
  it.each(CASES)(
    '$name: pauses with its reason, keeps the refused numbers open, and resume asks each once',
    async (c) => {
      fc = await startFaultCase({ simArgs: [...c.simArgs] });
      const { path, ids, numbers } = fc.input(300);
      const out = join(fc.dir, 'out');
      const started = Date.now();
      const worker = fc.worker(['--concurrency', '16']);
      const scan = fc.scan([
        path,
        '--out',
        out,
        '--no-worker',
        '--provider',
        c.provider,
        '--chunk-size',
        '25',
        '--error-window',
        '60',
      ]);

      await fc.until('the batch paused', () => scan.stderr().includes(' paused: '), 30_000);
      const batchId = /batch ([0-9a-f]{24}) paused: /.exec(scan.stderr())?.[1] ?? '';
      expect(scan.stderr()).toContain(`batch ${batchId} paused: ${c.reason} reachscan resume ${batchId}\n`);
      // The worker says it once, with the same line.
      await fc.until('the worker logged the pause', () => worker.stderr().includes('batch paused'));
      expect(fc.logCount([worker], 'batch paused: too many carrier calls fail')).toBe(1);
      expect(worker.stderr()).toContain(
        `"reason":${JSON.stringify(`${c.reason} reachscan resume ${batchId}`)}`,
      );
      // No full number in either.
      for (const n of numbers) expect(scan.stderr() + worker.stderr()).not.toContain(n.slice(1));

      // Still paused: nothing finalized behind the pause.
      await fc.until('the chunks in flight handed back', async () => (await fc?.activeJobs())?.chunks === 0);
      expect((await fc.progress(batchId))?.state).not.toBe('done');
      // The cause is fixed; one command goes on.
      await fc.dials({ faults: { [c.fault]: 0 } });
      const resume = await fc.run(['resume', batchId]).done;
      expect(resume.code, resume.stderr).toBe(0);
      expect(resume.stdout).toContain(`(it was paused: ${c.reason.split(' — ')[0]})`);
      // The refusals saved before the pause are no answers: those numbers are asked again.
      const reasked = Number(
        /; (\d+) numbers refused before the pause are asked again/.exec(resume.stdout)?.[1],
      );
      expect(reasked).toBeGreaterThan(0);
      const done = await scan.done;
      expect(done.code, done.stderr).toBe(0);

      const figures = fc.account(out, ids);
      expect(figures).toMatchObject({ rowsIn: 300, rowsOut: 300, duplicates: 0, lost: 0, inOrder: true });
      const rows = parse<Record<string, string>>(readFileSync(join(out, 'results.csv')), { columns: true });
      expect(rows.filter((r) => r.error !== '')).toEqual([]);
      // Every number answered from its own state exactly once, all after the resume (none before: the
      // fault refused every call until then).
      const stats = await fc.stats();
      expect(stats.answeredByNumber).toEqual(expectedAnswers(c.provider, numbers));
      worker.child.kill('SIGTERM');
      expect((await worker.done).code).toBe(0);
      fc.record({
        case: `setup failure: ${c.name} → pause, resume`,
        ...figures,
        ms: Date.now() - started,
        notes: `${reasked} refusals asked again, ${stats.requests} requests in all`,
      });
    },
  );

  it('a few UNAUTHORIZED answers among good ones stay those rows answers, without a pause', async () => {
    fc = await startFaultCase({ simArgs: ['--fault-unauthorized', '0.03'] });
    const { path, ids } = fc.input(400);
    const out = join(fc.dir, 'out');
    const started = Date.now();
    const scan = await fc.scan([path, '--out', out, '--chunk-size', '25', '--error-window', '100']).done;
    expect([0, 1]).toContain(scan.code);
    expect(scan.stderr).not.toContain('paused');
    const figures = fc.account(out, ids);
    expect(figures).toMatchObject({ rowsIn: 400, rowsOut: 400, duplicates: 0, lost: 0, inOrder: true });
    const rows = parse<Record<string, string>>(readFileSync(join(out, 'results.csv')), { columns: true });
    const refused = rows.filter((r) => r.reachability_status === 'UNAUTHORIZED');
    // 3% injected, plus the simulator's own 1% of numbers whose operator refuses.
    expect(refused.length).toBeGreaterThan(4);
    expect(refused.length).toBeLessThan(40);
    expect(refused.every((r) => r.roaming_status === 'UNAUTHORIZED' && r.error === '')).toBe(true);
    // Asked once each: nothing was kept open or asked again.
    const stats = await fc.stats();
    expect(stats.requests).toBe(400);
    fc.record({
      case: 'setup failure: 3% UNAUTHORIZED, no pause',
      ...figures,
      ms: Date.now() - started,
      notes: `${refused.length} rows UNAUTHORIZED`,
    });
  });
});
