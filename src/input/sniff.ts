import { open } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { InputError } from './errors.js';
import { decodeBytes, detectEncoding, encodingNote, type InputEncoding } from './encoding.js';
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
  /** Things the user should know that do not stop the scan (a file read as Windows-1252), one line each. */
  readonly notes?: readonly string[];
}

const SNIFF_BYTES = 64 * 1024;

/**
 * Looks at the start of a file to learn its shape before anything is queued: refuses empty, binary, UTF-16 and
 * header-only files with one clear line, detects the delimiter and the encoding (the whole file is read once for
 * that, keeping nothing), and reads the header row.
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
    const buffer = Buffer.alloc(Math.min(size, SNIFF_BYTES));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const head = buffer.subarray(0, bytesRead);
    if (size === 0 || head.toString('utf8').trim() === '')
      throw new InputError(displayName, 'the file is empty');
    if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) {
      throw new InputError(displayName, 'the file is UTF-16 text; save it as UTF-8 (CSV UTF-8 in Excel)');
    }
    const nul = head.indexOf(0);
    if (nul >= 0)
      throw new InputError(displayName, `a binary file, not CSV text (NUL byte at offset ${nul})`);
    const verdict = await detectEncoding(path);
    let text = decodeBytes(head, verdict.encoding);
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (bytesRead < size)
      text = text.slice(0, Math.max(text.lastIndexOf('\n'), text.lastIndexOf('\r'), 0) || text.length);
    const lines = splitLogicalLines(text).slice(0, 20);
    const delimiter = detectDelimiter(lines);
    const headerLine = lines[0] ?? '';
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
    if (bytesRead === size && lines.length === 1) {
      throw new InputError(displayName, 'line 1 is the header and no data row follows: nothing to scan');
    }
    const note = encodingNote(displayName, verdict);
    return {
      delimiter,
      headers,
      sizeBytes: size,
      encoding: verdict.encoding,
      notes: note === null ? [] : [note],
    };
  } finally {
    await handle.close();
  }
}

/**
 * Splits on line breaks (LF, CRLF or a lone CR, as old Mac exports end lines) outside double quotes, so a quoted
 * field with a newline stays in one line.
 */
export function splitLogicalLines(text: string): string[] {
  const lines: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') quoted = !quoted;
    else if ((ch === '\n' || (ch === '\r' && text[i + 1] !== '\n')) && !quoted) {
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
