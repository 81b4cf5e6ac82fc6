/**
 * A cell's text as Excel shows it: the number format applied to the stored value. Pure (no I/O). It covers the
 * formats exports use (General, fixed decimals, thousands, percent, scientific, dates and times, text `@`,
 * quoted literals); anything it cannot read falls back to General.
 */

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/**
 * The built-in short date (format 14) is stored as `mm-dd-yy` but Excel shows it in the machine's short date
 * form; reachscan shows Excel's en-US form.
 */
const BUILT_IN_SHORT_DATE = 'mm-dd-yy';
const SHORT_DATE_SHOWN = 'm/d/yyyy';

/** General: what Excel shows in a standard-width column (11 characters; larger numbers in scientific form). */
export function formatGeneral(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 1e11 || abs < 1e-9) return scientific(value, 5);
  const text = Number(value.toPrecision(abs >= 1 ? 11 : 10)).toString();
  return text.length <= 12 ? text : Number(value.toPrecision(9)).toString();
}

/** `4.47701E+11`: Excel's scientific form, trailing zeros of the mantissa dropped. */
function scientific(value: number, decimals: number, keepZeros = false): string {
  const [mantissa = '0', exponent = '0'] = value.toExponential(decimals).split('e');
  const shown = keepZeros ? mantissa : mantissa.replace(/\.?0+$/, '');
  const power = Number(exponent);
  return `${shown}E${power < 0 ? '-' : '+'}${String(Math.abs(power)).padStart(2, '0')}`;
}

/** Splits a format into its sections (positive;negative;zero;text), quotes respected. */
function sections(format: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < format.length; i++) {
    const ch = format[i] as string;
    if (ch === '"') quoted = !quoted;
    if (ch === '\\' && !quoted) {
      current += ch + (format[i + 1] ?? '');
      i++;
      continue;
    }
    if (ch === ';' && !quoted) {
      parts.push(current);
      current = '';
      continue;
    }
    current += ch;
  }
  parts.push(current);
  return parts;
}

/** Removes colours and conditions (`[Red]`, `[>100]`); a currency tag `[$€-407]` keeps its symbol. */
function dropBrackets(section: string): string {
  return section.replace(/\[\$([^\]-]*)(?:-[^\]]*)?\]/g, '"$1"').replace(/\[[^\]]*\]/g, '');
}

/** Whether a format shows a date or time (letters outside quotes). */
export function isDateFormat(format: string): boolean {
  const plain = format
    .replace(/"[^"]*"/g, '')
    .replace(/\\./g, '')
    .replace(/\[[^\]]*\]/g, '');
  return /[ymdhs]/i.test(plain) && !/^general$/i.test(plain.trim());
}

/** A number cell's text: `format` applied to `value`. */
export function formatNumber(value: number, format: string | undefined): string {
  const fmt = (format ?? '').trim();
  if (fmt === '' || /^general$/i.test(fmt) || fmt === '@') return formatGeneral(value);
  const parts = sections(fmt);
  let section = parts[0] ?? '';
  let shown = value;
  if (value < 0 && parts.length > 1) {
    section = parts[1] ?? section;
    shown = -value;
  } else if (value === 0 && parts.length > 2) {
    section = parts[2] ?? section;
  }
  section = dropBrackets(section);
  if (/^general$/i.test(section.trim())) return formatGeneral(shown);
  return numberWithPattern(shown, section) ?? formatGeneral(value);
}

