import { ReachscanError } from '../core/errors.js';

/** The input file cannot be used at all (empty, binary, no header, no phone column): exit code 2. */
export class InputError extends ReachscanError {
  readonly file: string;
  constructor(file: string, message: string) {
    super('INPUT_INVALID', `${file}: ${message}`);
    this.file = file;
  }
}
