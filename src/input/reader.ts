import { createReadStream } from 'node:fs';
import { parse, type CsvError } from 'csv-parse';
import { InputError } from './errors.js';
import type { InputShape } from './sniff.js';

/** One data record (the header is not one): `index` counts data records from 0, `line` is where it starts. */
export interface InputRecord {
  readonly kind: 'record';
  readonly index: number;
  readonly line: number;
  readonly fields: readonly string[];
  /** Bytes of the file read up to the end of this record: progress through a file being ingested. */
  readonly bytes: number;
}

/** A record that is not valid CSV: it goes to rejects.csv with its raw text. */
export interface InputReject {
  readonly kind: 'reject';
  readonly line: number;
  readonly raw: string;
  readonly reason: string;
}

export type InputItem = InputRecord | InputReject;

/** A record larger than this is almost surely an unclosed quote swallowing the file; refuse, don't buffer. */
export const MAX_RECORD_BYTES = 32 * 1024 * 1024;

/**
 * Streams a CSV file record by record in file order, with rejects in their place. UTF-8 with or without BOM,
 * CRLF, LF or CR line ends (mixed too), quoted fields with delimiters and newlines. Memory stays flat: nothing
 * is collected.
 */
export async function* readInput(
  path: string,
  shape: InputShape,
  displayName = path,
): AsyncGenerator<InputItem> {
  const pending: InputReject[] = [];
  const stop: { fatal: InputError | null } = { fatal: null };
  const parser = parse({
    bom: true,
    delimiter: shape.delimiter,
    record_delimiter: ['\r\n', '\n', '\r'],
    // A quote inside an unquoted field is a character, as in Excel: `=HYPERLINK("x")` stays one field.
    relax_quotes: true,
    info: true,
    raw: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    max_record_size: MAX_RECORD_BYTES,
    on_skip: (error: CsvError | undefined, raw: string | undefined) => {
      const text = (raw ?? '').replace(/^[\r\n]+/, '');
      const end = typeof error?.lines === 'number' ? error.lines : 0;
      const line = startLine(end, text);
      if (error?.code === 'CSV_MAX_RECORD_SIZE') {
        stop.fatal = new InputError(
          displayName,
          `line ${line}: a record over ${MAX_RECORD_BYTES / 1024 / 1024} MiB (an unclosed quote?)`,
        );
        parser.destroy(stop.fatal);
        return undefined;
      }
      pending.push({
        kind: 'reject',
        line,
        raw: text.replace(/\r?\n$|\r$/, ''),
        reason: describe(error, line),
      });
      return undefined;
    },
  });
  const source = createReadStream(path);
  source.on('error', (error) => parser.destroy(error));
  source.pipe(parser);

  let headerSeen = false;
  let index = 0;
  try {
    for await (const item of parser as AsyncIterable<{
      record: string[];
      info: { lines: number; bytes: number };
      raw: string;
    }>) {
      const line = startLine(item.info.lines, item.raw.replace(/^[\r\n]+/, ''));
      // Rejects are reported as the parser meets them, which can be ahead of the records read so far.
      while (pending.length > 0 && (pending[0] as InputReject).line < line)
        yield pending.shift() as InputReject;
      if (!headerSeen) {
        headerSeen = true;
        continue;
      }
      yield { kind: 'record', index: index++, line, fields: item.record, bytes: item.info.bytes };
    }
  } catch (error) {
    if (stop.fatal !== null) throw stop.fatal;
    throw error;
  }
  if (stop.fatal !== null) throw stop.fatal;
  yield* pending;
}

/** The line a record starts on, from the line it ends on and its raw text. */
function startLine(endLine: number, raw: string): number {
  const body = raw.replace(/\r?\n$|\r$/, '');
  let newlines = 0;
  for (let i = 0; i < body.length; i++) {
    const ch = body.charCodeAt(i);
    if (ch === 10 || (ch === 13 && body.charCodeAt(i + 1) !== 10)) newlines++;
  }
  return Math.max(1, endLine - newlines);
}

function describe(error: CsvError | undefined, line: number): string {
  switch (error?.code) {
    case 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH':
    case 'CSV_RECORD_INCONSISTENT_COLUMNS':
      return error.message.replace(
        /^Invalid Record Length: expect (\d+), got (\d+).*/,
        'wrong field count: expected $1, got $2',
      );
    case 'CSV_QUOTE_NOT_CLOSED':
      return `quote not closed: everything from line ${line} to the end of the file was read as one record`;
    case 'INVALID_OPENING_QUOTE':
      return 'a quote inside an unquoted field';
    case 'CSV_INVALID_CLOSING_QUOTE':
      return 'text after a closing quote';
    default:
      return error?.message ?? 'not valid CSV';
  }
}
