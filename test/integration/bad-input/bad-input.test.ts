import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, readCsv, readRows, reachscan, scan, type CliRun } from './cli.js';

/**
 * The bad-input catalogue (fixtures/bad-input/README.md): every case through the real CLI, with its exit code,
 * what it says on stderr, and where each record of the file ends up.
 */

const results = (run: CliRun) => readCsv(join(run.outDir, 'results.csv'));
const rejects = (run: CliRun) => readCsv(join(run.outDir, 'rejects.csv'));
const report = (run: CliRun) =>
  JSON.parse(readFileSync(join(run.outDir, 'report.json'), 'utf8')) as {
    rows: { total: number; rejected: number; invalid: number };
  };

/** Every record of the file is in results.csv or rejects.csv, once, and the report counts the same. */
function expectAccounted(run: CliRun, records: number) {
  const rows = readRows(join(run.outDir, 'results.csv')).length;
  const rejected = rejects(run).length;
  expect(rows + rejected).toBe(records);
  expect(report(run).rows).toMatchObject({ total: rows, rejected });
}

/** The one stderr line a scan starts with, naming the file and the phone column. */
const started = (file: string, column = 'phone'): unknown =>
  expect.stringMatching(new RegExp(`^started batch [0-9a-f]{24}: ${file}, phone column "${column}"$`));

const TIMEOUT = 60_000;

describe('bad input that is refused: exit 2, one line naming the file and the reason, nothing written', () => {
  it.each([
    ['empty.csv', 'the file is empty'],
    ['header-only.csv', 'line 1 is the header and no data row follows: nothing to scan'],
    [
      'no-phone-column.csv',
      'no phone column found (looked for phone, mobile, msisdn, cell, tel, number …); the headers are "id", "name", "email"; name it with --column',
    ],
    ['binary.csv', 'a binary file, not CSV text (NUL byte at offset 8)'],
    ['utf16-bom.csv', 'the file is UTF-16 text; save it as UTF-8 (CSV UTF-8 in Excel)'],
    [
      'utf32le-bom.csv',
      'the file is UTF-32 text (little-endian, with a BOM); save it as UTF-8 (CSV UTF-8 in Excel)',
    ],
    [
      'utf32be-bom.csv',
      'the file is UTF-32 text (big-endian, with a BOM); save it as UTF-8 (CSV UTF-8 in Excel)',
    ],
  ])(
    '%s',
    async (name, reason) => {
      const run = await scan(fixture(name));
      expect(run.code, run.stderr).toBe(2);
      expect(run.said).toEqual([`${fixture(name)}: ${reason}`]);
      expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(existsSync(join(run.outDir, 'results.csv'))).toBe(false);
      // `plan` refuses it the same way.
      const plan = await reachscan(['plan', fixture(name)]);
      expect(plan.code, plan.stderr).toBe(2);
      expect(plan.said).toEqual([`${fixture(name)}: ${reason}`]);
    },
    TIMEOUT,
  );
});

