import { createReadStream, type ReadStream } from 'node:fs';
import { finished, type Readable } from 'node:stream';
import { open } from 'node:fs/promises';
import { parse, type CsvError, type Parser } from 'csv-parse';
import { type InputShape } from './sniff.js';
import { DELIMITERS } from '../core/settings.js';
import {
  detectEncoding,
  latin1ToMixed,
  latin1ToWindows1252,
  type InputEncoding,
  type LineBreak,
} from './encoding.js';

/** One data record (the header is not one): `index` counts data records from 0, `line` is where it starts. */
export interface InputRecord {
  readonly kind: 'record';
  readonly index: number;
  readonly line: number;
  readonly fields: readonly string[];
  /** Bytes of the file read up to the end of this record: progress through a file being ingested. */
  readonly bytes: number;
  /** The line the record ends on (after `line` when a quoted field holds line breaks). */
  readonly endLine: number;
}

/** A record that is not valid CSV: it goes to rejects.csv with its raw text. */
export interface InputReject {
  readonly kind: 'reject';
  readonly line: number;
  readonly raw: string;
  readonly reason: string;
}

export type InputItem = InputRecord | InputReject;

/**
 * A record larger than this is almost surely an unclosed quote swallowing the file (or a runaway field): its
 * first line is rejected and reading goes on from the next line, so memory stays bounded by this size.
 */
export const MAX_RECORD_BYTES = 32 * 1024 * 1024;

/** A reject's `raw` is cut at this many characters when the record was cut short (over MAX_RECORD_BYTES). */
export const MAX_REJECT_RAW_CHARS = 10_000;

export interface ReadOptions {
  /** Overrides {@link MAX_RECORD_BYTES} (tests). */
  readonly maxRecordBytes?: number;
  /** Reads from this record boundary on rather than from the start (see {@link RecordBoundary}). */
  readonly from?: RecordBoundary;
}

/**
 * Where a record met in an earlier read of the same file ends: its `bytes`, the line after its `endLine`, and
 * the index of the record after it. Reading can start there as it would have gone on.
 */
export interface RecordBoundary {
  readonly offset: number;
  readonly line: number;
  readonly index: number;
}

/** Where a pass over the file stopped early: a record that never ends, starting on `line`. */
interface Restart {
  readonly line: number;
  readonly reason: 'unclosed-quote' | 'too-large';
  /** A point before that line whose offset and line are known (the end of the last good record). */
  readonly from: { readonly offset: number; readonly line: number };
}

/** How one file is read: its delimiter, its encoding and its line breaks. */
interface FileFormat {
  readonly delimiter: string;
  readonly encoding: InputEncoding;
  readonly lineBreak: LineBreak;
  /** Fields of the header: what every record must have. */
  readonly columns: number;
}

/**
 * Streams a CSV file record by record in file order, with rejects in their place. UTF-8 with or without BOM,
 * Windows-1252 when the file is not UTF-8, or UTF-8 with the fields that are not read as Windows-1252; LF or
 * CRLF line ends (mixed too; a lone CR is then a character of its field), or CR alone in a file without LF;
 * quoted fields with delimiters and newlines. A quote that is never closed (or a record over {@link MAX_RECORD_BYTES}) costs only the line it
 * starts on: that line is rejected and reading resumes on the next one. Memory stays flat: nothing is collected.
 */
export async function* readInput(
  path: string,
  shape: InputShape,
  displayName = path,
  options: ReadOptions = {},
): AsyncGenerator<InputItem> {
  for await (const batch of readInputBatches(path, shape, displayName, options)) yield* batch;
}

/**
 * {@link readInput}'s items as they come from the parser, several at a time (the records of one read from the
 * file, or fewer), in the same order. An await per record cost a pass over a large file more than parsing it.
 */
