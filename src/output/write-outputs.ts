import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CountryCode, E164 } from '../core/e164.js';
import { normalisePhone } from '../input/phone.js';
import { readInput, type InputRecord } from '../input/reader.js';
import type { InputShape } from '../input/sniff.js';
import { resultFields, type StoredAnswer } from './answer.js';
import { resultHeader, resultValues } from './columns.js';
import { CsvFileWriter } from './csv-file.js';
import { guardFormula } from './formula-guard.js';
import {
  daysWithoutConnectivity,
  renderMarkdown,
  ReportAccumulator,
  type BatchReport,
  type ReportContext,
} from './report.js';

export interface OutputJob {
  readonly inputPath: string;
  readonly displayName: string;
  readonly shape: InputShape;
  readonly phoneColumn: number;
  readonly defaultCountry?: CountryCode;
  readonly outDir: string;
  readonly staleDays: number;
  /** Neutralise input cells a spreadsheet would run as formulas (default on). */
  readonly formulaGuard: boolean;
  /** Start CSV files with a UTF-8 BOM, for Excel. */
  readonly bom: boolean;
  readonly uniqueNumbers: number;
  readonly report: Omit<ReportContext, 'staleDays' | 'staleFile'>;
  /** Answers for a group of numbers; numbers without one are missing from the map. */
  answers(numbers: readonly E164[]): Promise<ReadonlyMap<string, StoredAnswer>>;
  readonly now: () => number;
}

/** Output file names, fixed: scripts look for them. */
export function outputFiles(staleDays: number) {
  return {
    results: 'results.csv',
    rejects: 'rejects.csv',
    reportJson: 'report.json',
    reportMd: 'report.md',
    stale: `no-connectivity-${staleDays}d.csv`,
  } as const;
}

const GROUP = 500;

/**
 * Streams the input once more and writes every output: results.csv (one row per record, input order),
 * rejects.csv, the stale list, report.json and report.md. Files appear under their final names only when
 * complete, so a reader never sees half a file.
 */
export async function writeOutputs(job: OutputJob): Promise<BatchReport> {
  await mkdir(job.outDir, { recursive: true });
  const names = outputFiles(job.staleDays);
  const tmp = (name: string) => join(job.outDir, `.${name}.partial`);
  const guard = job.formulaGuard ? guardFormula : (cell: string) => cell;
  // Header cells come from the input too.
  const header = resultHeader(job.shape.headers).map((name, i) =>
    i < job.shape.headers.length ? guard(name) : name,
  );
  const results = new CsvFileWriter(tmp(names.results), header, { bom: job.bom });
  const rejects = new CsvFileWriter(tmp(names.rejects), ['line', 'raw', 'reason'], { bom: job.bom });
  const stale = new CsvFileWriter(tmp(names.stale), [...header, 'days_without_connectivity'], {
    bom: job.bom,
  });
  const report = new ReportAccumulator();
  const nowMs = job.now();

  let group: { record: InputRecord; phone: ReturnType<typeof normalisePhone> }[] = [];
  const flush = async () => {
    const numbers = [...new Set(group.flatMap((g) => (g.phone.kind === 'valid' ? [g.phone.e164] : [])))];
    const answers = numbers.length > 0 ? await job.answers(numbers) : new Map<string, StoredAnswer>();
    for (const { record, phone } of group) {
      const fields = resultFields(phone, phone.kind === 'valid' ? answers.get(phone.e164) : undefined);
      const days = daysWithoutConnectivity(fields, nowMs);
      const isStale = days !== null && days >= job.staleDays;
      report.addRow(fields, isStale);
      const row = [...record.fields.map(guard), ...resultValues(fields)];
      await results.write(row);
      if (isStale) await stale.write([...row, String(days)]);
    }
    group = [];
  };

  for await (const item of readInput(job.inputPath, job.shape, job.displayName)) {
    if (item.kind === 'reject') {
      report.addReject();
      await rejects.write([String(item.line), guard(item.raw), item.reason]);
      continue;
    }
    group.push({
      record: item,
      phone: normalisePhone(item.fields[job.phoneColumn] ?? '', job.defaultCountry),
    });
    if (group.length >= GROUP) await flush();
  }
  await flush();
  await Promise.all([results.close(), rejects.close(), stale.close()]);

  const built = report.build(
    { ...job.report, staleDays: job.staleDays, staleFile: names.stale },
    job.uniqueNumbers,
    new Date(job.now()).toISOString(),
  );
  await writeFile(tmp(names.reportJson), `${JSON.stringify(built, null, 2)}\n`);
  await writeFile(tmp(names.reportMd), renderMarkdown(built));
  for (const name of Object.values(names)) await rename(tmp(name), join(job.outDir, name));
  return built;
}
