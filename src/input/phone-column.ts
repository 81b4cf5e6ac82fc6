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

function squash(name: string): string {
  return name.toLowerCase().replace(/[\s_\-.#]/g, '');
}

/**
 * Picks the phone column: `--column NAME` when given (exact name first, then loosely), else the first header
 * matching a common phone header name. Returns the column index.
 */
export function choosePhoneColumn(file: string, headers: readonly string[], requested?: string): number {
  const listed = headers.map((h) => JSON.stringify(h)).join(', ');
  if (requested !== undefined) {
    const exact = headers.indexOf(requested);
    if (exact >= 0) return exact;
    const loose = headers.findIndex((h) => squash(h) === squash(requested));
    if (loose >= 0) return loose;
    throw new InputError(file, `no column named "${requested}"; the headers are ${listed}`);
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