/** Applies one section's digits, decimals, thousands, percent or exponent; null when it is not understood. */
function numberWithPattern(value: number, section: string): string | null {
  const literal = /"([^"]*)"|\\(.)|([^"\\]+)/g;
  let prefix = '';
  let suffix = '';
  let pattern = '';
  for (const m of section.matchAll(literal)) {
    const text = m[1] ?? m[2];
    if (text !== undefined) {
      if (pattern === '') prefix += text;
      else suffix += text;
      continue;
    }
    const raw = m[3] ?? '';
    const digits = /[0#?.,%Ee+-]*[0#?][0#?.,%Ee+-]*/.exec(raw);
    if (digits === null || pattern !== '') {
      if (pattern === '') prefix += raw.replace(/_.|\*./g, '');
      else suffix += raw.replace(/_.|\*./g, '');
      continue;
    }
    prefix += raw.slice(0, digits.index).replace(/_.|\*./g, '');
    pattern = digits[0];
    suffix += raw.slice(digits.index + pattern.length).replace(/_.|\*./g, '');
  }
  if (pattern === '') return null;
  const percent = pattern.includes('%') || suffix.includes('%') ? 100 : 1;
  const exponent = /[Ee][+-]/.exec(pattern);
  const body = exponent === null ? pattern : pattern.slice(0, exponent.index);
  const decimals = (/\.([0#?]*)/.exec(body)?.[1] ?? '').length;
  const scaled = value * percent;
  let text: string;
  if (exponent !== null) {
    text = scientific(scaled, decimals, true);
  } else {
    const fixed = Math.abs(scaled).toFixed(decimals);
    const [int = '0', frac] = fixed.split('.');
    const minInt = (/^[^.]*/.exec(body)?.[0].match(/0/g) ?? []).length;
    let whole = minInt === 0 && int === '0' ? '' : int.padStart(minInt, '0');
    if (body.includes(',')) whole = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    text = frac === undefined ? whole : `${whole}.${frac}`;
    if (scaled < 0 && Number(fixed) !== 0) text = `-${text}`;
  }
  return `${prefix}${text}${pattern.includes('%') ? '%' : ''}${suffix}`;
}

/**
 * A date cell's text. `date` holds Excel's wall-clock time in its UTC fields (how the workbook stores it: no
 * zone), so it is read with the UTC getters.
 */
export function formatDate(date: Date, format: string | undefined): string {
  let fmt = dropBrackets(sections(format ?? '')[0] ?? '').trim();
  if (fmt === BUILT_IN_SHORT_DATE) fmt = SHORT_DATE_SHOWN;
  if (fmt === '' || !isDateFormat(fmt)) fmt = 'yyyy-mm-dd hh:mm:ss';
  const twelveHour = /AM\/PM|A\/P/i.test(fmt);
  const tokens = /"[^"]*"|\\.|AM\/PM|A\/P|y+|m+|d+|h+|s+(?:\.0+)?|./gi;
  const found = [...fmt.matchAll(tokens)].map((m) => m[0]);
  return found
    .map((token, i) => {
      const lower = token.toLowerCase();
      // `m` after an hour or before a second is minutes, otherwise the month.
      if (lower.startsWith('m')) {
        const before = found
          .slice(0, i)
          .reverse()
          .find((t) => /^[a-z]/i.test(t) && !/^m/i.test(t));
        const after = found.slice(i + 1).find((t) => /^[a-z]/i.test(t) && !/^m/i.test(t));
        const minutes = lower.length <= 2 && (/^h/i.test(before ?? '') || /^s/i.test(after ?? ''));
        return minutes ? pad(date.getUTCMinutes(), lower.length) : month(date, lower.length);
      }
      return dateToken(date, token, twelveHour);
    })
    .join('');
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

function month(date: Date, width: number): string {
  const name = MONTHS[date.getUTCMonth()] ?? '';
  if (width >= 5) return name.charAt(0);
  if (width === 4) return name;
  if (width === 3) return name.slice(0, 3);
  return pad(date.getUTCMonth() + 1, width);
}

function dateToken(date: Date, token: string, twelveHour: boolean): string {
  const lower = token.toLowerCase();
  if (token.startsWith('"')) return token.slice(1, -1);
  if (token.startsWith('\\')) return token.slice(1);
  if (lower === 'am/pm') return date.getUTCHours() < 12 ? 'AM' : 'PM';
  if (lower === 'a/p') return date.getUTCHours() < 12 ? 'A' : 'P';
  const c = lower.charAt(0);
  if (c === 'y')
    return lower.length <= 2 ? pad(date.getUTCFullYear() % 100, 2) : String(date.getUTCFullYear());
  if (c === 'd') {
    const day = DAYS[date.getUTCDay()] ?? '';
    if (lower.length >= 4) return day;
    if (lower.length === 3) return day.slice(0, 3);
    return pad(date.getUTCDate(), lower.length);
  }
  if (c === 'h') {
    const hours = date.getUTCHours();
    return pad(twelveHour ? hours % 12 || 12 : hours, Math.min(lower.length, 2));
  }
  if (c === 's') {
    const [, fraction = ''] = lower.split('.');
    const whole = pad(date.getUTCSeconds(), 2);
    if (fraction === '') return whole;
    const ms = pad(date.getUTCMilliseconds(), 3).slice(0, fraction.length);
    return `${whole}.${ms}`;
  }
  return token;
}

/** Excel's serial day number (1900 system) as the wall-clock time it stands for, in the UTC fields. */
export function serialToDate(serial: number, date1904 = false): Date {
  const epoch = date1904 ? Date.UTC(1904, 0, 1) : Date.UTC(1899, 11, 30);
  return new Date(Math.round(epoch + serial * 86_400_000));
}
