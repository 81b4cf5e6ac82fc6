/**
 * User-controlled strings (file names, headers, option values, error messages that quote them) in one-line text
 * messages. A name is free text: a newline in it would end the log line and start a forged one, a CR would
 * overwrite it on a terminal, a bidirectional override would show it reversed.
 */

/**
 * Characters that must not reach a text line as they are: C0 controls, DEL and C1 controls, the Unicode line
 * and paragraph separators, the bidirectional and zero-width format characters, the BOM, and lone surrogates.
 */
const UNSAFE =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
/** The same set, to test (a global regex keeps state between test() calls). */
const NEEDS_QUOTES = new RegExp(UNSAFE.source);

const SHORT_ESCAPES: Readonly<Record<string, string>> = {
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
};

function escapeOne(ch: string): string {
  return SHORT_ESCAPES[ch] ?? `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/**
 * A string quoted and escaped as JSON writes it (`"a\nb.csv"`), with the characters JSON leaves alone but a
 * terminal or a log viewer would act on escaped too. For values a message always shows in quotes.
 */
export function quoted(text: string): string {
  return `"${text.replace(/["\\]/g, (ch) => `\\${ch}`).replace(UNSAFE, escapeOne)}"`;
}

/**
 * A name as it may appear in a one-line message: as it is when it is plain (`crm export.csv`,
 * `C:\data\x.csv`), else {@link quoted} (`"evil\nreachscan: done"`). Plain means no character of the unsafe
 * set, no space at either end, not empty and not starting with a quote, so a quoted form is never mistaken for
 * a plain name.
 */
export function oneLine(text: string): string {
  const plain = text !== '' && !text.startsWith('"') && text.trim() === text && !NEEDS_QUOTES.test(text);
  return plain ? text : quoted(text);
}

/**
 * A whole line about to be written, with any unsafe character left in it escaped (no quotes added): the last
 * guard for text that quotes a name without {@link oneLine}, such as a system error's message with a path.
 */
export function escapeControls(line: string): string {
  return line.replace(UNSAFE, escapeOne);
}
