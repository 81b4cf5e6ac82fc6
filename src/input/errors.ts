import { ReachscanError } from '../core/errors.js';
import { oneLine } from '../core/one-line.js';

/** The input file cannot be used at all (empty, binary, no header, no phone column): exit code 2. */
export class InputError extends ReachscanError {
  readonly file: string;
  constructor(file: string, message: string) {
    // The name first, escaped when it is not plain text: the message is one line whatever the file is called.
    super('INPUT_INVALID', `${oneLine(file)}: ${message}`);
    this.file = file;
  }
}
