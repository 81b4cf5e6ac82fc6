import { createReadStream } from 'node:fs';
import { isAscii, isUtf8 } from 'node:buffer';
import { oneLine } from '../core/one-line.js';

/**
 * How a file's bytes become text: UTF-8 (with or without BOM); Windows-1252 for a file that is not UTF-8 at
 * all; or UTF-8 with a few bytes that are not (`utf-8-mixed`), those read as Windows-1252 each.
 */
export type InputEncoding = 'utf-8' | 'windows-1252' | 'utf-8-mixed';

/**
 * What ends a line. `lf`: LF or CRLF, and a CR alone is a character of its field (a stray one must not cut a
 * record in two). `cr`: a lone CR, for files with no LF at all (old Mac exports).
 */
export type LineBreak = 'lf' | 'cr';

/** A line holding bytes that are not UTF-8: its 1-based number and its first such byte. */
export interface InvalidLine {
  readonly line: number;
  readonly byte: number;
}

/** Lines of a mixed file named one by one in its notes; the rest are counted. */
export const NAMED_INVALID_LINES = 20;

export interface EncodingVerdict {
  readonly encoding: InputEncoding;
  readonly lineBreak: LineBreak;
  /** The first line with a byte that is not UTF-8, when there is one. */
  readonly firstInvalid: InvalidLine | null;
  /** Lines with bytes that are not UTF-8: the first {@link NAMED_INVALID_LINES}, in file order. */
  readonly invalidLines: readonly InvalidLine[];
  /** How many lines hold such bytes, and the last of them (0 when none). */
  readonly invalidLineCount: number;
  readonly lastInvalidLine: number;
  /** The file starts with a UTF-8 BOM: it says UTF-8, so stray bytes are read as Windows-1252 one by one. */
  readonly bom: boolean;
}

/** Invalid lines as counted under one line-break convention. */
class LineTally {
  readonly named: InvalidLine[] = [];
  count = 0;
  last = 0;

  add(line: number, byte: number): void {
    if (line === this.last) return;
    this.last = line;
    this.count++;
    if (this.named.length < NAMED_INVALID_LINES) this.named.push({ line, byte });
  }
}

/**
 * Reads a file's bytes once (no text is kept) to learn how to read it: its line breaks, and whether it is
 * UTF-8. A file that is UTF-8 (it has multi-byte UTF-8 characters, or a UTF-8 BOM) but for a few bytes stays
 * UTF-8, and only the fields with those bytes are read as Windows-1252; a file with no UTF-8 character at all
 * and bytes that are not UTF-8 is Windows-1252 throughout (what Excel's plain "CSV" writes on Western Windows),
 * so `José` stays `José`, never `Jos�`. The whole file decides, not its start.
 */
export class EncodingScan {
  private lfs = 0;
  private crs = 0;
  private multibyte = false;
  private bom: boolean | null = null;
  private carry: Buffer = Buffer.alloc(0);
  private readonly byLf = new LineTally();
  private readonly byCr = new LineTally();

  push(chunk: Buffer): void {
    let buf = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
    this.bom ??= buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf;
    const cut = completeLength(buf);
    this.carry = Buffer.from(buf.subarray(cut));
    buf = buf.subarray(0, cut);
    if (isUtf8(buf)) {
      this.multibyte ||= !isAscii(buf);
      this.lfs += countByte(buf, 0x0a);
      this.crs += countByte(buf, 0x0d);
      return;
    }
    this.scanLines(buf);
  }

  /** A chunk with bytes that are not UTF-8: each piece between line-break bytes is checked on its own. */
  private scanLines(buf: Buffer): void {
    let start = 0;
    for (;;) {
      const end = nextBreak(buf, start);
      const piece = buf.subarray(start, end);
      if (isUtf8(piece)) this.multibyte ||= !isAscii(piece);
      else {
        const at = firstInvalidUtf8(piece);
        // Valid characters before the first bad byte count as UTF-8 evidence too.
        this.multibyte ||= !isAscii(piece.subarray(0, at));
        const byte = piece[at] ?? 0;
        this.byLf.add(this.lfs + 1, byte);
        this.byCr.add(this.crs + 1, byte);
      }
      if (end >= buf.length) return;
      if (buf[end] === 0x0a) this.lfs++;
      else this.crs++;
      start = end + 1;
    }
  }

  finish(): EncodingVerdict {
    // The file ends in the middle of a multi-byte sequence.
    if (this.carry.length > 0) {
      this.byLf.add(this.lfs + 1, this.carry[0] ?? 0);
      this.byCr.add(this.crs + 1, this.carry[0] ?? 0);
    }
    const lineBreak: LineBreak = this.lfs === 0 && this.crs > 0 ? 'cr' : 'lf';
    const tally = lineBreak === 'cr' ? this.byCr : this.byLf;
    const bom = this.bom ?? false;
    const encoding: InputEncoding =
      tally.count === 0 ? 'utf-8' : bom || this.multibyte ? 'utf-8-mixed' : 'windows-1252';
    return {
      encoding,
      lineBreak,
      firstInvalid: tally.named[0] ?? null,
      invalidLines: tally.named,
      invalidLineCount: tally.count,
      lastInvalidLine: tally.last,
      bom,
    };
  }
}

/** The verdict for a file on disk (read whole, in 1 MiB chunks, nothing kept). */
export async function detectEncoding(path: string): Promise<EncodingVerdict> {
  const scan = new EncodingScan();
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }))
    scan.push(chunk as Buffer);
  return scan.finish();
}

