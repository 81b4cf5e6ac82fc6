import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';

/** A phone number in E.164 form (`+` then 8–15 digits). Only {@link parseE164} and {@link asE164} make one. */
export type E164 = string & { readonly __brand: 'E164' };

/**
 * +990 is an unassigned ITU country code that Vonage's Playground uses for its Virtual Operator; libphonenumber
 * rightly calls such numbers invalid, but the sandbox answers them, so they are accepted as well-formed.
 */
const VIRTUAL_OPERATOR = /^\+990\d{4,12}$/;
const E164_SHAPE = /^\+[1-9]\d{6,14}$/;

/** Characters people and CRMs put inside numbers that carry no meaning. */
const SEPARATORS = /[\s\-.()/\u00a0]/g;

export type { CountryCode };

/** What a phone cell holds, as far as reachscan is concerned. */
export type PhoneCell =
  | { readonly kind: 'valid'; readonly e164: E164 }
  | { readonly kind: 'invalid'; readonly reason: string }
  /** A number Excel already turned into scientific notation (`4.47911E+11`): its digits are gone. */
  | { readonly kind: 'excel-mangled' };

/**
 * Parses a phone number as written by a person or a CRM into E.164, or returns null when it is not a valid
 * number. International forms (`+44…`, `0044…`) need no country; national forms need `defaultCountry`.
 */
export function parseE164(raw: string, defaultCountry?: CountryCode): E164 | null {
  let text = raw.trim().replace(SEPARATORS, '');
  if (text.startsWith('00')) text = `+${text.slice(2)}`;
  if (VIRTUAL_OPERATOR.test(text)) return text as E164;
  const parsed = parsePhoneNumberFromString(text, defaultCountry);
  if (!parsed || !parsed.isValid()) return null;
  return parsed.number as E164;
}

/** Trusts a string that already is E.164 (read back from our own storage); throws if it is not. */
export function asE164(value: string): E164 {
  if (!E164_SHAPE.test(value)) throw new TypeError(`not an E.164 number: ${maskPhone(value)}`);
  return value as E164;
}

/** Masks all but the last three digits, for logs: `+44*******456`. */
export function maskPhone(value: string): string {
  if (value.length <= 4) return '*'.repeat(value.length);
  const keep = 3;
  const head = value.startsWith('+') ? '+' : '';
  return head + '*'.repeat(value.length - head.length - keep) + value.slice(-keep);
}

export interface NumberFacts {
  /** True for numbers libphonenumber considers valid, and for the +990 Virtual Operator range. */
  readonly valid: boolean;
  readonly virtualOperator: boolean;
  /** libphonenumber's line type (`MOBILE`, `FIXED_LINE`, `FIXED_LINE_OR_MOBILE`, …), when known. */
  readonly type: string | undefined;
  /** ISO alpha-2 country of the number's home network, when known. */
  readonly country: string | undefined;
}

/** Facts about a number in strict E.164 form (no separators, leading `+`). */
export function describeNumber(e164: string): NumberFacts {
  if (VIRTUAL_OPERATOR.test(e164))
    return { valid: true, virtualOperator: true, type: 'MOBILE', country: undefined };
  const parsed = E164_SHAPE.test(e164) ? parsePhoneNumberFromString(e164) : undefined;
  if (!parsed || !parsed.isValid())
    return { valid: false, virtualOperator: false, type: undefined, country: undefined };
  return { valid: true, virtualOperator: false, type: parsed.getType(), country: parsed.country };
}
