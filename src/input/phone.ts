import { parseE164, type CountryCode, type PhoneCell } from '../core/e164.js';

const EXCEL_SCIENTIFIC = /^[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+$/;
const DIGITS_ONLY = /^\d+$/;
/** `="+447400123456"`: how exports keep a spreadsheet from mangling a number (a formula that yields text). */
const EXCEL_TEXT_FORMULA = /^=\s*"([^"]*)"$/;

/**
 * Normalises a phone cell to E.164. `+44…` and `0044…` need no country; national forms (`07400 123456`) use
 * `defaultCountry`; bare international digits (`447400123456`) are tried with a `+` when they are not a valid
 * national number. Spaces, dashes, dots, slashes and brackets are ignored; an extension is dropped. Excel's
 * text formula `="…"` is read as the text it yields.
 */
export function normalisePhone(raw: string, defaultCountry?: CountryCode): PhoneCell {
  let text = raw.trim();
  const formula = EXCEL_TEXT_FORMULA.exec(text);
  if (formula !== null) text = (formula[1] ?? '').trim();
  if (text === '') return { kind: 'invalid', reason: 'no phone number' };
  if (EXCEL_SCIENTIFIC.test(text)) return { kind: 'excel-mangled' };
  const direct = parseE164(text, defaultCountry);
  if (direct !== null) return { kind: 'valid', e164: direct };
  const compact = text.replace(/[\s\-.()/\u00a0]/g, '');
  if (DIGITS_ONLY.test(compact) && !compact.startsWith('0')) {
    const international = parseE164(`+${compact}`);
    if (international !== null) return { kind: 'valid', e164: international };
  }
  return { kind: 'invalid', reason: 'not a valid phone number' };
}
