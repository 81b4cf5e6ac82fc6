import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import { resultFields } from '../core/answer.js';
import type { CountryCode } from '../core/e164.js';
import { readNumberedBatches, recordGroups, validNumbers } from '../input/batch-records.js';
import { resultsHeader, resultsRow } from '../output/write-outputs.js';
import type { RedisClient } from '../queue/connection.js';
import type { BatchJobData } from '../queue/job-data.js';
import { fetchAnswers } from './answers.js';

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
  // Quoted like results.csv (see CsvFileWriter): a field with a lone CR must not end the row for a reader.
  const csv = stringify({ bom: job.bom, record_delimiter: 'unix', quote_record_delimiter: true });
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
  const source = {
    path: inputPath,
    shape: { delimiter: job.delimiter, headers: job.headers, sizeBytes: 0 },
    displayName: job.displayName,
    phoneColumn: job.phoneColumn,
    defaultCountry: (job.defaultCountry ?? undefined) as CountryCode | undefined,
  };
  for await (const group of recordGroups(readNumberedBatches(source), GROUP)) {
    const answers = await fetchAnswers(redis, answersKey, validNumbers(group));
    for (const record of group) {
      const answer = record.phone.kind === 'valid' ? answers.get(record.phone.e164) : undefined;
      if (answer !== undefined)
        yield resultsRow(record.fields, resultFields(record.phone, answer), job.formulaGuard);
    }
  }
}