describe('bad input that is scanned: every record accounted for', () => {
  it(
    'Latin-1 bytes: read as Windows-1252 with a note naming the line, names kept, exit 0',
    async () => {
      const run = await scan(fixture('latin1.csv'));
      expect(run.code, run.stderr).toBe(0);
      expect(run.said).toEqual([
        started('latin1.csv'),
        `${fixture('latin1.csv')}: line 2: not UTF-8 text (byte 0xE9); the file is read as Windows-1252 (Latin-1), as Excel's plain "CSV" writes it`,
      ]);
      expect(results(run).map((r) => [r.name, r.phone_e164, r.reachability_status])).toEqual([
        ['José', '+990123400', 'OK'],
        ['Müller – GmbH', '+990123411', 'OK'],
        ['Ana', '+990123422', 'OK'],
      ]);
      expectAccounted(run, 3);
    },
    TIMEOUT,
  );

  it(
    "UTF-8 with one line in Windows-1252: the file stays UTF-8 (Zoë kept), that line's bytes are read as Windows-1252 and named, exit 0",
    async () => {
      const run = await scan(fixture('mixed-encoding.csv'));
      expect(run.code, run.stderr).toBe(0);
      expect(run.said).toEqual([
        started('mixed-encoding.csv'),
        `${fixture('mixed-encoding.csv')}: line 5: not UTF-8 text (byte 0xE9); its bytes that are not UTF-8 are read as Windows-1252 (Latin-1), the rest of the file as UTF-8`,
      ]);
      expect(results(run).map((r) => [r.id, r.name, r.phone_e164, r.reachability_status])).toEqual([
        ['1', 'Zoë', '+990123400', 'OK'],
        ['2', 'Zoë Ålund', '+990123411', 'OK'],
        ['3', 'Chloë', '+990123422', 'OK'],
        ['4', 'José Müller', '+990123433', 'OK'],
      ]);
      expectAccounted(run, 4);
    },
    TIMEOUT,
  );

  it(
    'a lone CR inside unquoted fields of a file of LF lines: kept in its field, never a split record, exit 0',
    async () => {
      const run = await scan(fixture('bare-cr.csv'));
      expect(run.code, run.stderr).toBe(0);
      expect(run.said).toEqual([started('bare-cr.csv')]);
      expect(results(run).map((r) => [r.id, r.name, r.phone_e164])).toEqual([
        ['1', 'Jo\rhn', '+990123400'],
        ['2', 'Ann', '+990123411'],
        ['3', "'\rEve", '+990123422'], // a leading CR is guarded like any formula-like cell
      ]);
      // Quoted in the output, so no reader (Excel included) ends the row at the CR.
      expect(readFileSync(join(run.outDir, 'results.csv'), 'utf8')).toContain('\n1,"Jo\rhn",+990123400,');
      expect(rejects(run)).toEqual([]);
      expectAccounted(run, 3);
    },
    TIMEOUT,
  );

  it(
    'CR line ends (old Mac), with a CR inside a quoted field: every record, the quoted CR kept, exit 0',
    async () => {
      const run = await scan(fixture('cr-line-ends.csv'));
      expect(run.code, run.stderr).toBe(0);
      expect(results(run).map((r) => [r.id, r.name, r.phone_e164])).toEqual([
        ['1', 'Ann', '+990123400'],
        ['2', 'Bob\rSmith', '+990123411'],
        ['3', 'Eve', '+990123422'],
      ]);
      expect(readFileSync(join(run.outDir, 'results.csv'), 'utf8')).toContain('\n2,"Bob\rSmith",+990123411,');
      expectAccounted(run, 3);
    },
    TIMEOUT,
  );

  it(
    'unbalanced quotes: the line that opens the quote is rejected, the lines after it are scanned, exit 0 (a finding, not a failure)',
    async () => {
      const run = await scan(fixture('unbalanced-quotes.csv'));
      expect(run.code, run.stderr).toBe(0);
      expect(run.said).toEqual([started('unbalanced-quotes.csv')]);
      expect(results(run).map((r) => [r.id, r.phone_e164])).toEqual([
        ['1', '+990123400'],
        ['3', '+990123422'],
        ['4', '+990123433'],
      ]);
      expect(rejects(run)).toEqual([
        {
          line: '3',
          raw: '2,+990123411,"never closed',
          reason:
            'quote not closed: the quoted field opened on line 3 never ends; this line is rejected and reading goes on from line 4',
        },
      ]);
      expectAccounted(run, 4);
    },
    TIMEOUT,
  );

  it(
    'ragged rows: too few or too many fields go to rejects.csv with line and reason, exit 0',
    async () => {
      const run = await scan(fixture('ragged-rows.csv'));
      expect(run.code, run.stderr).toBe(0);
      expect(results(run).map((r) => r.id)).toEqual(['1', '4', '6']);
      expect(rejects(run)).toEqual([
        { line: '3', raw: '2,+990123411', reason: 'wrong field count: expected 3, got 2' },
        { line: '4', raw: '3,+990123422,ok,extra,fields', reason: 'wrong field count: expected 3, got 5' },
        { line: '6', raw: '5', reason: 'wrong field count: expected 3, got 1' },
      ]);
      expectAccounted(run, 6);
    },
    TIMEOUT,
  );

  it(
    'CRLF line ends, with a CRLF inside a quoted field: every record, exit 0',
    async () => {
      const run = await scan(fixture('crlf.csv'));
      expect(run.code, run.stderr).toBe(0);
      expect(results(run).map((r) => [r.id, r.note, r.reachability_status])).toEqual([
        ['1', 'a', 'OK'],
        ['2', 'two\r\nlines', 'OK'],
        ['3', 'c', 'OK'],
      ]);
      expectAccounted(run, 3);
    },
    TIMEOUT,
  );

  it(
    'mixed delimiters: lines in another delimiter are rejected with a reason that says so, exit 0',
    async () => {
      const run = await scan(fixture('mixed-delimiters.csv'));
      expect(run.code, run.stderr).toBe(0);
      expect(results(run).map((r) => [r.id, r.note])).toEqual([
        ['1', 'a'],
        ['3', 'c, with a comma'],
        ['5', 'e'],
      ]);
      expect(rejects(run)).toEqual([
        {
          line: '3',
          raw: '2,+990123411,b',
          reason:
            'wrong field count: expected 3, got 1; this line seems to be separated by "," where the file uses ";"',
        },
        {
          line: '5',
          raw: '4|+990123433|d',
          reason:
            'wrong field count: expected 3, got 1; this line seems to be separated by "|" where the file uses ";"',
        },
      ]);
      expectAccounted(run, 5);
    },
    TIMEOUT,
  );

  it(
    'numbers with extensions: the extension is dropped, the number asked, exit 0',
    async () => {
      const run = await scan(fixture('extensions.csv'));
      expect(run.code, run.stderr).toBe(0);
      expect(results(run).map((r) => [r.phone, r.phone_e164, r.reachability_status])).toEqual([
        ["'+44 7400 123456 ext. 123", '+447400123456', 'OK'], // not a plain number: guarded like any cell
        ['07400 123457 x45', '+447400123457', 'OK'],
        ["'+44 7400 123458;ext=9", '+447400123458', 'OK'],
        ["'+44 7400 123459 #12", '+447400123459', 'OK'],
        ['+990123400', '+990123400', 'OK'],
      ]);
      expectAccounted(run, 5);
    },
    TIMEOUT,
  );

  it(
    'letters: INVALID_NUMBER_FORMAT, no call, exit 0 (a finding, not a failure)',
    async () => {
      const run = await scan(fixture('letters.csv'));
      expect(run.code, run.stderr).toBe(0);
      expect(results(run).map((r) => [r.id, r.phone_e164, r.reachability_status, r.error])).toEqual([
        ['1', '', 'INVALID_NUMBER_FORMAT', 'not a valid phone number'],
        ['2', '', 'INVALID_NUMBER_FORMAT', 'not a valid phone number'],
        ['3', '', 'INVALID_NUMBER_FORMAT', 'not a valid phone number'],
        ['4', '+990123400', 'OK', ''],
        ['5', '', 'INVALID_NUMBER_FORMAT', 'not a valid phone number'],
      ]);
      expectAccounted(run, 5);
    },
    TIMEOUT,
  );

  it(
    'Excel scientific notation: EXCEL_MANGLED (its digits are gone), never guessed, exit 0',
    async () => {
      const run = await scan(fixture('excel-scientific.csv'));
      expect(run.code, run.stderr).toBe(0);
      expect(results(run).map((r) => [r.phone, r.phone_e164, r.reachability_status])).toEqual([
        ['4.47911E+11', '', 'EXCEL_MANGLED'],
        ['4.47911e+11', '', 'EXCEL_MANGLED'],
        ['447911123456', '+447911123456', 'OK'],
        ['4,47911E+11', '', 'EXCEL_MANGLED'],
        ['+990123400', '+990123400', 'OK'],
      ]);
      expect(results(run)[0]?.error).toMatch(/scientific notation/);
      expectAccounted(run, 5);
    },
    TIMEOUT,
  );

  it(
    'duplicate headers: the first phone column is used and stderr says so; --column N takes another',
    async () => {
      const run = await scan(fixture('duplicate-headers.csv'));
      expect(run.code, run.stderr).toBe(0);
      expect(run.said).toEqual([
        started('duplicate-headers.csv'),
        `${fixture('duplicate-headers.csv')}: line 1: the phone column's header "phone" appears 3 times (columns 2, 4, 5); column 2 is used; choose another with --column 4`,
      ]);
      const rows = readRows(join(run.outDir, 'results.csv'));
      // The input columns unchanged (all five, names repeated), then ours: phone_e164 from column 2.
      expect(rows.map((r) => [...r.slice(0, 6)])).toEqual([
        ['1', '+990123400', 'a', '+990123411', 'x', '+990123400'],
        ['2', '+990123422', 'b', '+990123433', 'y', '+990123422'],
      ]);
      expectAccounted(run, 2);

      const fourth = await scan(fixture('duplicate-headers.csv'), '--column', '4');
      expect(fourth.code, fourth.stderr).toBe(0);
      expect(readRows(join(fourth.outDir, 'results.csv')).map((r) => r[5])).toEqual([
        '+990123411',
        '+990123433',
      ]);
    },
    TIMEOUT,
  );

  it(
    'a header with a BOM: the BOM is not part of the first header, exit 0',
    async () => {
      const run = await scan(fixture('header-bom.csv'));
      expect(run.code, run.stderr).toBe(0);
      expect(run.said).toEqual([started('header-bom.csv')]);
      const text = readFileSync(join(run.outDir, 'results.csv'), 'utf8');
      expect(text.startsWith('phone,name,phone_e164,')).toBe(true);
      expect(results(run).map((r) => r.phone_e164)).toEqual(['+990123400', '+990123411']);
      expectAccounted(run, 2);
    },
    TIMEOUT,
  );

  it(
    'formula cells: neutralised with a leading \' in the outputs, headers too; Excel\'s ="…" number is read',
    async () => {
      const run = await scan(fixture('formula-cells.csv'));
      expect(run.code, run.stderr).toBe(0); // row 4's phone is not a number: a finding, not a failure
      const [header] = readFileSync(join(run.outDir, 'results.csv'), 'utf8').split('\n');
      expect(header?.split(',').slice(0, 4)).toEqual(['id', 'phone', 'note', "'=cmd"]);
      expect(results(run).map((r) => [r.phone, r.note, r.phone_e164])).toEqual([
        ['+990123400', "'=1+1", '+990123400'],
        [`'="+990123411"`, `'=HYPERLINK("http://evil.example","click")`, '+990123411'],
        ['+990123422', "'@SUM(A1)", '+990123422'],
        ["'\tx", "'-2+3", ''],
        ['+447911123456', '+447911123456', '+447911123456'], // a plain number is data, not a formula
      ]);
      expectAccounted(run, 5);
    },
    TIMEOUT,
  );

  it(
    'a phone column empty in most rows: those rows say "no phone number", the rest are asked, exit 0',
    async () => {
      const run = await scan(fixture('sparse-phone-column.csv'));
      expect(run.code, run.stderr).toBe(0);
      const rows = results(run);
      expect(rows).toHaveLength(30);
      const asked = rows.filter((r) => r.phone_e164 !== '');
      expect(asked.map((r) => [r.id, r.phone_e164, r.reachability_status])).toEqual([
        ['10', '+990123400', 'OK'],
        ['20', '+990123411', 'OK'],
        ['30', '+990123422', 'OK'],
      ]);
      for (const r of rows.filter((row) => row.phone === '')) {
        expect([r.reachability_status, r.error]).toEqual(['INVALID_NUMBER_FORMAT', 'no phone number']);
      }
      expect(report(run).rows.invalid).toBe(27);
      expectAccounted(run, 30);
    },
    TIMEOUT,
  );
});

