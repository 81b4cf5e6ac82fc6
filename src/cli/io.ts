import type { Env } from '../config/env.js';
import type { Clock } from '../core/clock.js';

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
