import { open, type FileHandle } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { InputError } from './errors.js';
import {
  decodeBytes,
  detectEncoding,
  encodingNotes,
  type InputEncoding,
  type LineBreak,
} from './encoding.js';
import { DELIMITERS, type Delimiter } from '../core/settings.js';

export interface InputShape {
  readonly delimiter: Delimiter;
  /** Header fields as written (BOM removed). */
  readonly headers: readonly string[];
  readonly sizeBytes: number;
  /**
   * How the file's bytes are read; when absent (a shape rebuilt from a queued job) the reader finds out itself,
   * with the same answer.
   */
  readonly encoding?: InputEncoding;
  /** What ends a line (see {@link LineBreak}); when absent the reader finds out itself, with the same answer. */
  readonly lineBreak?: LineBreak;
  /** Things the user should know that do not stop the scan (lines read as Windows-1252), one line each. */
  readonly notes?: readonly string[];
}

const SNIFF_BYTES = 64 * 1024;

/**
 * A header row longer than this is refused before the rest of the file is read: no list of column names is that
 * long, and a file with no line break for this long is no CSV (a dump, a single-line export) whose first
 * megabytes would otherwise become a column name in every output.
 */
export const MAX_HEADER_BYTES = 1024 * 1024;

/**
 * Looks at the start of a file to learn its shape before anything is queued: refuses empty, binary, UTF-16,
 * UTF-32 and header-only files and over-long headers with one clear line, detects the delimiter, the encoding and
 * the line breaks (the whole file is read once for that, keeping nothing), and reads the header row.
 */
export async function sniffInput(path: string, displayName = path): Promise<InputShape> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(
      displayName,
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not a file' : 'cannot be read',
    );
  }
  try {
    const { size } = await handle.stat();
    const head = await readHead(handle, size);
    refuseUnreadable(head, size, displayName);
    const verdict = await detectEncoding(path);
    let text = decodeBytes(head, verdict.encoding);
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (head.length < size) text = text.slice(0, lastBreak(text, verdict.lineBreak) || text.length);
    const lines = splitLogicalLines(text, verdict.lineBreak).slice(0, 20);
    const delimiter = detectDelimiter(lines);
    const headers = parseHeader(lines[0] ?? '', delimiter, displayName);
    if (head.length === size && lines.length === 1) {
      throw new InputError(displayName, 'line 1 is the header and no data row follows: nothing to scan');
    }
    return {
      delimiter,
      headers,
      sizeBytes: size,
      encoding: verdict.encoding,
      lineBreak: verdict.lineBreak,
      notes: encodingNotes(displayName, verdict),
    };
  } finally {
    await handle.close();
  }
}

/**
 * The file's first bytes: 64 KiB, or, when the first line is longer, up to {@link MAX_HEADER_BYTES} and 64 KiB
 * more, so the whole header and the lines after it are seen.
 */
async function readHead(handle: FileHandle, size: number): Promise<Buffer> {
  const read = async (length: number) => {
    const buffer = Buffer.alloc(Math.min(size, length));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead);
  };
  const head = await read(SNIFF_BYTES);
  if (head.length === size || firstBreak(head) >= 0) return head;
  return read(MAX_HEADER_BYTES + SNIFF_BYTES);
}