describe('a file name that holds a line break', () => {
  it(
    'every message naming it stays one line: the name is quoted and escaped (refused and scanned alike)',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'reachscan-bad-input-names-'));
      const forged = 'reachscan: started batch 000000000000000000000000: fake.csv';
      const empty = join(dir, `empty\n${forged}.csv`);
      writeFileSync(empty, '');
      const refused = await scan(empty);
      expect(refused.code, refused.stderr).toBe(2);
      expect(refused.stderr.trimEnd().split('\n')).toEqual([
        `reachscan: ${JSON.stringify(empty)}: the file is empty`,
      ]);

      const latin = join(dir, `list\r\n${forged}.csv`);
      writeFileSync(latin, Buffer.from('phone,name\n+990123400,Jos\xe9\n', 'latin1'));
      const scanned = await scan(latin);
      expect(scanned.code, scanned.stderr).toBe(0);
      const name = JSON.stringify(`list\r\n${forged}.csv`);
      expect(scanned.said).toEqual([
        expect.stringMatching(
          new RegExp(`^started batch [0-9a-f]{24}: ${name.replace(/\\/g, '\\\\')}, phone column "phone"$`),
        ),
        `${JSON.stringify(latin)}: line 2: not UTF-8 text (byte 0xE9); the file is read as Windows-1252 (Latin-1), as Excel's plain "CSV" writes it`,
      ]);
      for (const line of scanned.stderr.trimEnd().split('\n')) expect(line).toMatch(/^reachscan: /);
    },
    TIMEOUT,
  );
});

