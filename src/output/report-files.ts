import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResultFields } from '../core/columns.js';
import { CsvFileWriter, OUTPUT_FILE_MODE } from './csv-file.js';
import { renderHtml } from './report-html.js';
import { renderMarkdown } from './report-markdown.js';
import { ReportAccumulator, type BatchReport, type ReportContext } from './report.js';
import type { TrendEntry } from './report-trend.js';

/** Output file names, fixed: scripts look for them. */
export function outputFiles(staleDays: number) {
  return {
    results: 'results.csv',
    rejects: 'rejects.csv',
    reportJson: 'report.json',
    reportMd: 'report.md',
    reportHtml: 'report.html',
    stale: `no-connectivity-${staleDays}d.csv`,
    changes: 'changes.csv',
  } as const;
}
export type OutputNames = ReturnType<typeof outputFiles>;

/** Where a file is written until it is complete; readers never see half a file under its real name. */
export function partialPath(outDir: string, name: string): string {
  return join(outDir, `.${name}.partial`);
}

/**
 * The files derived from result rows: the stale list, changes.csv, report.json, report.md and report.html.
 * Fed one result row at a time, by a scan's finalize step or by `reachscan report` reading a results file.
 */
export class ReportFiles {
  readonly names: OutputNames;
  private readonly accumulator: ReportAccumulator;
  private readonly stale: CsvFileWriter;
  private readonly changes: CsvFileWriter;
  private readonly inputColumns: number;
  private readonly idColumns: readonly number[];

  /**
   * @param header results.csv's header (input columns, then ours)
   * @param inputColumns how many of those come from the input
   * @param options.idColumns positions of the input columns that identify a row in the longest-gaps list
   */
  constructor(
    private readonly outDir: string,
    header: readonly string[],
    inputColumns: number,
    private readonly staleDays: number,
    options: { bom: boolean; idColumns?: readonly number[] },
  ) {
    this.names = outputFiles(staleDays);
    this.inputColumns = inputColumns;
    this.idColumns = (options.idColumns ?? []).filter((i) => i >= 0 && i < inputColumns);
    this.accumulator = new ReportAccumulator(
      staleDays,
      this.idColumns.map((i) => header[i] ?? ''),
    );
    this.stale = new CsvFileWriter(
      partialPath(outDir, this.names.stale),
      [...header, 'days_without_connectivity'],
      options,
    );
    this.changes = new CsvFileWriter(
      partialPath(outDir, this.names.changes),
      [
        ...header.slice(0, inputColumns),
        'phone_e164',
        'change',
        'before',
        'after',
        'previous_checked_at',
        'checked_at',
      ],
      options,
    );
  }

  /** One results.csv row (`row` as written) and its result columns. */
  async add(row: readonly string[], fields: ResultFields): Promise<void> {
    const verdict = this.accumulator.addRow(
      fields,
      this.idColumns.map((i) => row[i] ?? ''),
    );
    if (verdict.stale) await this.stale.write([...row, String(verdict.days)]);
    for (const change of verdict.changes) {
      await this.changes.write([
        ...row.slice(0, this.inputColumns),
        change.phone_e164,
        change.change,
        change.before,
        change.after,
        change.previous_checked_at,
        change.checked_at,
      ]);
    }
  }

  addReject(): void {
    this.accumulator.addReject();
  }

  span(): { first: string | null; last: string | null } {
    return this.accumulator.span();
  }

  /**
   * Closes the lists and writes the three reports, all still under their partial names. `trend`, when given,
   * records this run in its label's log and returns the label's runs for the reports.
   */
  async finish(
    context: Omit<ReportContext, 'staleDays' | 'staleFile' | 'changesFile'>,
    uniqueNumbers: number,
    finishedAt: string,
    trend?: (report: BatchReport) => Promise<readonly TrendEntry[]>,
  ): Promise<BatchReport> {
    await Promise.all([this.stale.close(), this.changes.close()]);
    const built = this.accumulator.build(
      { ...context, staleDays: this.staleDays, staleFile: this.names.stale, changesFile: this.names.changes },
      uniqueNumbers,
      finishedAt,
    );
    const report = trend === undefined ? built : { ...built, trend: await trend(built) };
    const mode = { mode: OUTPUT_FILE_MODE };
    await writeFile(
      partialPath(this.outDir, this.names.reportJson),
      `${JSON.stringify(report, null, 2)}\n`,
      mode,
    );
    await writeFile(partialPath(this.outDir, this.names.reportMd), renderMarkdown(report), mode);
    await writeFile(partialPath(this.outDir, this.names.reportHtml), renderHtml(report), mode);
    return report;
  }

  /** Gives up on the lists (another output failed); the caller removes the partial files. */
  async abort(): Promise<void> {
    await Promise.all([this.stale.abort(), this.changes.abort()]);
  }

  /** Gives up on every file this writer makes, and removes what it wrote of them. */
  async discard(): Promise<void> {
    await this.abort();
    const { stale, changes, reportJson, reportMd, reportHtml } = this.names;
    await Promise.all(
      [stale, changes, reportJson, reportMd, reportHtml].map((name) =>
        rm(partialPath(this.outDir, name), { force: true }).catch(() => undefined),
      ),
    );
  }

  /** The files this writer made, moved to their real names. */
  async publish(): Promise<void> {
    const { stale, changes, reportJson, reportMd, reportHtml } = this.names;
    for (const name of [stale, changes, reportJson, reportMd, reportHtml]) {
      await rename(partialPath(this.outDir, name), join(this.outDir, name));
    }
  }
}
