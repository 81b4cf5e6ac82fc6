import { createReadStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { parse, type Parser } from 'csv-parse';
import { pipeline } from 'node:stream';
import { rethrowAsDiskError } from '../core/errors.js';
import { InputError } from '../input/errors.js';
import { chooseIdColumns } from '../input/id-columns.js';
import { choosePhoneColumn } from '../input/phone-column.js';
import { CARRIER_COLUMNS, HISTORY_COLUMNS, RESULT_COLUMNS, type ResultFields } from '../core/columns.js';
import type { BatchReport, ReportContext } from './report.js';
import type { TrendEntry } from './report-trend.js';
import { ReportFiles } from './report-files.js';
import { OUTPUT_FOLDER_MODE } from './csv-file.js';

/** Our columns as written before the history columns existed: such files still rebuild (without changes). */
const EARLIER_COLUMNS = ['phone_e164', ...CARRIER_COLUMNS] as const;

/** Our columns before `last_seen_connected_at` and `request_id` were added at the end. */
const HISTORY_ERA_COLUMNS = [
  'phone_e164',
  ...CARRIER_COLUMNS,
  ...HISTORY_COLUMNS.filter((c) => c !== 'last_seen_connected_at'),
] as const;

/** Our column names may carry `reachscan_` prefixes when the input had a column of the same name. */
const bare = (name: string) => name.replace(/^(reachscan_)+/, '');

/**
 * `reachscan report`: reads a results.csv and writes the stale list, changes.csv and the three reports again,
 * with the scan's figures for the same --stale-days (days count to each row's checked_at; malformed records
 * are counted from the rejects.csv beside it, when there is one). Batch id, provider and times are the
 * results file's to tell, not the batch's.
 */
export async function rebuildReports(
  resultsPath: string,
  displayName: string,
  outDir: string,
  staleDays: number,
  options: {
    bom: boolean;
    /**
     * The batch the results belong to (a results file merged with a retry's): kept in the reports instead of
     * "rebuilt from a results file".
     */
    batch?: Omit<ReportContext, 'staleDays' | 'staleFile' | 'changesFile'> & { readonly finishedAt: string };
    /**
     * Positions of the input columns shown beside each number in the longest-gaps list (the batch's). Without
     * them: the first two input columns but the one that looks like the phone column.
     */
    idColumns?: readonly number[];
    /** The same by name (`reachscan report --id-columns`); a name the file lacks is a usage error. */
    idColumnNames?: readonly string[];
    /** The batch's trend: records the rebuilt figures in its label's log and returns its runs. */
    trend?: (report: BatchReport) => Promise<readonly TrendEntry[]>;
  },
): Promise<BatchReport> {
  try {
    if (!(await stat(resultsPath)).isFile()) throw new InputError(displayName, 'is not a file');
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(displayName, `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const made: { reports: ReportFiles | null } = { reports: null };
  try {
    await mkdir(outDir, { recursive: true, mode: OUTPUT_FOLDER_MODE });
    return await rebuildFrom(resultsPath, displayName, outDir, staleDays, options, made);
  } catch (error) {
    // No half-written report stays behind; a full or read-only disk is one line naming the folder.
    await made.reports?.discard();
    rethrowAsDiskError(error, outDir);
  }
}

async function rebuildFrom(
  resultsPath: string,
  displayName: string,
  outDir: string,
  staleDays: number,
  options: Parameters<typeof rebuildReports>[4],
  made: { reports: ReportFiles | null },
): Promise<BatchReport> {
  const parser = readCsvRecords(resultsPath, { relax_quotes: true });
  let reports: ReportFiles | null = null;
  let layout: { inputColumns: number; ours: readonly string[] } | null = null;
  const unique = new Set<string>();
  let line = 1;
  for await (const record of withInputErrors(parser as AsyncIterable<string[]>, displayName)) {
    if (layout === null) {
      layout = findOurColumns(record, displayName);
      const inputHeaders = record.slice(0, layout.inputColumns);
      reports = new ReportFiles(outDir, record, layout.inputColumns, staleDays, {
        bom: options.bom,
        idColumns:
          options.idColumns ??
          chooseIdColumns(displayName, inputHeaders, guessPhoneColumn(inputHeaders), options.idColumnNames),
      });
      made.reports = reports;
      continue;
    }
    line++;
    const width = layout.inputColumns + layout.ours.length;
    if (record.length !== width) {
      throw new InputError(
        displayName,
        `line ${line}: ${record.length} fields where the header has ${width}`,
      );
    }
    const values = Object.fromEntries(
      layout.ours.map((name, i) => [name, record[layout!.inputColumns + i] ?? '']),
    );
    const fields = Object.fromEntries(RESULT_COLUMNS.map((c) => [c, values[c] ?? ''])) as Record<
      string,
      string
    >;
    if (!('no_connectivity_since' in values) && fields.reachable === 'false' && fields.error === '') {
      // An earlier file: the carrier's status time is the only evidence it holds.
      fields.no_connectivity_since = fields.last_status_at ?? '';
      fields.no_connectivity_evidence = fields.last_status_at !== '' ? 'status_time' : '';
    }
    if (fields.phone_e164 !== '') unique.add(fields.phone_e164 as string);
    await (reports as ReportFiles).add(record, fields as ResultFields);
  }
  if (reports === null) throw new InputError(displayName, 'is empty: no header row');
  // The scan's rejects.csv beside the results, when it is there: its records count as rejected.
  for (let i = await countRejects(join(dirname(resultsPath), 'rejects.csv')); i > 0; i--) reports.addReject();
  const span = reports.span();
  const { batch } = options;
  const report = await reports.finish(
    batch ?? { batchId: null, inputFile: basename(resultsPath), provider: null, startedAt: span.first ?? '' },
    unique.size,
    batch?.finishedAt ?? span.last ?? '',
    options.trend,
  );
  await reports.publish();
  return report;
}

/** The phone column as a scan would have found it without --column; -1 when none looks like one. */
function guessPhoneColumn(headers: readonly string[]): number {
  try {
    return choosePhoneColumn('', headers);
  } catch {
    return -1;
  }
}

function findOurColumns(header: readonly string[], displayName: string) {
  for (const ours of [RESULT_COLUMNS, HISTORY_ERA_COLUMNS, EARLIER_COLUMNS] as const) {
    const tail = header.slice(-ours.length).map(bare);
    if (header.length >= ours.length && ours.every((name, i) => tail[i] === name)) {
      return { inputColumns: header.length - ours.length, ours };
    }
  }
  throw new InputError(
    displayName,
    `is not a reachscan results file: its last columns should be ${RESULT_COLUMNS.join(', ')}`,
  );
}

/** csv-parse's errors become one line naming the file and line, like every other input problem. */
async function* withInputErrors(records: AsyncIterable<string[]>, displayName: string) {
  try {
    yield* records;
  } catch (error) {
    if (error instanceof InputError) throw error;
    const { lines, message } = error as { lines?: number; message?: string };
    throw new InputError(
      displayName,
      `${lines !== undefined ? `line ${lines}: ` : ''}not a readable CSV file (${(message ?? String(error)).split(':')[0]})`,
    );
  }
}

/**
 * A CSV file's records. Through `pipeline`, so a read error (a file gone, a disk error) ends the iteration
 * with that error instead of being an unhandled stream error that kills the process.
 */
function readCsvRecords(path: string, options: { relax_quotes?: boolean } = {}): Parser {
  return pipeline(
    createReadStream(path),
    parse({ bom: true, relax_column_count: true, ...options }),
    () => {}, // the error reaches the iteration through the parser, destroyed with it
  );
}

async function countRejects(path: string): Promise<number> {
  try {
    let records = -1; // the header
    for await (const _ of readCsvRecords(path)) records++;
    return Math.max(0, records);
  } catch {
    return 0;
  }
}
