import {
  appendFileSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchReport } from '../../../src/output/report.js';
import { startSimulatorProcess, type SimulatorProcess } from '../../support/simulator-process.js';
import {
  dropFile,
  folders,
  list,
  numbersOf,
  phoneCsv,
  reachscan,
  readResults,
  requestCount,
  startWatcher,
  timesAsked,
  watchEnv,
} from './harness.js';

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const STAMPED = (stem: string, ext = 'csv') => new RegExp(`^${stem}-\\d{8}T\\d{6}Z\\.${ext}$`);

let sim: SimulatorProcess;
beforeAll(async () => {
  sim = await startSimulatorProcess();
});
afterAll(async () => {
  await sim.stop();
});

describe('reachscan watch: taking files (subprocess)', () => {
  it(
    'a file renamed in is scanned whole into <out>/<name>-<stamp>/ and filed in done/; temporary, hidden and other files are left alone',
    { timeout: 60_000 },
    async () => {
      const f = folders();
      const watcher = startWatcher(f, watchEnv(sim));
      try {
        writeFileSync(join(f.inbox, '.hidden.csv'), phoneCsv(400_000_900, 3));
        writeFileSync(join(f.inbox, 'upload.csv.part'), phoneCsv(400_000_910, 3));
        writeFileSync(join(f.inbox, 'upload.csv.crdownload'), phoneCsv(400_000_920, 3));
        writeFileSync(join(f.inbox, 'notes.pdf'), 'not a list');
        dropFile(f.inbox, 'crm.csv', phoneCsv(400_000_000, 20));
        await expect.poll(() => list(join(f.inbox, 'done')), { timeout: 30_000 }).toHaveLength(1);

        const [filed] = list(join(f.inbox, 'done'));
        expect(filed).toMatch(STAMPED('crm'));
        const outName = (filed as string).replace(/\.csv$/, '');
        expect(list(f.outbox)).toEqual([outName]);
        const outDir = join(f.outbox, outName);
        const rows = readResults(outDir);
        expect(rows.map((r) => r.id)).toEqual(Array.from({ length: 20 }, (_, i) => `R${i + 1}`));
        expect(rows.every((r) => r.reachability_status !== '' && r.error === '')).toBe(true);
        expect(list(outDir)).toEqual(
          expect.arrayContaining(['results.csv', 'rejects.csv', 'report.json', 'report.html']),
        );
        expect(await timesAsked(sim, numbersOf(400_000_000, 20))).toEqual(Array(20).fill(1));
        // The file's name labels its runs: files dropped again under it share the report's trend.
        const report = JSON.parse(readFileSync(join(outDir, 'report.json'), 'utf8')) as BatchReport;
        expect(report.label).toBe('crm.csv');
        expect(report.trend.at(-1)).toMatchObject({ batch_id: report.batch_id, rows: 20 });

        // Work folders and output folders are private to the watcher's user and group.
        for (const dir of ['processing', 'done', 'failed'])
          expect(statSync(join(f.inbox, dir)).mode & 0o777).toBe(0o750);
        expect(statSync(outDir).mode & 0o777).toBe(0o750);
        expect(list(join(f.inbox, 'processing'))).toEqual([]);

        // Nothing else was touched: not the temporary files, not the hidden one, not the PDF.
        expect(list(f.inbox)).toEqual(
          [
            '.hidden.csv',
            'done',
            'failed',
            'notes.pdf',
            'processing',
            'upload.csv.crdownload',
            'upload.csv.part',
          ].sort(),
        );
        expect(
          await timesAsked(sim, [
            ...numbersOf(400_000_900, 3),
            ...numbersOf(400_000_910, 3),
            ...numbersOf(400_000_920, 3),
          ]),
        ).toEqual(Array(9).fill(0));

        const log = watcher.stderr();
        expect(log).toMatch(/taken crm\.csv → processing\/crm-\d{8}T\d{6}Z\.csv/);
        expect(log).toContain(
          `done crm.csv → ${outDir} (20 rows; lookups failed: 0, invalid numbers: 0, malformed records: 0)`,
        );
        expect(log).toContain('ignored notes.pdf: only .csv, .txt and .tsv files are taken');
        expect(log).not.toMatch(/upload|hidden/);
        // No full phone number reaches the log.
        expect(log).not.toMatch(/\+?447400/);
      } finally {
        expect(await watcher.stop()).toBe(0);
      }
    },
  );

  it(
    'a file still being written is not taken until it has been unchanged for --settle, then scanned whole',
    { timeout: 60_000 },
    async () => {
      const f = folders();
      const watcher = startWatcher(f, watchEnv(sim), ['--settle', '1.5s']);
      try {
        await watcher.waitFor(/watching /);
        const path = join(f.inbox, 'growing.csv');
        const content = phoneCsv(400_001_000, 30);
        const lines = content.split('\n');
        // Written in five steps with pauses shorter than the settle time: never taken half-written.
        const steps = 5;
        const per = Math.ceil(lines.length / steps);
        for (let step = 0; step < steps; step++) {
          const part = lines.slice(step * per, (step + 1) * per).join('\n');
          appendFileSync(path, step === steps - 1 ? part : `${part}\n`);
          await new Promise((resolve) => setTimeout(resolve, 500));
          expect(list(f.inbox)).toContain('growing.csv');
          expect(list(join(f.inbox, 'processing'))).toEqual([]);
        }
        await expect.poll(() => list(join(f.inbox, 'done')), { timeout: 30_000 }).toHaveLength(1);
        const [filed] = list(join(f.inbox, 'done'));
        const rows = readResults(join(f.outbox, (filed as string).replace(/\.csv$/, '')));
        expect(rows).toHaveLength(30);
        expect(rows.at(-1)?.id).toBe('R30');
        expect(readFileSync(join(f.inbox, 'done', filed as string), 'utf8')).toBe(content);
      } finally {
        expect(await watcher.stop()).toBe(0);
      }
    },
  );

  it(
    'bad input goes to failed/ with a one-line .error.txt; a batch with rows in error still goes to done/',
    { timeout: 60_000 },
    async () => {
      const f = folders();
      const watcher = startWatcher(f, watchEnv(sim));
      try {
        dropFile(f.inbox, 'no-phone.csv', 'id,name\n1,Ada\n2,Alan\n');
        dropFile(
          f.inbox,
          'binary.txt',
          Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x01]),
        );
        dropFile(f.inbox, 'some-bad.tsv', `id\tphone\n1\t+447400002000\n2\tnot a number\n3\t+447400002001\n`);
        await expect.poll(() => list(join(f.inbox, 'failed')), { timeout: 30_000 }).toHaveLength(4);
        await expect.poll(() => list(join(f.inbox, 'done')), { timeout: 30_000 }).toHaveLength(1);

        const failed = list(join(f.inbox, 'failed'));
        const note = (stem: string, ext: string) => {
          const name = failed.find((n) => STAMPED(stem, ext).test(n));
          expect(name, `${stem}.${ext} in failed/: ${failed.join(', ')}`).toBeDefined();
          expect(failed).toContain(`${name}.error.txt`);
          return readFileSync(join(f.inbox, 'failed', `${name}.error.txt`), 'utf8');
        };
        const noPhone = note('no-phone', 'csv');
        expect(noPhone.trim().split('\n')).toHaveLength(1);
        expect(noPhone).toMatch(/^no-phone\.csv: .*phone/);
        const binary = note('binary', 'txt');
        expect(binary.trim().split('\n')).toHaveLength(1);
        expect(binary).toMatch(/^binary\.txt: .*binary/);
        // Neither left an empty output folder behind.
        expect(list(f.outbox)).toHaveLength(1);

        const [done] = list(join(f.inbox, 'done'));
        expect(done).toMatch(STAMPED('some-bad', 'tsv'));
        const rows = readResults(join(f.outbox, (done as string).replace(/\.tsv$/, '')));
        expect(rows.map((r) => r.reachability_status)).toEqual(['OK', 'INVALID_NUMBER_FORMAT', 'OK']);
        expect(watcher.stderr()).toMatch(
          /failed no-phone\.csv: no-phone\.csv: .* → failed\/no-phone-\d{8}T\d{6}Z\.csv/,
        );
        expect(watcher.stderr()).toMatch(
          /done some-bad\.tsv → .* \(3 rows; lookups failed: 0, invalid numbers: 1, malformed records: 0\)/,
        );
      } finally {
        expect(await watcher.stop()).toBe(0);
      }
    },
  );

  it(
    'a file name with a line break cannot forge a log line: names are escaped in the log and in the notes',
    { timeout: 60_000 },
    async () => {
      const f = folders();
      const watcher = startWatcher(f, watchEnv(sim));
      // No slash: a file name cannot hold one.
      const forged = 'reachscan watch: done fake.csv → elsewhere (9 rows, 0 in error)';
      try {
        dropFile(f.inbox, `good\n${forged}.csv`, phoneCsv(400_002_500, 3));
        dropFile(f.inbox, `bad\r\n${forged}.csv`, 'id,name\n1,Ada\n');
        dropFile(f.inbox, `odd\u202Eeman.pdf`, 'not a list');
        await expect.poll(() => list(join(f.inbox, 'done')), { timeout: 30_000 }).toHaveLength(1);
        await expect.poll(() => list(join(f.inbox, 'failed')), { timeout: 30_000 }).toHaveLength(2);
        await watcher.waitFor(/^reachscan watch: done "good\\n/m);

        const lines = watcher.stderr().trimEnd().split('\n');
        // Every line is one the watcher meant to write; the forged text never starts one.
        for (const line of lines) expect(line).toMatch(/^reachscan watch: /);
        expect(lines.filter((l) => l.includes('done fake.csv') && !l.includes('\\n'))).toEqual([]);
        const log = watcher.stderr();
        const good = JSON.stringify(`good\n${forged}.csv`);
        expect(log).toContain(`reachscan watch: taken ${good} → "processing/good\\n`);
        expect(log).toMatch(
          new RegExp(
            `^reachscan watch: done ${escape(good)} → ".*" \\(3 rows; lookups failed: 0, invalid numbers: 0, malformed records: 0\\)$`,
            'm',
          ),
        );
        const bad = JSON.stringify(`bad\r\n${forged}.csv`);
        expect(log).toMatch(
          new RegExp(
            `^reachscan watch: failed ${escape(bad)}: ${escape(bad)}: no phone column found .* → "failed/bad\\\\r\\\\n`,
            'm',
          ),
        );
        expect(log).toContain(
          'reachscan watch: ignored "odd\\u202eeman.pdf": only .csv, .txt and .tsv files are taken',
        );
        // The note beside the refused file is one line too.
        const [note] = list(join(f.inbox, 'failed')).filter((n) => n.endsWith('.error.txt'));
        const text = readFileSync(join(f.inbox, 'failed', note as string), 'utf8');
        expect(text.trimEnd().split('\n')).toHaveLength(1);
        expect(text.startsWith(`${bad}: no phone column found`)).toBe(true);
      } finally {
        expect(await watcher.stop()).toBe(0);
      }
    },
  );

  it(
    'a symbolic link (to a file outside the inbox) and a hard link are refused: moved, never followed; the target is untouched',
    { timeout: 60_000 },
    async () => {
      const f = folders();
      const outside = join(f.root, 'secret');
      mkdirSync(outside);
      const target = join(outside, 'customers.csv');
      const content = phoneCsv(400_003_000, 5);
      writeFileSync(target, content);
      const before = statSync(target);
      symlinkSync(target, join(f.inbox, 'link.csv'));
      linkSync(target, join(f.inbox, 'hard.csv'));
      const asked = await requestCount(sim);
      const watcher = startWatcher(f, watchEnv(sim));
      try {
        await expect.poll(() => list(join(f.inbox, 'failed')), { timeout: 30_000 }).toHaveLength(4);
        const failed = list(join(f.inbox, 'failed'));
        const link = failed.find((n) => STAMPED('link').test(n)) as string;
        expect(lstatSync(join(f.inbox, 'failed', link)).isSymbolicLink()).toBe(true);
        expect(readFileSync(join(f.inbox, 'failed', `${link}.error.txt`), 'utf8')).toBe(
          'link.csv: refused: a symbolic link (links are never followed)\n',
        );
        const hard = failed.find((n) => STAMPED('hard').test(n)) as string;
        expect(readFileSync(join(f.inbox, 'failed', `${hard}.error.txt`), 'utf8')).toMatch(/hard link/);
        expect(watcher.stderr()).toMatch(/refused link\.csv: a symbolic link/);

        // The target stayed where it was, as it was, and no number in it was asked.
        expect(readFileSync(target, 'utf8')).toBe(content);
        expect(statSync(target).ino).toBe(before.ino);
        expect(await timesAsked(sim, numbersOf(400_003_000, 5))).toEqual(Array(5).fill(0));
        expect(await requestCount(sim)).toBe(asked);
        expect(list(f.outbox)).toEqual([]);
      } finally {
        expect(await watcher.stop()).toBe(0);
      }
    },
  );

  it(
    'the same content dropped again within --dedupe-window is filed in done/ with a note, not scanned again',
    { timeout: 60_000 },
    async () => {
      const f = folders();
      const watcher = startWatcher(f, watchEnv(sim));
      try {
        const content = phoneCsv(400_004_000, 10);
        dropFile(f.inbox, 'monday.csv', content);
        await expect.poll(() => list(join(f.inbox, 'done')), { timeout: 30_000 }).toHaveLength(1);
        const [first] = list(f.outbox);
        dropFile(f.inbox, 'tuesday.csv', content);
        await expect.poll(() => list(join(f.inbox, 'done')), { timeout: 30_000 }).toHaveLength(3);
        const note = list(join(f.inbox, 'done')).find((n) => n.endsWith('.duplicate.txt')) as string;
        expect(note).toMatch(/^tuesday-\d{8}T\d{6}Z\.csv\.duplicate\.txt$/);
        const text = readFileSync(join(f.inbox, 'done', note), 'utf8');
        expect(text).toContain('from monday.csv');
        expect(text).toContain(join(f.outbox, first as string));
        expect(list(f.outbox)).toEqual([first]);
        expect(await timesAsked(sim, numbersOf(400_004_000, 10))).toEqual(Array(10).fill(1));
        expect(watcher.stderr()).toMatch(/duplicate tuesday\.csv: same content as monday\.csv/);
      } finally {
        expect(await watcher.stop()).toBe(0);
      }
    },
  );

  it('usage mistakes are one line, exit 2', { timeout: 30_000 }, async () => {
    const f = folders();
    const missing = reachscan(['watch', join(f.root, 'nope'), '--out', f.outbox], watchEnv(sim));
    expect(await missing.exited).toBe(2);
    expect(missing.stderr()).toBe(`reachscan: ${join(f.root, 'nope')}: no such folder\n`);
    const noOut = reachscan(['watch', f.inbox], watchEnv(sim));
    expect(await noOut.exited).toBe(2);
    expect(noOut.stderr()).toMatch(/^reachscan: watch needs --out DIR/);
    const badSettle = reachscan(['watch', f.inbox, '--out', f.outbox, '--settle', 'soon'], watchEnv(sim));
    expect(await badSettle.exited).toBe(2);
    expect(badSettle.stderr()).toMatch(/^reachscan: --settle must be a duration/);
    const help = reachscan(['help', 'watch'], watchEnv(sim));
    expect(await help.exited).toBe(0);
    expect(help.stdout()).toMatch(/^Usage: reachscan watch <inbox> --out DIR/);
  });
});
