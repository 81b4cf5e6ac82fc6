import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import { stringify, type Stringifier } from 'csv-stringify';

/** Output files hold phone numbers: owner and group only, whatever the umask. */
export const OUTPUT_FILE_MODE = 0o640;
/** Output folders: group members may read results, nobody else. */
export const OUTPUT_FOLDER_MODE = 0o750;

/**
 * A CSV file written row by row with backpressure; `close()` resolves once every byte is on disk. The file's
 * errors (a full disk, say) reject the next `write()` or `close()`: they never go unheard, which would end the
 * process.
 */
export class CsvFileWriter {
  private readonly stringifier: Stringifier;
  /** Settles when the file is written and closed, or with the first error of either stream. */
  private readonly done: Promise<void>;
  private failure: Error | null = null;

  constructor(path: string, header: readonly string[], options: { bom?: boolean } = {}) {
    // quote_record_delimiter: a field holding a lone CR is quoted too (csv-stringify quotes only LF once the
    // record delimiter is set), else Excel and other readers would end the row there.
    this.stringifier = stringify({
      bom: options.bom ?? false,
      record_delimiter: 'unix',
      quote_record_delimiter: true,
    });
    // pipeline, not pipe: pipe drops the file's errors, and an unheard 'error' ends the process.
    this.done = pipeline(this.stringifier, createWriteStream(path, { mode: OUTPUT_FILE_MODE }));
    this.done.catch((error: unknown) => {
      this.failure ??= error instanceof Error ? error : new Error(String(error));
    });
    this.stringifier.write(header);
  }

  async write(values: readonly string[]): Promise<void> {
    if (this.failure !== null) throw this.failure;
    // A failed file never drains: its error ends the wait instead.
    if (!this.stringifier.write(values)) await Promise.race([once(this.stringifier, 'drain'), this.done]);
  }

  async close(): Promise<void> {
    if (this.failure === null) this.stringifier.end();
    await this.done;
  }

  /** Gives up on the file (another output failed): nothing more is written; the caller removes it. */
  async abort(): Promise<void> {
    this.stringifier.destroy();
    await this.done.catch(() => undefined);
  }
}
