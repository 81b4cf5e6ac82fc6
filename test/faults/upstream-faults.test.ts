import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterEach, describe, expect, it } from 'vitest';
import { createThrowawayApplication } from '../../src/simulator/index.js';
import { startFaultCase, type FaultCase } from './harness.js';
import { reasonLines } from '../support/stderr-lines.js';

/** What the carrier does wrong in each case, and what every row must come to anyway. */
let fc: FaultCase | null = null;
afterEach(async () => {
  await fc?.close();
  fc = null;
});

function results(outDir: string): Record<string, string>[] {
  return parse<Record<string, string>>(readFileSync(join(outDir, 'results.csv')), { columns: true });
}

/**
 * Every row is answered, or ends with an error status after all its attempts: no row is left without
 * either, and a row in error was really asked 5 times (the chunk's attempts).
 */
function expectAnsweredOrExhausted(rows: Record<string, string>[], byNumber: Record<string, number>): number {
  let inError = 0;
  for (const row of rows) {
    expect(row.phone_e164).toMatch(/^\+44/);
    if (row.error === '') {
      expect(row.reachability_status, JSON.stringify(row)).not.toMatch(/^ERROR/);
    } else {
      inError++;
      expect(row.reachability_status).toMatch(/^ERROR_(UPSTREAM|TIMEOUT|NETWORK)/);
      expect(byNumber[row.phone_e164 ?? '']).toBe(5);
    }
  }
  return inError;
}

describe('upstream faults: every row ends answered or with a clear error status after its attempts', () => {
  it('10% 5xx, 5% timeouts and 5% dropped connections', async () => {
    fc = await startFaultCase({ simArgs: ['--slow-response-ms', '1500'] });
    await fc.dials({ faults: { http500: 0.05, http503: 0.05, timeout: 0.05, drop: 0.05 } });
    const { path, ids } = fc.input(400);
    const out = join(fc.dir, 'out');
    const started = Date.now();
    const scan = await fc.scan([path, '--out', out, '--chunk-size', '25', '--concurrency', '32'], {
      REACHSCAN_HTTP_TIMEOUT_MS: '400',
    }).done;
    const ms = Date.now() - started;
    expect([0, 1], scan.stderr).toContain(scan.code);

    const figures = fc.account(out, ids);
    expect(figures).toMatchObject({ rowsIn: 400, rowsOut: 400, duplicates: 0, lost: 0, inOrder: true });
    const stats = await fc.stats();
    expect((stats.faults.http500 ?? 0) + (stats.faults.http503 ?? 0)).toBeGreaterThan(20);
    expect(stats.faults.timeout ?? 0).toBeGreaterThan(5);
    expect(stats.faults.drop ?? 0).toBeGreaterThan(5);
    const inError = expectAnsweredOrExhausted(results(out), stats.byNumber);
    // 20% of calls fail: all 5 attempts of one number fail about once in 3,000 numbers.
    expect(inError).toBeLessThanOrEqual(2);
    expect(scan.code).toBe(inError === 0 ? 0 : 1);
    expect(Math.max(...Object.values(stats.byNumber))).toBeLessThanOrEqual(5);
    // 20% is under the breaker's 50%: the batch never paused.
    expect(scan.stderr).not.toContain('paused');
    fc.record({
      case: 'upstream: 10% 5xx, 5% timeouts, 5% drops',
      ...figures,
      ms,
      notes: `${stats.requests} requests for 400 numbers, ${inError} rows in error after 5 attempts`,
    });
  });

  it.each([
    { retryAfter: true, name: 'with Retry-After' },
    { retryAfter: false, name: 'without Retry-After' },
  ])('a 429 storm $name: waits it out without using attempts, nothing lost', async ({ retryAfter, name }) => {
    fc = await startFaultCase();
    await fc.dials({ retryAfter, faults: { http429: 0.15 } });
    const { path, ids } = fc.input(120);
    const out = join(fc.dir, 'out');
    const started = Date.now();
    const scan = await fc.scan([path, '--out', out, '--chunk-size', '25', '--concurrency', '16']).done;
    const ms = Date.now() - started;
    expect(scan.code, scan.stderr).toBe(0);

    const figures = fc.account(out, ids);
    expect(figures).toMatchObject({ rowsIn: 120, rowsOut: 120, duplicates: 0, lost: 0, inOrder: true });
    const stats = await fc.stats();
    const storm = stats.byStatus['429'] ?? 0;
    expect(storm).toBeGreaterThan(5);
    // 429s are waits, not failures: every row answered, none in error.
    const rows = results(out);
    expect(rows.filter((r) => r.error !== '')).toEqual([]);
    expect(expectAnsweredOrExhausted(rows, stats.byNumber)).toBe(0);
    // Every request beyond one per number was a 429 asked again.
    expect(stats.requests).toBe(120 + storm);
    fc.record({
      case: `upstream: 15% 429 storm ${name}`,
      ...figures,
      ms,
      notes: `${storm} 429s, ${stats.requests} requests`,
    });
  });

  it('a 401 stops the batch with one clear line (exit 3), not thousands of row errors', async () => {
    fc = await startFaultCase();
    const stranger = createThrowawayApplication(fc.env.VONAGE_APPLICATION_ID);
    const keyFile = join(fc.dir, 'stranger.key');
    writeFileSync(keyFile, stranger.privateKeyPem, { mode: 0o600 });
    const { path } = fc.input(2_000);
    const out = join(fc.dir, 'out');
    const started = Date.now();
    const scan = await fc.scan([path, '--out', out, '--concurrency', '8'], {
      VONAGE_PRIVATE_KEY_PATH: keyFile,
    }).done;
    const ms = Date.now() - started;
    expect(scan.code).toBe(3);
    const lines = reasonLines(scan.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/stopped: the carrier refused our credentials \(HTTP 401/);
    // It stops at the first refusals, not after asking the 2,000 numbers.
    const stats = await fc.stats();
    expect(stats.requests).toBeLessThan(40);
    fc.record({
      case: 'upstream: 401 (key not known)',
      rowsIn: 2_000,
      rowsOut: 0,
      duplicates: 0,
      lost: 0,
      ms,
      notes: `batch stopped, exit 3, one line; ${stats.requests} requests; no results written (nothing to account)`,
    });
  });
});
