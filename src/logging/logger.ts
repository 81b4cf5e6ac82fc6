import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/**
 * Header and field names that could carry secrets. Code never logs them on purpose; redaction is the second
 * line of defence should an object holding one be logged whole.
 */
const REDACT = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'token',
  '*.token',
  'access_token',
  '*.access_token',
  'privateKey',
  '*.privateKey',
  'private_key',
  '*.private_key',
];

/** Structured JSON lines, to stderr by default so stdout stays free for command output. */
export function createLogger(options: { level?: LogLevel; destination?: DestinationStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'reachscan' },
      redact: { paths: REDACT, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ fd: 2, sync: false }),
  );
}

/** A logger that drops everything, for library use and quiet tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
