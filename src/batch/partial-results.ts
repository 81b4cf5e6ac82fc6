import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import type { CountryCode, E164 } from '../core/e164.js';
import { normalisePhone } from '../input/phone.js';
import { readInput, type InputRecord } from '../input/reader.js';
import { decodeAnswer, resultFields } from '../core/answer.js';
import { resultsHeader, resultsRow } from '../output/write-outputs.js';
import type { RedisClient } from '../queue/connection.js';
import type { BatchJobData } from '../queue/job-data.js';

/** Input records read between two answer look-ups. */
const GROUP = 500;

/**
 * results.csv as far as the batch has got: the same header and columns as the final file, and only the rows
 * of the input whose number already has an answer (rows with an invalid number, which need no answer, come
 * with the final file). Built from the input and the batch's answers in Redis, streamed, never collected.
 */
export function partialResults(
  redis: RedisClient,
  answersKey: string,
  job: BatchJobData,
  inputPath: string,
): Readable {
  const csv = stringify({ bom: job.bom, record_delimiter: 'unix' });
  const rows = Readable.from(partialRows(redis, answersKey, job, inputPath));
  rows.on('error', (error) => csv.destroy(error));
  rows.pipe(csv);
  return csv;
}

async function* partialRows(
  redis: RedisClient,
  answersKey: string,
  job: BatchJobData,
  inputPath: string,
): AsyncGenerator<string[]> {
  yield resultsHeader(job.headers, job.formulaGuard);
  const country = (job.defaultCountry ?? undefined) as CountryCode | undefined;
  const shape = { delimiter: job.delimiter, headers: job.headers, sizeBytes: 0 };
  let group: { record: InputRecord; e164: E164 }[] = [];
  const flush = async function* () {
    const numbers = [...new Set(group.map((g) => g.e164))];
    const values = numbers.length > 0 ? await redis.hmget(answersKey, ...numbers) : [];
    const answers = new Map(numbers.map((n, i) => [n, values[i] ?? null]));
    for (const { record, e164 } of group) {
      const stored = answers.get(e164);
      if (stored === null || stored === undefined) continue;
      const fields = resultFields({ kind: 'valid', e164 } as const, decodeAnswer(stored));
      yield resultsRow(record.fields, fields, job.formulaGuard);
    }
    group = [];
  };
  for await (const item of readInput(inputPath, shape, job.displayName)) {
    if (item.kind === 'reject') continue;
    const phone = normalisePhone(item.fields[job.phoneColumn] ?? '', country);
    if (phone.kind !== 'valid') continue;
    group.push({ record: item, e164: phone.e164 });
    if (group.length >= GROUP) yield* flush();
  }
  yield* flush();
}
