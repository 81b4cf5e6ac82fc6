import { createReadStream } from 'node:fs';
import { isUtf8 } from 'node:buffer';

/** How a file's bytes become text: UTF-8 (with or without BOM), or Windows-1252 for a file that is not UTF-8. */
export type InputEncoding = 'utf-8' | 'windows-1252';

export interface EncodingVerdict {
  readonly encoding: InputEncoding;
  /** The first byte that is not UTF-8, when there is one: its 1-based line and its value. */
  readonly firstInvalid: { readonly line: number; readonly byte: number } | null;
  /** The file starts with a UTF-8 BOM: it says UTF-8, so stray bytes are replaced rather than re-read. */
  readonly bom: boolean;
}

/**
 * Reads the whole file once (no text is kept) to learn whether it is UTF-8. A file with any byte sequence that
 * is not UTF-8 and no UTF-8 BOM is read as Windows-1252 (what Excel's plain "CSV" writes on Western Windows; a
 * superset of Latin-1), so `José` stays `José` instead of becoming `Jos�`. The whole file, not just its start,
 * decides: a file that is UTF-8 for its first 64 KiB and Latin-1 on line 50,000 is still read one way throughout.
 */
export async function detectEncoding(path: string): Promise<EncodingVerdict> {
  let carry: Buffer = Buffer.alloc(0);
  let line = 1;
  let pendingCr = false;
  let first = true;
  let bom = false;
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    let buf = carry.length > 0 ? Buffer.concat([carry, chunk as Buffer]) : (chunk as Buffer);
    if (first) {
      first = false;
      bom = buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf;
    }
    const cut = completeLength(buf);
    carry = Buffer.from(buf.subarray(cut));
    buf = buf.subarray(0, cut);
    if (!isUtf8(buf)) {
      const at = firstInvalidUtf8(buf);
      line += countLineBreaks(buf, 0, at, pendingCr);
      return { encoding: bom ? 'utf-8' : 'windows-1252', firstInvalid: { line, byte: buf[at] ?? 0 }, bom };
    }
    line += countLineBreaks(buf, 0, buf.length, pendingCr);
    pendingCr = buf.length > 0 && buf[buf.length - 1] === 0x0d;
    if (pendingCr) line--; // counted once its follower is known
  }
  if (carry.length > 0) {
    // The file ends in the middle of a multi-byte sequence.
    return { encoding: bom ? 'utf-8' : 'windows-1252', firstInvalid: { line, byte: carry[0] ?? 0 }, bom };
  }
  return { encoding: 'utf-8', firstInvalid: null, bom };
}

/** The verdict for bytes already in memory (the start of a file, or a test's). */
export function detectEncodingOf(bytes: Buffer): EncodingVerdict {
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  if (isUtf8(bytes)) return { encoding: 'utf-8', firstInvalid: null, bom };
  const at = firstInvalidUtf8(bytes);
  const line = 1 + countLineBreaks(bytes, 0, at, false);
  return { encoding: bom ? 'utf-8' : 'windows-1252', firstInvalid: { line, byte: bytes[at] ?? 0 }, bom };
}

/** Bytes 0x80–0x9F of Windows-1252 (Latin-1 has C1 controls there); undefined ones map to themselves. */
const CP1252_HIGH =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';
const C1 = /[\u0080-\u009f]/g;

/** Text decoded as Latin-1 (`latin1`, one char per byte) → the Windows-1252 text those bytes mean. */
export function latin1ToWindows1252(text: string): string {
  return text.replace(C1, (ch) => CP1252_HIGH[ch.charCodeAt(0) - 0x80] as string);
}

/** Decodes a file's bytes as the encoding says. */
export function decodeBytes(bytes: Buffer, encoding: InputEncoding): string {
  return encoding === 'utf-8' ? bytes.toString('utf8') : latin1ToWindows1252(bytes.toString('latin1'));
}

/** What the user is told when a file is not UTF-8; null when it is. */
export function encodingNote(file: string, verdict: EncodingVerdict): string | null {
  if (verdict.firstInvalid === null) return null;
  const { line, byte } = verdict.firstInvalid;
  const hex = `0x${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  return verdict.encoding === 'windows-1252'
    ? `${file}: line ${line}: not UTF-8 text (byte ${hex}); the file is read as Windows-1252 (Latin-1), as Excel's plain "CSV" writes it`
    : `${file}: line ${line}: not valid UTF-8 (byte ${hex}) although the file starts with a UTF-8 BOM; such bytes are read as U+FFFD (�)`;
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

/** Line breaks (LF, CRLF, lone CR) in buf[from, to); `crBefore`: the byte before `from` was a CR not yet counted. */
function countLineBreaks(buf: Buffer, from: number, to: number, crBefore: boolean): number {
  let count = crBefore && buf[from] !== 0x0a ? 1 : 0;
  for (let i = from; i < to; i++) {
    const b = buf[i];
    if (b === 0x0a) count++;
    else if (b === 0x0d && buf[i + 1] !== 0x0a) count++;
  }
  return count;
}
