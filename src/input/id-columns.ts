import { UsageError } from '../core/errors.js';
import { listHeaders } from './phone-column.js';

/** How many input columns identify a row in the reports when `--id-columns` is not given. */
export const DEFAULT_ID_COLUMNS = 2;

/**
 * The input columns that tell a person which row a number belongs to (a customer id, a name), shown beside
 * each number in the reports' longest-gaps list. Named with `--id-columns a,b`: each name matched exactly,
 * else without regard to case, spaces, `_`, `-` and `.`; an unknown name is a usage error that lists the file's
 * columns. Otherwise the first two columns that are not the phone column: a file laid out `phone,id,name` shows
 * `id,name`, not the number twice.
 */
export function chooseIdColumns(
  file: string,
  headers: readonly string[],
  phoneColumn: number,
  requested?: readonly string[],
): number[] {
  if (requested === undefined) return defaultIdColumns(headers.length, phoneColumn);
  const squash = (name: string) => name.toLowerCase().replace(/[\s_\-.]/g, '');
  const chosen: number[] = [];
  for (const name of requested) {
    let index = headers.indexOf(name);
    if (index < 0) index = headers.findIndex((h) => squash(h) === squash(name));
    if (index < 0) {
      throw new UsageError(
        `--id-columns: ${file} has no column named ${JSON.stringify(name)}; its columns are ${listHeaders(headers)}`,
      );
    }
    if (!chosen.includes(index)) chosen.push(index);
  }
  return chosen;
}

/** The first {@link DEFAULT_ID_COLUMNS} column positions other than the phone column (-1 when not known). */
export function defaultIdColumns(columns: number, phoneColumn: number): number[] {
  const chosen: number[] = [];
  for (let i = 0; i < columns && chosen.length < DEFAULT_ID_COLUMNS; i++) {
    if (i !== phoneColumn) chosen.push(i);
  }
  return chosen;
}
