import type { Env } from '../config/env.js';
import type { Clock } from '../core/clock.js';
import { escapeControls } from '../core/one-line.js';

/** What a command may touch: passed in so tests can run commands in-process. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: Env;
  /** Resolves when the user asks the program to stop (SIGINT/SIGTERM). */
  readonly stopSignal: Promise<string>;
  /** The one clock of a run (checks, history, cache, reports); tests move it to simulate days passing. */
  readonly clock?: Clock;
}

/**
 * One line per call to `stream`, after `prefix`. A character that would end the line or disguise it (a newline
 * in a file name, a CR, a bidirectional override) is written escaped: what one call says stays one line.
 */
export function lineWriter(stream: NodeJS.WritableStream, prefix: string): (line: string) => void {
  return (line) => {
    stream.write(`${prefix}${escapeControls(line)}\n`);
  };
}
