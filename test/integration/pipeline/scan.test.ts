import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { roamingGroup } from '../../../src/core/mcc.js';
import { NO_FAULTS } from '../../../src/simulator/index.js';
import { readCsv, readReport, runScan } from '../../support/scan.js';
import { startTestSimulator, type TestSimulator } from '../../support/simulator.js';

const fixture = (name: string) => join(import.meta.dirname, '..', '..', '..', 'fixtures', name);

let t: TestSimulator;
beforeAll(async () => {
  t = await startTestSimulator();
});
afterAll(() => t.close());
beforeEach(() => {
  t.sim.reset();
  t.sim.setDials({ faults: NO_FAULTS, rateCapPerSecond: 0, latencyMs: 0, retryAfter: true });
});

/** stderr without the lines every run prints: what the scan said about why it stopped. */
const EVERY_RUN = ['started batch', 'using Redis at', 'REACHSCAN_STATE_SECRET is not set'];
const reasonLines = (stderr: string) =>
  stderr
    .trim()
    .split('\n')
    .filter((l) => !EVERY_RUN.some((said) => l.includes(said)));

/** Recomputes report.json's figures from results.csv and the stale file, independently of the report code. */
function recount(outDir: string, staleDays = 60) {
  const rows = readCsv(join(outDir, 'results.csv'));
  const count = (pred: (r: Record<string, string>) => boolean) => rows.filter(pred).length;
  // Each roaming row once, under its group (tested on its own in test/unit/core/mcc.test.ts).
  const byCountry: Record<string, number> = {};
  for (const r of rows) {
    if (r.roaming !== 'true') continue;
    const group = roamingGroup(
      (r.roaming_countries ?? '').split(';'),
      r.roaming_mcc ? Number(r.roaming_mcc) : null,
    );
    byCountry[group] = (byCountry[group] ?? 0) + 1;
  }
  const codes = (col: string) => {
    const out: Record<string, number> = {};
    for (const r of rows) out[r[col] ?? ''] = (out[r[col] ?? ''] ?? 0) + 1;
    return out;
  };
  return {
    rows: {
      total: rows.length,
      valid: count((r) => r.phone_e164 !== ''),
      invalid: count((r) => r.phone_e164 === ''),
      rejected: readCsv(join(outDir, 'rejects.csv')).length,
    },
    unique_numbers: new Set(rows.map((r) => r.phone_e164).filter(Boolean)).size,
    reachability: {
      reachable: count((r) => r.reachable === 'true'),
      not_reachable: count((r) => r.reachable === 'false'),
      unknown: count((r) => r.phone_e164 !== '' && r.reachable === ''),
      data: count((r) => r.reachable === 'true' && (r.connectivity ?? '').split(';').includes('DATA')),
      sms_only: count((r) => r.reachable === 'true' && r.connectivity === 'SMS'),
    },
    roaming: {
      roaming: count((r) => r.roaming === 'true'),
      not_roaming: count((r) => r.roaming === 'false'),
      unknown: count((r) => r.phone_e164 !== '' && r.roaming === ''),
      by_country: byCountry,
    },
    status_counts: { reachability: codes('reachability_status'), roaming: codes('roaming_status') },
    stale_rows: readCsv(join(outDir, `no-connectivity-${staleDays}d.csv`)).length,
    rows_in_error: count((r) => r.error !== ''),
    lookups_failed: count((r) => r.phone_e164 !== '' && r.error !== ''),
  };
}

function expectReportMatchesResults(outDir: string) {
  const report = readReport(outDir);
  const counted = recount(outDir, report.stale.days);
  expect(report.rows).toMatchObject(counted.rows);
  expect(report.rows.duplicate).toBe(counted.rows.valid - counted.unique_numbers);
  expect(report.unique_numbers).toBe(counted.unique_numbers);
  expect(report.reachability).toEqual(counted.reachability);
  expect(report.roaming).toEqual(counted.roaming);
  expect(report.status_counts).toEqual(counted.status_counts);
  expect(report.stale.rows).toBe(counted.stale_rows);
  expect(report.rows_in_error).toBe(counted.rows_in_error);
  expect(report).toMatchObject({
    invalid_numbers: counted.rows.invalid,
    malformed_records: counted.rows.rejected,
    lookups_failed: counted.lookups_failed,
  });
}