export async function* readInputBatches(
  path: string,
  shape: InputShape,
  _displayName = path,
  options: ReadOptions = {},
): AsyncGenerator<readonly InputItem[]> {
  const format = await fileFormat(path, shape);
  const maxRecordBytes = options.maxRecordBytes ?? MAX_RECORD_BYTES;
  // csv-parse takes a UTF-8 BOM as a reason to read UTF-8, which a mixed file is read as Latin-1 to avoid.
  let start = options.from ?? {
    offset: format.encoding === 'utf-8-mixed' && (await startsWithBom(path)) ? 3 : 0,
    line: 1,
  };
  const counters = { index: options.from?.index ?? 0, headerSeen: options.from !== undefined };
  for (;;) {
    const restart = yield* readPass(path, format, maxRecordBytes, start, counters);
    if (restart === null) return;
    const next = await locateLineAfter(
      path,
      restart.from,
      restart.line,
      MAX_REJECT_RAW_CHARS * 4,
      format.lineBreak,
    );
    const text = decode(next.text, format.encoding);
    const raw =
      next.cut || text.length > MAX_REJECT_RAW_CHARS ? `${text.slice(0, MAX_REJECT_RAW_CHARS)}…` : text;
    const shown = raw === text ? '' : ` (raw shows its first ${MAX_REJECT_RAW_CHARS} characters)`;
    yield [
      {
        kind: 'reject',
        line: restart.line,
        raw,
        reason:
          restart.reason === 'unclosed-quote'
            ? `quote not closed: the quoted field opened on line ${restart.line} never ends; this line is rejected${shown} and reading goes on from line ${restart.line + 1}`
            : `a record over ${formatMiB(maxRecordBytes)} from line ${restart.line} (a runaway field or an unclosed quote); this line is rejected${shown} and reading goes on from line ${restart.line + 1}`,
      },
    ];
    if (next.offset === null) return;
    // The header is always read in the first pass (sniffing refused a header that is not valid CSV).
    counters.headerSeen = true;
    start = { offset: next.offset, line: restart.line + 1 };
  }
}

/** The shape's format, or, for a shape rebuilt from a queued job, what the file itself says (the same). */
async function fileFormat(path: string, shape: InputShape): Promise<FileFormat> {
  const { delimiter } = shape;
  const columns = shape.headers.length;
  if (shape.encoding !== undefined && shape.lineBreak !== undefined)
    return { delimiter, encoding: shape.encoding, lineBreak: shape.lineBreak, columns };
  const verdict = await detectEncoding(path);
  return { delimiter, encoding: verdict.encoding, lineBreak: verdict.lineBreak, columns };
}

async function startsWithBom(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(3), 0, 3, 0);
    return bytesRead === 3 && buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf;
  } finally {
    await handle.close();
  }
}

/** Fields read as Latin-1 (one char per byte) → the text they hold; as they are for UTF-8. */
function fieldDecoder(encoding: InputEncoding): (s: string) => string {
  if (encoding === 'utf-8') return (s) => s;
  return encoding === 'windows-1252' ? latin1ToWindows1252 : latin1ToMixed;
}

/** What one pass shares between the parser's callbacks and the loop that yields its items. */
interface PassState {
  /** The line start the pass began at. */
  readonly start: { readonly offset: number; readonly line: number };
  /** Where the parser's byte count starts in the file: before `start` by the length of the lead line. */
  readonly origin: number;
  readonly lines: ReturnType<typeof createLineCounter>;
  /** Rejects met by the parser, yielded once the records before them are. */
  readonly pending: InputReject[];
  /** The end of the last record known to end well: where a restart can count lines from. */
  checkpoint: { offset: number; line: number };
  /** Set when a record never ends: the pass stops there. */
  restart: Restart | null;
}

/**
 * One csv-parse pass from `start` (a line start) to the end of the file, or until a record that never ends; then
 * the place to resume from.
 */
async function* readPass(
  path: string,
  format: FileFormat,
  maxRecordBytes: number,
  start: { offset: number; line: number },
  counters: { index: number; headerSeen: boolean },
): AsyncGenerator<readonly InputItem[], Restart | null> {
  // A pass that starts past the header is first given a line of as many empty fields: the parser takes the
  // record length from the first record it reads, and a malformed line there would make every good one a reject.
  const lead = counters.headerSeen ? leadLine(format) : null;
  const pass: PassState = {
    start,
    origin: start.offset - (lead?.length ?? 0),
    lines: createLineCounter(start.line - 1 - (lead !== null ? 1 : 0), format.lineBreak),
    pending: [],
    checkpoint: { offset: start.offset, line: start.line },
    restart: null,
  };
  let skipFirst = lead !== null || !counters.headerSeen;
  counters.headerSeen = true;
  const pending = pass.pending;
  const text = fieldDecoder(format.encoding);
  // Reads of 32 KB rather than 64: the parser hands over every record of a read at once, and that many records
  // alive while numbers are normalised survived the young generation's collections (twice the GC time).
  const source = createReadStream(path, { start: start.offset, highWaterMark: READ_BYTES });
  const parser = createPassParser(pass, format, maxRecordBytes, source, text);
  placeRecordsAsPushed(parser, pass);
  source.on('error', (error) => parser.destroy(error));
  if (lead !== null) parser.write(lead);
  source.pipe(parser);

  for await (const parsed of readableBatches<ParsedRecord>(parser)) {
    const items: InputItem[] = [];
    for (const item of parsed) {
      const { line } = item;
      const stopAt = pass.restart;
      // A record the parser cut short when it was stopped, or anything from the restart line on.
      if (stopAt !== null && line >= stopAt.line) continue;
      // Rejects are reported as the parser meets them, which can be ahead of the records read so far.
      while (pending.length > 0 && (pending[0] as InputReject).line < line)
        items.push(pending.shift() as InputReject);
      // The header, or the lead line.
      if (skipFirst) {
        skipFirst = false;
        continue;
      }
      items.push({
        kind: 'record',
        index: counters.index++,
        line,
        fields: format.encoding === 'utf-8' ? item.fields : item.fields.map(text),
        bytes: pass.origin + item.bytes,
        endLine: item.endLine,
      });
    }
    if (items.length > 0) yield items;
  }
  if (pending.length > 0) yield pending.splice(0);
  return pass.restart;
}