describe('big fields and big files', () => {
  const scratch = () => mkdtempSync(join(tmpdir(), 'reachscan-bad-input-gen-'));

  it(
    'a 10 MB field (generated): the record is scanned whole, so are the others; memory stays bounded',
    async () => {
      const file = join(scratch(), 'ten-mb-field.csv');
      const field = 'x'.repeat(10 * 1024 * 1024);
      writeFileSync(file, `id,phone,note\n1,+990123400,ok\n2,+990123411,"${field}"\n3,+990123422,ok\n`);
      const run = await scan(file);
      expect(run.code, run.stderr).toBe(0);
      const rows = results(run);
      expect(rows.map((r) => [r.id, r.phone_e164, r.reachability_status])).toEqual([
        ['1', '+990123400', 'OK'],
        ['2', '+990123411', 'OK'],
        ['3', '+990123422', 'OK'],
      ]);
      expect(rows[1]?.note).toBe(field);
      expectAccounted(run, 3);
      // The file is read twice (ingest, outputs) and the field is written once: a few copies of 10 MB, not more.
      expect(run.peakMb).toBeLessThan(600);
    },
    TIMEOUT,
  );

  it(
    'a field over the 32 MiB record limit (generated, 40 MB): that line is rejected with its reason, the rest scanned',
    async () => {
      const file = join(scratch(), 'runaway-field.csv');
      writeFileSync(
        file,
        `id,phone,note\r\n1,+990123400,ok\r\n2,+990123411,${'y'.repeat(40 * 1024 * 1024)}\r\n3,+990123422,ok\r\n`,
      );
      const run = await scan(file);
      expect(run.code, run.stderr).toBe(0);
      expect(results(run).map((r) => r.id)).toEqual(['1', '3']);
      const [reject] = rejects(run);
      expect(reject?.line).toBe('3');
      expect(reject?.reason).toBe(
        'a record over 32 MiB from line 3 (a runaway field or an unclosed quote); this line is rejected (raw shows its first 10000 characters) and reading goes on from line 4',
      );
      expect(reject?.raw).toBe(`2,+990123411,${'y'.repeat(10_000 - 13)}…`);
      expectAccounted(run, 3);
      expect(run.peakMb).toBeLessThan(1024);
    },
    TIMEOUT,
  );

  it(
    'a 100 MB header line with no line break (generated): refused before the rest is read, exit 2, nothing written',
    async () => {
      const file = join(scratch(), 'one-line.csv');
      writeFileSync(file, 'h'.repeat(100 * 1000 * 1000));
      try {
        const run = await scan(file);
        expect(run.code, run.stderr).toBe(2);
        expect(run.said).toEqual([
          `${file}: line 1: the header row is longer than the limit of 1 MiB (no line break in the first 1048576 bytes); is this a CSV file?`,
        ]);
        expect(existsSync(join(run.outDir, 'results.csv'))).toBe(false);
        // A 2 MiB header followed by data rows: the same.
        writeFileSync(file, `phone,${'x'.repeat(2 * 1024 * 1024)}\n+990123400,a\n`);
        const plan = await reachscan(['plan', file]);
        expect(plan.code, plan.stderr).toBe(2);
        expect(plan.said).toEqual([run.said[0]]);
      } finally {
        rmSync(file, { force: true });
      }
    },
    TIMEOUT,
  );

  it('the ingest path streams: plan reads a 40 MB file (640,000 rows) with the JS heap capped at 48 MB', async () => {
    // The same 2,000 numbers over and over: plan's one growing structure (the distinct numbers) stays small.
    // Holding the file's text, or its records, would not fit in the capped heap (V8 aborts: heap out of memory).
    const lines = ['customer_id,name,segment,phone,notes'];
    for (let i = 0; i < 640_000; i++)
      lines.push(`C${i},Customer ${i},gold,+44 7400 ${String(i % 2000).padStart(6, '0')},"call, then mail"`);
    const file = join(scratch(), 'forty-mb.csv');
    writeFileSync(file, `${lines.join('\n')}\n`);
    lines.length = 0;
    expect(statSync(file).size).toBeGreaterThan(40_000_000);
    const run = await reachscan(['plan', file, '--json'], { nodeFlags: ['--max-old-space-size=48'] });
    expect(run.stderr).not.toMatch(/heap out of memory/i);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ rows: 640_000, valid: 640_000, unique: 2000 });
  }, 180_000);
});