/** Each unique valid number was asked exactly once, and nothing else was asked. */
function expectEachNumberAskedOnce(outDir: string) {
  const asked = t.sim.stats().byNumber;
  const numbers = new Set(
    readCsv(join(outDir, 'results.csv'))
      .map((r) => r.phone_e164)
      .filter(Boolean),
  );
  expect(Object.keys(asked).sort()).toEqual([...numbers].sort());
  expect(Object.values(asked).every((n) => n === 1)).toBe(true);
}

describe('scan on messy files', () => {
  it('BOM, semicolons, CRLF and quoted newlines: every record, in order, input columns unchanged', async () => {
    const run = await runScan(t, [fixture('scan/bom-semicolon-crlf.csv')]);
    expect(run.code).toBe(0);
    const rows = readCsv(join(run.outDir, 'results.csv'));
    expect(rows.map((r) => r.id)).toEqual(['1', '2', '3', '4']);
    expect(rows[1]?.comment).toBe('has ; semicolon');
    expect(rows[2]?.comment).toBe('two\r\nlines');
    expect(Object.keys(rows[0] ?? {}).slice(0, 4)).toEqual(['id', 'Mobile Number', 'comment', 'phone_e164']);
    expect(rows.map((r) => r.reachable)).toEqual(['true', 'true', 'true', 'true']);
    expect(rows[3]).toMatchObject({ phone_e164: '+990123400', roaming_countries: 'GB' }); // the duplicate, copied
    expectEachNumberAskedOnce(run.outDir);
    expectReportMatchesResults(run.outDir);
    expect(readReport(run.outDir).rows).toEqual({
      total: 4,
      valid: 4,
      invalid: 0,
      duplicate: 1,
      rejected: 0,
    });
  });

  it('national numbers with a default country, duplicates in any form, invalid and Excel-mangled cells', async () => {
    // One record per chunk: duplicates sit in different chunks, so only the shared claim in Redis dedupes them.
    const run = await runScan(t, [
      fixture('scan/national-gb.csv'),
      '--default-country',
      'GB',
      '--chunk-size',
      '1',
    ]);
    expect(run.code).toBe(0); // invalid numbers are findings about the input, not failed lookups
    const rows = readCsv(join(run.outDir, 'results.csv'));
    expect(rows.map((r) => [r.name, r.phone_e164, r.reachability_status])).toEqual([
      ['a', '+447400123456', expect.any(String)],
      ['b', '+447400123456', expect.any(String)],
      ['c', '+447400123456', expect.any(String)],
      ['d', '+447400123457', expect.any(String)],
      ['e', '+447400123458', expect.any(String)],
      ['f', '', 'INVALID_NUMBER_FORMAT'],
      ['g', '', 'EXCEL_MANGLED'],
      ['h', '', 'INVALID_NUMBER_FORMAT'],
    ]);
    expect(new Set(rows.slice(0, 3).map((r) => JSON.stringify({ ...r, name: '', phone: '' }))).size).toBe(1);
    expectEachNumberAskedOnce(run.outDir);
    expectReportMatchesResults(run.outDir);
    expect(readReport(run.outDir).rows).toEqual({
      total: 8,
      valid: 5,
      invalid: 3,
      duplicate: 2,
      rejected: 0,
    });
  });

  it('broken records go to rejects.csv with line, raw text and reason; the rest goes on', async () => {
    const run = await runScan(t, [fixture('scan/broken-records.csv')]);
    expect(run.code).toBe(0); // malformed records are findings, not failed lookups
    const rows = readCsv(join(run.outDir, 'results.csv'));
    const rejects = readCsv(join(run.outDir, 'rejects.csv'));
    expect(rows.map((r) => r.id)).toEqual(['1', '3', '6']);
    expect(rejects).toEqual([
      { line: '3', raw: '2,+990123411,too,many,fields', reason: 'wrong field count: expected 3, got 5' },
      { line: '5', raw: '4', reason: 'wrong field count: expected 3, got 1' },
      {
        line: '6',
        raw: '5,+990123433,"unclosed',
        reason:
          'quote not closed: the quoted field opened on line 6 never ends; this line is rejected and reading goes on from line 7',
      },
    ]);
    // Every record of the file is accounted for: 3 results + 3 rejects = the 6 lines after the header.
    expect(rows.length + rejects.length).toBe(6);
    expectReportMatchesResults(run.outDir);
  });

  it('neutralises formula cells from the input, leaves numbers alone, and can be told not to', async () => {
    const run = await runScan(t, [fixture('scan/formulas.csv')]);
    const notes = readCsv(join(run.outDir, 'results.csv')).map((r) => r.note);
    expect(notes).toEqual([
      "'=1+1",
      `'=HYPERLINK("http://evil","click")`,
      "'@SUM(A1)",
      "'-3+4",
      '+447911123456',
    ]);
    expect(Object.keys(readCsv(join(run.outDir, 'results.csv'))[0] ?? {})[3]).toBe("'@owner"); // headers too
    const raw = await runScan(t, [fixture('scan/formulas.csv'), '--no-formula-guard', '--bom']);
    const text = readFileSync(join(raw.outDir, 'results.csv'), 'utf8');
    expect(text.charCodeAt(0)).toBe(0xfeff);
    expect(readCsv(join(raw.outDir, 'results.csv')).map((r) => r.note)[0]).toBe('=1+1');
  });

  it('writes the stale list: not reachable for at least --stale-days, with the days', async () => {
    const run = await runScan(t, [
      fixture('crm-export.csv'),
      '--default-country',
      'GB',
      '--stale-days',
      '30',
    ]);
    const stale = readCsv(join(run.outDir, 'no-connectivity-30d.csv'));
    expect(stale.map((r) => r.phone_e164)).toEqual(['+990123444']);
    const elapsedDays =
      (Date.parse(stale[0]?.checked_at ?? '') - Date.parse(stale[0]?.last_status_at ?? '')) / 86_400_000;
    expect(Number(stale[0]?.days_without_connectivity)).toBe(Math.floor(elapsedDays));
    expect(Number(stale[0]?.days_without_connectivity)).toBeGreaterThanOrEqual(75);
    expectReportMatchesResults(run.outDir);
  });

  it('refuses an output folder it cannot write, before asking anything', async () => {
    const run = await runScan(t, [fixture('crm-export.csv'), '--out', '/dev/null/out']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--out /dev/null/out: cannot write there');
    expect(t.sim.stats().requests).toBe(0);
  });

  it('refuses unusable input with one line naming the file, exit 2, before queueing anything', async () => {
    for (const [name, message] of [
      ['scan/empty.csv', 'empty.csv: the file is empty'],
      ['scan/binary.csv', 'binary.csv: a binary file, not CSV text (NUL byte at offset 0)'],
      ['scan/no-phone-column.csv', 'no-phone-column.csv: no phone column found'],
    ] as const) {
      const run = await runScan(t, [fixture(name)]);
      expect(run.code).toBe(2);
      // Besides the "started batch" line, one line says why: not a line per row.
      expect(reasonLines(run.stderr)).toHaveLength(1);
      expect(run.stderr).toContain(message);
    }
    expect(t.sim.stats().requests).toBe(0);
  });
});

describe('scan when the carrier misbehaves', () => {
  const many = (count: number) =>
    ['id,phone', ...Array.from({ length: count }, (_, i) => `${i},+4474${String(i).padStart(8, '0')}`)].join(
      '\n',
    );

  async function writeInput(text: string): Promise<string> {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = join(mkdtempSync(join(tmpdir(), 'reachscan-in-')), 'numbers.csv');
    writeFileSync(path, text);
    return path;
  }

  it('retries 5xx, dropped connections and supplier errors until every row is answered', async () => {
    t.sim.setDials({ faults: { ...NO_FAULTS, http503: 0.15, drop: 0.05, supplierError: 0.05 } });
    const run = await runScan(t, [await writeInput(many(300)), '--chunk-size', '40']);
    const rows = readCsv(join(run.outDir, 'results.csv'));
    expect(rows).toHaveLength(300);
    const stats = t.sim.stats();
    expect(stats.faults.http503).toBeGreaterThan(0);
    // A row ends in error only when all 5 attempts failed (about 1 in 10,000 at these rates): never silently.
    const failed = rows.filter((r) => r.error !== '');
    for (const r of failed) expect(stats.byNumber[r.phone_e164 ?? '']).toBe(5);
    expect(failed.length).toBeLessThanOrEqual(2);
    expect(run.code).toBe(failed.length === 0 ? 0 : 1);
    expect(Math.max(...Object.values(stats.byNumber))).toBeLessThanOrEqual(5); // the chunk's attempts
    expectReportMatchesResults(run.outDir);
  });

  it('ends a number whose failures outlast its attempts with a clear error status, not a lost row', async () => {
    t.sim.script(
      '+447400000007',
      Array.from({ length: 10 }, () => ({ status: 503, body: {} })),
    );
    const run = await runScan(t, [await writeInput(many(20))]);
    expect(run.code).toBe(1);
    const row = readCsv(join(run.outDir, 'results.csv')).find((r) => r.id === '7');
    expect(row).toMatchObject({ reachability_status: 'ERROR_UPSTREAM', error: 'HTTP 503' });
    expect(t.sim.stats().byNumber['+447400000007']).toBe(5);
  });

  it("honours a 429's Retry-After before asking again, without using an attempt", async () => {
    t.sim.script('+447400000003', [{ status: 429, headers: { 'retry-after': '2' }, body: {} }]);
    const started = Date.now();
    const run = await runScan(t, [await writeInput(many(40)), '--concurrency', '2']);
    expect(run.code).toBe(0);
    // The pause holds everyone: the 40 lookups cannot finish before the 2 s the carrier asked for.
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    expect(t.sim.stats().byNumber['+447400000003']).toBe(2); // the 429, then the answer
    expect(t.sim.stats().byStatus['429']).toBe(1);
  });

  it('pauses for 429s and finishes with nothing lost', async () => {
    t.sim.setDials({ rateCapPerSecond: 100 });
    const run = await runScan(t, [await writeInput(many(250))]);
    expect(run.code).toBe(0);
    const rows = readCsv(join(run.outDir, 'results.csv'));
    expect(rows).toHaveLength(250);
    expect(rows.filter((r) => r.error !== '' || (r.reachability_status ?? '').startsWith('ERROR'))).toEqual(
      [],
    );
    expect(t.sim.stats().byStatus['429']).toBeGreaterThan(0);
  });

  it('without --rate, learns the cap from the first 429s and then stays under it', async () => {
    t.sim.setDials({ rateCapPerSecond: 100, latencyMs: 5 });
    const run = await runScan(t, [await writeInput(many(700))], { REACHSCAN_QUEUE_PREFIX: 'learn-cap' });
    expect(run.code).toBe(0);
    const limited = t.sim.stats().byStatus['429'] ?? 0;
    // The first burst meets the cap; after that the learned pace keeps 429s rare (unpaced, every second
    // would bring a burst of them).
    expect(limited).toBeGreaterThan(0);
    expect(limited).toBeLessThan(120);
  });

  it('with --rate under the carrier cap, no 429 at all', async () => {
    t.sim.setDials({ rateCapPerSecond: 60 });
    const started = Date.now();
    const run = await runScan(t, [await writeInput(many(120)), '--rate', '50']);
    expect(run.code).toBe(0);
    expect(t.sim.stats().byStatus['429'] ?? 0).toBe(0);
    expect(Date.now() - started).toBeGreaterThan(2_000); // 120 requests at 50/s take ~2.4 s
  });

  it.each(['identity-insights', 'device-status'])(
    '%s: stops the whole batch on a 401 with one line and exit 3, instead of failing every row',
    async (provider) => {
      const { createThrowawayApplication } = await import('../../../src/simulator/index.js');
      const stranger = createThrowawayApplication(t.app.applicationId);
      const run = await runScan(
        t,
        [await writeInput(many(500)), '--concurrency', '4', '--provider', provider],
        {
          VONAGE_PRIVATE_KEY: stranger.privateKeyPem,
        },
      );
      expect(run.code).toBe(3);
      expect(run.stderr).toMatch(/refused our credentials \(HTTP 401: .*signature does not match/);
      // Besides the "started batch" line, one line says why: not a line per row.
      expect(reasonLines(run.stderr)).toHaveLength(1);
      expect(t.sim.stats().requests).toBeLessThan(20);
    },
  );
});

describe('scan leaves Redis clean', () => {
  it('removes jobs and per-batch keys once the outputs are written, keeping only a short-lived outcome', async () => {
    const run = await runScan(t, [fixture('crm-export.csv'), '--default-country', 'GB']);
    const redis = new Redis(inject('redisUrl'));
    try {
      const keys = await redis.keys(`{${run.prefix}}*`);
      expect(keys.filter((k) => /:(owners|answers)$/.test(k))).toEqual([]);
      expect(keys.filter((k) => /:(chunks|batches):[0-9a-f]{24}(-c\d+)?$/.test(k))).toEqual([]);
      const meta = keys.filter((k) => k.endsWith(':meta') && k.includes(':batch:'));
      expect(meta).toHaveLength(1);
      expect(await redis.ttl(meta[0] as string)).toBeGreaterThan(0);
    } finally {
      await redis.quit();
    }
  });
});