/** A line of the header's number of fields, all empty (the first quoted, so that one field is not a blank line). */
function leadLine(format: FileFormat): Buffer {
  const end = format.lineBreak === 'cr' ? '\r' : '\n';
  return Buffer.from(`""${format.delimiter.repeat(format.columns - 1)}${end}`, 'latin1');
}

/** Bytes of one read from the file (see readPass). */
const READ_BYTES = 32 * 1024;

/** Items handed over at most at once: a bound on what one batch holds, whatever the parser has ready. */
const MAX_BATCH = 2_048;

/**
 * An object stream's items as its async iterator gives them (same end, same errors, the stream destroyed when
 * the loop stops early), but everything already buffered at once rather than one await per item.
 */
async function* readableBatches<T>(stream: Readable): AsyncGenerator<T[]> {
  let wake: (() => void) | null = null;
  const next = () => {
    const resolve = wake;
    wake = null;
    resolve?.();
  };
  // undefined while the stream runs, null when it ended well, the error when it failed.
  let outcome: Error | null | undefined;
  stream.on('readable', next);
  const cleanup = finished(stream, { writable: false }, (error) => {
    outcome = error ?? null;
    next();
  });
  try {
    for (;;) {
      const batch: T[] = [];
      while (batch.length < MAX_BATCH) {
        const item: unknown = stream.destroyed ? null : stream.read();
        if (item === null) break;
        batch.push(item as T);
      }
      if (batch.length > 0) yield batch;
      else if (outcome === null) return;
      else if (outcome !== undefined) throw outcome;
      else await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    cleanup();
    stream.off('readable', next);
    // As the stream's own iterator does: a loop left early must not leave the file open.
    if (outcome === undefined) stream.destroy();
  }
}

/** csv-parse set up for one pass: records with their raw text, skips noted in `pass` (a runaway stops it). */
function createPassParser(
  pass: PassState,
  format: FileFormat,
  maxRecordBytes: number,
  source: ReadStream,
  text: (s: string) => string,
): Parser {
  const parser = parse({
    bom: pass.start.offset === 0,
    encoding: format.encoding === 'utf-8' ? 'utf8' : 'latin1',
    delimiter: format.delimiter,
    // Never a lone CR in a file with LF line ends: a stray CR inside a field would cut its record in two.
    record_delimiter: format.lineBreak === 'cr' ? ['\r'] : ['\r\n', '\n'],
    // A quote inside an unquoted field is a character, as in Excel: `=HYPERLINK("x")` stays one field.
    relax_quotes: true,
    // `raw` for rejects and line counting.
    raw: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    max_record_size: maxRecordBytes,
    on_skip: (error: CsvError | undefined, raw: string | undefined) => {
      if (noteSkip(pass, error, raw ?? '', format.delimiter, text)) {
        // Stop reading: what the parser already produced is still delivered, the rest is ignored.
        source.unpipe(parser);
        source.destroy();
        parser.end();
      }
      return undefined;
    },
  });
  return parser;
}

/**
 * Places a record csv-parse skipped: a reject to report in its place, or, for a record that never ends, the
 * pass's restart. True when the pass must stop there.
 */
function noteSkip(
  pass: PassState,
  error: CsvError | undefined,
  body: string,
  delimiter: string,
  text: (s: string) => string,
): boolean {
  if (pass.restart !== null) return false;
  let reported = typeof error?.lines === 'number' ? error.lines : 0;
  // At the end of the file inside a quote, csv-parse has already counted the final CRLF's CR as a line.
  if (error?.code === 'CSV_QUOTE_NOT_CLOSED' && body.endsWith('\r\n')) reported--;
  const line = pass.lines.place(reported, body).start;
  if (error?.code === 'CSV_MAX_RECORD_SIZE' || error?.code === 'CSV_QUOTE_NOT_CLOSED') {
    pass.restart = {
      line,
      reason: error.code === 'CSV_QUOTE_NOT_CLOSED' ? 'unclosed-quote' : 'too-large',
      from: pass.checkpoint,
    };
    return true;
  }
  const shown = trimBreaks(text(body));
  pass.pending.push({
    kind: 'reject',
    line,
    raw: shown,
    reason: describe(error, shown, delimiter),
  });
  return false;
}

/**
 * Each record is placed as csv-parse hands it over, in file order like on_skip: `parser.info` then describes
 * that record (lines read to its end, bytes read). Not on_record: its context object, built per record, took
 * half of the parser's time.
 */
function placeRecordsAsPushed(parser: Parser, pass: PassState): void {
  const pushRecord = parser.push.bind(parser);
  const { lines } = pass;
  const { origin } = pass;
  parser.push = (chunk: unknown, encoding?: BufferEncoding) => {
    if (chunk === null) return pushRecord(chunk, encoding);
    // What the parser flushes after it was stopped (a runaway record cut short) is not a record.
    if (pass.restart !== null) return true;
    const { record: fields, raw } = chunk as { record: string[]; raw: string };
    const place = lines.place(parser.info.lines, raw, fields[0]);
    // The last record known to end well: where a restart can count lines from.
    pass.checkpoint = { offset: origin + parser.info.bytes, line: place.end + 1 };
    const parsed: ParsedRecord = { fields, line: place.start, endLine: place.end, bytes: parser.info.bytes };
    return pushRecord(parsed, encoding);
  };
}

/** What the parser hands on: the fields, the lines the record starts and ends on, bytes read to its end. */
interface ParsedRecord {
  readonly fields: string[];
  readonly line: number;
  readonly endLine: number;
  readonly bytes: number;
}

/**
 * Line numbers as people count them: LF or CRLF end a line, or a lone CR in a file without LF (see
 * {@link LineBreak}). csv-parse counts every CR and LF it visits as a line: a CRLF inside a quoted field as two,
 * a lone CR inside a field as one. Fed every record and skip in file order, this takes those extra lines back
 * out. `firstField` (a record's, when known) tells a field that starts with a lone CR from a blank line before
 * it, which look the same in csv-parse's raw text.
 */
export function createLineCounter(
  lineBase: number,
  lineBreak: LineBreak = 'lf',
): {
  place(reportedEndLine: number, raw: string, firstField?: string): { start: number; end: number };
} {
  let extra = 0;
  return {
    place(reportedEndLine, raw, firstField) {
      // Indexes rather than a trimmed copy: a runaway record's raw text can be tens of MB.
      let from = 0;
      while (from < raw.length && (raw.charCodeAt(from) === 10 || raw.charCodeAt(from) === 13)) from++;
      if (lineBreak === 'lf' && raw.charCodeAt(from) !== 34) from -= leadingCrs(raw, from, firstField);
      let to = raw.length;
      if (to > from && raw.charCodeAt(to - 1) === 10) to--;
      if (to > from && raw.charCodeAt(to - 1) === 13) to--;
      const counted = countBreaks(raw, from, to, lineBreak);
      extra += counted.extra;
      const end = Math.max(1, reportedEndLine - extra);
      return { start: lineBase + Math.max(1, end - counted.breaks), end: lineBase + end };
    },
  };
}

/** How many of the CRs just before `from` belong to the record's first field (not to blank lines before it). */
function leadingCrs(raw: string, from: number, firstField: string | undefined): number {
  if (firstField === undefined || firstField.charCodeAt(0) !== 13) return 0;
  let inField = 0;
  while (firstField.charCodeAt(inField) === 13) inField++;
  let inRaw = 0;
  while (inRaw < from && raw.charCodeAt(from - 1 - inRaw) === 13) inRaw++;
  return Math.min(inField, inRaw);
}

/** Line breaks in raw[from, to), and the lines csv-parse counted there that are none. */
function countBreaks(
  raw: string,
  from: number,
  to: number,
  lineBreak: LineBreak,
): { breaks: number; extra: number } {
  let breaks = 0;
  let extra = 0;
  for (let i = from; i < to; i++) {
    const ch = raw.charCodeAt(i);
    if (ch === 13) {
      if (raw.charCodeAt(i + 1) === 10) {
        // A CRLF inside quotes: one line, counted as two.
        breaks++;
        extra++;
        i++;
      } else if (lineBreak === 'cr') breaks++;
      // A lone CR in a file of LF lines is a character, counted as a line.
      else extra++;
    } else if (ch === 10) breaks++;
  }
  return { breaks, extra };
}

/** A raw record without the line breaks before it (left from blank lines) and its own line break after it. */
function trimBreaks(raw: string): string {
  return raw.replace(/^[\r\n]+/, '').replace(/\r?\n$|\r$/, '');
}

/**
 * From a known line start, finds line `line` and the offset of the line after it: returns that line's first
 * `maxBytes` bytes (`cut` when there were more) and where the next line starts (null at the end of the file). Line
 * breaks are the file's, as the parser takes them.
 */
export async function locateLineAfter(
  path: string,
  from: { offset: number; line: number },
  line: number,
  maxBytes: number,
  lineBreak: LineBreak = 'lf',
): Promise<{ text: Buffer; cut: boolean; offset: number | null }> {
  // Only one byte ends a line: LF (a CRLF's CR is dropped from the line's text), or CR in a file with no LF.
  const ending = lineBreak === 'cr' ? 0x0d : 0x0a;
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(1024 * 1024);
    let position = from.offset;
    let current = from.line;
    const parts: Buffer[] = [];
    let kept = 0;
    let cut = false;
    const text = () => {
      const whole = Buffer.concat(parts);
      return whole.at(-1) === 0x0d && ending === 0x0a ? whole.subarray(0, -1) : whole;
    };
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) return { text: text(), cut, offset: null };
      let segmentStart = 0;
      for (let i = buffer.indexOf(ending, 0); i >= 0 && i < bytesRead; i = buffer.indexOf(ending, i + 1)) {
        if (current === line) keep(buffer.subarray(segmentStart, i));
        current++;
        segmentStart = i + 1;
        if (current > line) return { text: text(), cut, offset: position + i + 1 };
      }
      if (current === line) keep(buffer.subarray(segmentStart, bytesRead));
      position += bytesRead;
    }

    function keep(bytes: Buffer): void {
      const room = maxBytes - kept;
      if (bytes.length > room) cut = true;
      const taken = Buffer.from(bytes.subarray(0, Math.max(0, room)));
      parts.push(taken);
      kept += taken.length;
    }
  } finally {
    await handle.close();
  }
}