/** Refuses what is no CSV text, or no CSV this tool can read: one line saying why. */
function refuseUnreadable(head: Buffer, size: number, displayName: string): void {
  if (size === 0 || head.toString('latin1').trim() === '')
    throw new InputError(displayName, 'the file is empty');
  const utf32 =
    head[0] === 0xff && head[1] === 0xfe && head[2] === 0 && head[3] === 0
      ? 'little-endian'
      : head[0] === 0 && head[1] === 0 && head[2] === 0xfe && head[3] === 0xff
        ? 'big-endian'
        : null;
  if (utf32 !== null)
    throw new InputError(
      displayName,
      `the file is UTF-32 text (${utf32}, with a BOM); save it as UTF-8 (CSV UTF-8 in Excel)`,
    );
  if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) {
    throw new InputError(displayName, 'the file is UTF-16 text; save it as UTF-8 (CSV UTF-8 in Excel)');
  }
  const nul = head.indexOf(0);
  if (nul >= 0) throw new InputError(displayName, `a binary file, not CSV text (NUL byte at offset ${nul})`);
  // The first physical line, quotes or not: a quoted line break in a header only makes its first line shorter.
  const headerEnd = firstBreak(head);
  if (headerEnd > MAX_HEADER_BYTES || (headerEnd < 0 && size > MAX_HEADER_BYTES))
    throw new InputError(
      displayName,
      `line 1: the header row is longer than the limit of 1 MiB (no line break in the first ${MAX_HEADER_BYTES} bytes); is this a CSV file?`,
    );
}

/** The header row's fields, trimmed; refused when it is no CSV or empty. */
function parseHeader(headerLine: string, delimiter: Delimiter, displayName: string): string[] {
  let headers: string[];
  try {
    const records: string[][] = parse(headerLine, { delimiter, relax_quotes: true });
    headers = (records[0] ?? []).map((h) => h.trim());
  } catch {
    throw new InputError(displayName, 'line 1: the header row is not valid CSV');
  }
  if (headers.length === 0 || headers.every((h) => h === '')) {
    throw new InputError(displayName, 'line 1: no header row (the first line is empty)');
  }
  return headers;
}

/** Offset of the first LF or CR in `bytes`, or -1. */
function firstBreak(bytes: Buffer): number {
  const lf = bytes.indexOf(0x0a);
  const cr = bytes.indexOf(0x0d);
  return lf < 0 ? cr : cr < 0 ? lf : Math.min(lf, cr);
}

/** Where the last complete line of a text cut short ends (0 when none does). */
function lastBreak(text: string, lineBreak: LineBreak): number {
  return Math.max(text.lastIndexOf(lineBreak === 'cr' ? '\r' : '\n'), 0);
}

/**
 * Splits on line breaks outside double quotes, so a quoted field with a newline stays in one line. The breaks
 * are the file's (see {@link LineBreak}): LF or CRLF, a lone CR then being part of its line; or, in a file with
 * no LF at all, a lone CR. Without `lineBreak`, the text decides the same way.
 */
export function splitLogicalLines(
  text: string,
  lineBreak: LineBreak = text.includes('\n') ? 'lf' : 'cr',
): string[] {
  const lines: string[] = [];
  const brk = lineBreak === 'cr' ? '\r' : '\n';
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') quoted = !quoted;
    else if (ch === brk && !quoted) {
      lines.push(text.slice(start, i).replace(/\r$/, ''));
      start = i + 1;
    }
  }
  if (start < text.length) lines.push(text.slice(start).replace(/\r$/, ''));
  return lines.filter((line) => line.trim() !== '');
}

/**
 * The delimiter that splits the header and the following lines into the same number of fields, preferring
 * more fields; `,` when none splits anything (a one-column file).
 */
export function detectDelimiter(lines: readonly string[]): Delimiter {
  let best: { delimiter: Delimiter; score: number } = { delimiter: ',', score: 0 };
  for (const delimiter of DELIMITERS) {
    const counts = lines.map((line) => countOutsideQuotes(line, delimiter));
    const header = counts[0] ?? 0;
    if (header === 0) continue;
    const agreeing = counts.filter((c) => c === header).length;
    // Consistency first (share of lines that agree with the header), then the number of columns.
    const score = (agreeing / counts.length) * 1000 + header;
    if (score > best.score) best = { delimiter, score };
  }
  return best.delimiter;
}

function countOutsideQuotes(line: string, delimiter: string): number {
  let quoted = false;
  let count = 0;
  for (const ch of line) {
    if (ch === '"') quoted = !quoted;
    else if (ch === delimiter && !quoted) count++;
  }
  return count;
}
