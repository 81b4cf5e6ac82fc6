import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { stringify, type Stringifier } from 'csv-stringify';

/** Output files hold phone numbers: owner and group only, whatever the umask. */
export const OUTPUT_FILE_MODE = 0o640;
/** Output folders: group members may read results, nobody else. */
export const OUTPUT_FOLDER_MODE = 0o750;

/** A CSV file written row by row with backpressure; `close()` resolves once every byte is on disk. */
export class CsvFileWriter {
  private readonly stringifier: Stringifier;
  private readonly file: WriteStream;

  constructor(path: string, header: readonly string[], options: { bom?: boolean } = {}) {
    // quote_record_delimiter: a field holding a lone CR is quoted too (csv-stringify quotes only LF once the
    // record delimiter is set), else Excel and other readers would end the row there.
    this.stringifier = stringify({
      bom: options.bom ?? false,
      record_delimiter: 'unix',
      quote_record_delimiter: true,
    });
    this.file = createWriteStream(path, { mode: OUTPUT_FILE_MODE });
    this.stringifier.pipe(this.file);
    this.stringifier.write(header);
  }

  async write(values: readonly string[]): Promise<void> {
    if (!this.stringifier.write(values)) await once(this.stringifier, 'drain');
  }

  async close(): Promise<void> {
    this.stringifier.end();
    await finished(this.file);
  }
}
