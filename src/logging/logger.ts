import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import { maskPhone } from '../core/e164.js';

export type Logger = PinoLogger;
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/**
 * Header and field names that could carry secrets. Code never logs them on purpose; redaction is the second
 * line of defence should an object holding one be logged whole (a request, a job's data, an HTTP exchange).
 */
const SECRET_FIELDS = [
  'authorization',
  'cookie',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'auth_req_id',
  'privateKey',
  'private_key',
  'privateKeyPem',
  'password',
  'secret',
];
/** Fields holding phone numbers (a lookup outcome, a request body, a chunk's data): masked as maskPhone does. */
const PHONE_FIELDS = ['phone', 'phoneNumber', 'phone_number', 'login_hint', 'msisdn', 'numbers'];

const REDACT = [
  ...[...SECRET_FIELDS, ...PHONE_FIELDS].flatMap((name) => [name, `*.${name}`]),
  '*.headers.authorization',
  '*.headers.cookie',
  'headers["set-cookie"]',
  '*.headers["set-cookie"]',
];

function censor(value: unknown, path: string[]): unknown {
  if (!PHONE_FIELDS.includes(path[path.length - 1] ?? '')) return '[redacted]';
  const mask = (v: unknown) => (typeof v === 'string' ? maskPhone(v) : '[redacted]');
  return Array.isArray(value) ? value.map(mask) : mask(value);
}

/** Structured JSON lines, to stderr by default so stdout stays free for command output. */
export function createLogger(options: { level?: LogLevel; destination?: DestinationStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'reachscan' },
      redact: { paths: REDACT, censor },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ fd: 2, sync: false }),
  );
}

/** A logger that drops everything, for library use and quiet tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
