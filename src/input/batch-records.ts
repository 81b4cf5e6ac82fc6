import type { CountryCode, E164, PhoneCell } from '../core/e164.js';
import { normalisePhone } from './phone.js';
import { readInputBatches, type InputRecord, type InputReject } from './reader.js';
import type { InputShape } from './sniff.js';

/** A data record with its phone cell already normalised. */
export interface NumberedRecord extends InputRecord {
  readonly phone: PhoneCell;
}

export type NumberedItem = NumberedRecord | InputReject;

/** Where a batch's records come from and how its numbers are read. */
export interface RecordSource {
  readonly path: string;
  readonly shape: InputShape;
  /** Messages name the file this way. */
  readonly displayName: string;
  readonly phoneColumn: number;
  readonly defaultCountry?: CountryCode | undefined;
}

/** Records handled between two turns of the event loop (see {@link recordGroups}). */
const YIELD_EVERY = 50;

/**
 * The one way a batch's input is read, for every pass over it (ingest, outputs, partial results, plan): records
 * in file order with their normalised number, rejects in their place. Records before `fromIndex` (a resumed
 * ingest's cursor) are skipped without normalising them.
 */
export async function* readNumberedRecords(
  source: RecordSource,
  fromIndex = 0,
): AsyncGenerator<NumberedItem> {
  for await (const batch of readNumberedBatches(source, fromIndex)) yield* batch;
}

/** {@link readNumberedRecords}'s items several at a time, as the reader hands them over. */
export async function* readNumberedBatches(
  source: RecordSource,
  fromIndex = 0,
): AsyncGenerator<readonly NumberedItem[]> {
  for await (const batch of readInputBatches(source.path, source.shape, source.displayName)) {
    const numbered: NumberedItem[] = [];
    for (const item of batch) {
      if (item.kind === 'reject') numbered.push(item);
      else if (item.index >= fromIndex) numbered.push(withPhone(item, source));
    }
    if (numbered.length > 0) yield numbered;
  }
}

function withPhone(item: InputRecord, source: RecordSource): NumberedRecord {
  // The number joins the record the reader made rather than a copy of it: a copy per record doubled what
  // the garbage collector has to do on a 10-million-row file.
  const record = item as InputRecord & { phone?: PhoneCell };
  record.phone = normalisePhone(item.fields[source.phoneColumn] ?? '', source.defaultCountry);
  return record as NumberedRecord;
}

/**
 * Groups records `size` at a time (the last group may be smaller), handing each reject to `onReject` as it
 * comes. A turn of the event loop is taken every few records: records parsed from one file read are all handed
 * over at once, so without it the Redis replies a caller waits for would be read only once per file read.
 */
export async function* recordGroups(
  batches: AsyncIterable<readonly NumberedItem[]>,
  size: number,
  onReject: (reject: InputReject) => void | Promise<void> = () => undefined,
): AsyncGenerator<NumberedRecord[]> {
  let group: NumberedRecord[] = [];
  for await (const batch of batches) {
    for (const item of batch) {
      if (item.kind === 'reject') {
        await onReject(item);
        continue;
      }
      group.push(item);
      if (group.length >= size) {
        yield group;
        group = [];
      } else if (group.length % YIELD_EVERY === 0) await new Promise(setImmediate);
    }
  }
  if (group.length > 0) yield group;
}

/** The distinct valid numbers of a group, in first-seen order. */
export function validNumbers(group: readonly NumberedRecord[]): E164[] {
  const numbers = new Set<E164>();
  for (const { phone } of group) if (phone.kind === 'valid') numbers.add(phone.e164);
  return [...numbers];
}