/** The verdict for bytes already in memory (a test's). */
export function detectEncodingOf(bytes: Buffer): EncodingVerdict {
  const scan = new EncodingScan();
  scan.push(bytes);
  return scan.finish();
}

/** Bytes 0x80–0x9F of Windows-1252 (Latin-1 has C1 controls there); undefined ones map to themselves. */
const CP1252_HIGH =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';
const C1 = /[\u0080-\u009f]/g;
// eslint-disable-next-line no-control-regex
const NOT_ASCII = /[^\u0000-\u007f]/;

/** Text decoded as Latin-1 (`latin1`, one char per byte) → the Windows-1252 text those bytes mean. */
export function latin1ToWindows1252(text: string): string {
  return text.replace(C1, (ch) => CP1252_HIGH[ch.charCodeAt(0) - 0x80] as string);
}

/**
 * Text decoded as Latin-1 (one char per byte) from a mixed file → what its bytes mean: UTF-8 where they are
 * UTF-8, Windows-1252 for each byte that is not. Applied per field (and per rejected line), so `Zoë` keeps its
 * `ë` beside a `José` written in Windows-1252, in the same field or the next.
 */
export function latin1ToMixed(text: string): string {
  if (!NOT_ASCII.test(text)) return text;
  const bytes = Buffer.from(text, 'latin1');
  if (isUtf8(bytes)) return bytes.toString('utf8');
  let out = '';
  for (let start = 0; start < bytes.length;) {
    const at = start + firstInvalidUtf8(bytes.subarray(start));
    out += bytes.toString('utf8', start, at);
    if (at < bytes.length) out += latin1ToWindows1252(bytes.toString('latin1', at, at + 1));
    start = at + 1;
  }
  return out;
}

/** Decodes a file's bytes as the encoding says. */
export function decodeBytes(bytes: Buffer, encoding: InputEncoding): string {
  if (encoding === 'utf-8') return bytes.toString('utf8');
  if (encoding === 'windows-1252') return latin1ToWindows1252(bytes.toString('latin1'));
  let text = '';
  for (let start = 0; start < bytes.length;) {
    const end = nextBreak(bytes, start);
    text += latin1ToMixed(bytes.toString('latin1', start, Math.min(end + 1, bytes.length)));
    start = end + 1;
  }
  return text;
}

/** What the user is told when a file is not (all) UTF-8, one line each; none when it is. */
export function encodingNotes(name: string, verdict: EncodingVerdict): string[] {
  const file = oneLine(name);
  const hex = (byte: number) => `0x${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  const first = verdict.firstInvalid;
  if (first === null) return [];
  if (verdict.encoding === 'windows-1252')
    return [
      `${file}: line ${first.line}: not UTF-8 text (byte ${hex(first.byte)}); the file is read as Windows-1252 (Latin-1), as Excel's plain "CSV" writes it`,
    ];
  const notes = verdict.invalidLines.map(
    ({ line, byte }) =>
      `${file}: line ${line}: not UTF-8 text (byte ${hex(byte)}); its bytes that are not UTF-8 are read as Windows-1252 (Latin-1), the rest of the file as UTF-8`,
  );
  const more = verdict.invalidLineCount - verdict.invalidLines.length;
  if (more > 0)
    notes.push(
      `${file}: ${more} more line${more === 1 ? '' : 's'} up to line ${verdict.lastInvalidLine} ${more === 1 ? 'is' : 'are'} not UTF-8 text either, and read as Windows-1252 (Latin-1) too`,
    );
  return notes;
}

/** Length of `buf` without a multi-byte sequence cut off at its end (kept for the next chunk). */
function completeLength(buf: Buffer): number {
  const n = buf.length;
  for (let back = 1; back <= Math.min(3, n); back++) {
    const b = buf[n - back] as number;
    if (b < 0x80) return n; // ASCII: nothing pending
    if (b >= 0xc0) {
      const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
      return need > back ? n - back : n;
    }
  }
  return n;
}

/** Offset of the next LF or CR at or after `from`, or the buffer's length. */
function nextBreak(buf: Buffer, from: number): number {
  const lf = buf.indexOf(0x0a, from);
  const cr = buf.indexOf(0x0d, from);
  if (lf < 0) return cr < 0 ? buf.length : cr;
  return cr < 0 ? lf : Math.min(lf, cr);
}

function countByte(buf: Buffer, byte: number): number {
  let count = 0;
  for (let at = buf.indexOf(byte); at >= 0; at = buf.indexOf(byte, at + 1)) count++;
  return count;
}

/** Offset of the first byte that starts no valid UTF-8 sequence (RFC 3629: no overlongs, no surrogates). */
export function firstInvalidUtf8(buf: Buffer): number {
  let i = 0;
  const n = buf.length;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => {
    const b = buf[k];
    return b !== undefined && b >= lo && b <= hi;
  };
  while (i < n) {
    const b = buf[i] as number;
    if (b < 0x80) i++;
    else if (b >= 0xc2 && b <= 0xdf && cont(i + 1)) i += 2;
    else if (
      b >= 0xe0 &&
      b <= 0xef &&
      cont(i + 1, b === 0xe0 ? 0xa0 : 0x80, b === 0xed ? 0x9f : 0xbf) &&
      cont(i + 2)
    )
      i += 3;
    else if (
      b >= 0xf0 &&
      b <= 0xf4 &&
      cont(i + 1, b === 0xf0 ? 0x90 : 0x80, b === 0xf4 ? 0x8f : 0xbf) &&
      cont(i + 2) &&
      cont(i + 3)
    )
      i += 4;
    else return i;
  }
  return n;
}
