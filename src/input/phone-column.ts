import { maskPhone } from '../core/e164.js';
import { oneLine, quoted } from '../core/one-line.js';
import { InputError } from './errors.js';

/** Header names taken for the phone column, most specific first; compared without case, spaces, `_`, `-`, `.`. */
const PHONE_HEADERS = [
  'msisdn',
  'e164',
  'phonee164',
  'mobilenumber',
  'mobilephone',
  'mobilephonenumber',
  'mobileno',
  'mobile',
  'cellphone',
  'cellnumber',
  'cell',
  'phonenumber',
  'phoneno',
  'phone',
  'telephonenumber',
  'telephone',
  'tel',
  'gsm',
  'contactnumber',
  'number',
];

/** Headers as messages list them. A file without a header row has a number there: it is masked, like in logs. */
export function listHeaders(headers: readonly string[]): string {
  const phoneLike = (h: string) => /^[\d\s+\-.()/]+$/.test(h) && (h.match(/\d/g)?.length ?? 0) >= 7;
  return headers.map((h) => quoted(phoneLike(h) ? maskPhone(h) : h)).join(', ');
}

function squash(name: string): string {
  return name.toLowerCase().replace(/[\s_\-.#]/g, '');
}

/**
 * Picks the phone column: `--column NAME` when given (exact name first, then loosely, then a 1-based position
 * such as `--column 5` for a file whose headers repeat), else the first header matching a common phone header
 * name. Returns the column index.
 */
export function choosePhoneColumn(file: string, headers: readonly string[], requested?: string): number {
  const listed = listHeaders(headers);
  if (requested !== undefined) {
    const exact = headers.indexOf(requested);
    if (exact >= 0) return exact;
    const loose = headers.findIndex((h) => squash(h) === squash(requested));
    if (loose >= 0) return loose;
    const position = /^\d+$/.test(requested.trim()) ? Number(requested.trim()) : 0;
    if (position >= 1 && position <= headers.length) return position - 1;
    throw new InputError(file, `no column named ${quoted(requested)}; the headers are ${listed}`);
  }
  const squashed = headers.map(squash);
  for (const name of PHONE_HEADERS) {
    const index = squashed.indexOf(name);
    if (index >= 0) return index;
  }
  throw new InputError(
    file,
    `no phone column found (looked for phone, mobile, msisdn, cell, tel, number …); the headers are ${listed}; name it with --column`,
  );
}

/**
 * When the chosen phone column's header appears more than once (the same name, up to case, spaces and `_`), says
 * which one is used and how to pick another; null otherwise. Taking the first silently could scan the wrong
 * numbers.
 */
export function duplicatePhoneHeaderNote(
  file: string,
  headers: readonly string[],
  chosen: number,
): string | null {
  const name = squash(headers[chosen] ?? '');
  const same = headers.flatMap((h, i) => (squash(h) === name ? [i + 1] : []));
  if (same.length < 2) return null;
  const others = same.filter((p) => p !== chosen + 1);
  return (
    `${oneLine(file)}: line 1: the phone column's header ${quoted(headers[chosen] ?? '')} appears ${same.length} times ` +
    `(columns ${same.join(', ')}); column ${chosen + 1} is used; choose another with --column ${others[0]}`
  );
}