function decode(bytes: Buffer, encoding: InputEncoding): string {
  return encoding === 'utf-8' ? bytes.toString('utf8') : fieldDecoder(encoding)(bytes.toString('latin1'));
}

function formatMiB(bytes: number): string {
  const mib = bytes / 1024 / 1024;
  return mib >= 1 ? `${Number.isInteger(mib) ? mib : mib.toFixed(1)} MiB` : `${bytes} bytes`;
}

/** Why a record is not valid CSV, in words; a wrong field count says when the line uses another delimiter. */
export function describe(error: CsvError | undefined, raw: string, delimiter: string): string {
  switch (error?.code) {
    case 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH':
    case 'CSV_RECORD_INCONSISTENT_COLUMNS': {
      const match = /^Invalid Record Length: expect (\d+), got (\d+)/.exec(error.message);
      if (match === null) return error.message;
      const expected = Number(match[1]);
      const other = DELIMITERS.find(
        (d) => d !== delimiter && countFields(raw.replace(/\r?\n$|\r$/, ''), d) === expected,
      );
      return (
        `wrong field count: expected ${expected}, got ${match[2]}` +
        (other !== undefined && expected > 1
          ? `; this line seems to be separated by ${name(other)} where the file uses ${name(delimiter)}`
          : '')
      );
    }
    case 'INVALID_OPENING_QUOTE':
      return 'a quote inside an unquoted field';
    case 'CSV_INVALID_CLOSING_QUOTE':
      return 'text after a closing quote';
    default:
      return error?.message ?? 'not valid CSV';
  }
}

function name(delimiter: string): string {
  return delimiter === '\t' ? 'TAB' : `"${delimiter}"`;
}

/** Fields of one line split on `delimiter` outside double quotes. */
function countFields(line: string, delimiter: string): number {
  let quoted = false;
  let count = 1;
  for (const ch of line) {
    if (ch === '"') quoted = !quoted;
    else if (ch === delimiter && !quoted) count++;
  }
  return count;
}
