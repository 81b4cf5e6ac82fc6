import { ConfigError } from '../core/errors.js';
import { isHttpUrl, readEnv, readInteger, type Env } from './env.js';

/** How webhooks are signed and delivered: REACHSCAN_WEBHOOK_* (see docs/webhooks.md). */
export interface WebhookSettings {
  /** The key under REACHSCAN_WEBHOOK_SECRET's `whsec_` prefix; null when unset (nothing is delivered). */
  readonly secret: Buffer | null;
  /** REACHSCAN_WEBHOOK_URL: where batches send their events when no --webhook / `webhook` option says. */
  readonly defaultUrl: string | null;
  /** One attempt's limit (connect, send, answer): REACHSCAN_WEBHOOK_TIMEOUT_MS. */
  readonly timeoutMs: number;
  /** The first retry delay, doubling per attempt with jitter: REACHSCAN_WEBHOOK_RETRY_BASE_MS. */
  readonly retryBaseMs: number;
  /** How long an event is retried before it is marked failed: REACHSCAN_WEBHOOK_RETRY_FOR_MS. */
  readonly retryForMs: number;
  /** REACHSCAN_PUBLIC_URL: how receivers reach `serve`, for the output links of batch events. */
  readonly publicUrl: string | null;
}

export const WEBHOOK_DEFAULTS = {
  timeoutMs: 10_000,
  retryBaseMs: 1_000,
  retryForMs: 24 * 3600_000,
} as const;

const SECRET_PREFIX = 'whsec_';

/**
 * The signing key of a Standard Webhooks secret: `whsec_` then base64. Anything else is refused, because a
 * receiver's library decodes the same way and would reject every signature.
 */
export function parseWebhookSecret(text: string): Buffer {
  const body = text.startsWith(SECRET_PREFIX) ? text.slice(SECRET_PREFIX.length) : null;
  if (body === null || !/^[A-Za-z0-9+/]+={0,2}$/.test(body) || body.length % 4 !== 0) {
    throw new ConfigError([
      'REACHSCAN_WEBHOOK_SECRET must be whsec_ followed by base64 (e.g. whsec_ and 24 or more random bytes in base64)',
    ]);
  }
  const key = Buffer.from(body, 'base64');
  if (key.length < 16)
    throw new ConfigError(['REACHSCAN_WEBHOOK_SECRET is too short: give at least 16 bytes after whsec_']);
  return key;
}

/** Checks a webhook URL wherever it comes from (a flag, a job file, an API option, the environment). */
export function checkWebhookUrl(text: string, source: string): string {
  if (!isHttpUrl(text)) throw new ConfigError([`${source} must be an http(s) URL (got "${text}")`]);
  return text;
}

/** Every REACHSCAN_WEBHOOK_* setting, read and checked once at start. */
export function webhookSettings(env: Env): WebhookSettings {
  const problems: string[] = [];
  const secretText = readEnv(env, 'REACHSCAN_WEBHOOK_SECRET');
  const urlText = readEnv(env, 'REACHSCAN_WEBHOOK_URL');
  const publicText = readEnv(env, 'REACHSCAN_PUBLIC_URL');
  const settings: WebhookSettings = {
    secret: secretText === undefined ? null : parseWebhookSecret(secretText),
    defaultUrl: urlText === undefined ? null : checkWebhookUrl(urlText, 'REACHSCAN_WEBHOOK_URL'),
    timeoutMs: readInteger(env, 'REACHSCAN_WEBHOOK_TIMEOUT_MS', WEBHOOK_DEFAULTS.timeoutMs, problems, {
      min: 100,
      max: 600_000,
    }),
    retryBaseMs: readInteger(env, 'REACHSCAN_WEBHOOK_RETRY_BASE_MS', WEBHOOK_DEFAULTS.retryBaseMs, problems, {
      min: 1,
      max: 3_600_000,
    }),
    retryForMs: readInteger(env, 'REACHSCAN_WEBHOOK_RETRY_FOR_MS', WEBHOOK_DEFAULTS.retryForMs, problems, {
      min: 0,
      max: 30 * 24 * 3600_000,
    }),
    publicUrl: publicText === undefined ? null : checkWebhookUrl(publicText, 'REACHSCAN_PUBLIC_URL'),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return settings;
}

/** A batch's webhook URL (flag, job file or API option, else REACHSCAN_WEBHOOK_URL); the secret must be set. */
export function batchWebhookUrl(
  given: string | undefined,
  source: string,
  settings: WebhookSettings,
): string | null {
  const url = given !== undefined ? checkWebhookUrl(given, source) : settings.defaultUrl;
  if (url !== null && settings.secret === null)
    throw new ConfigError([`${source}: webhooks are signed: set REACHSCAN_WEBHOOK_SECRET (whsec_…) too`]);
  return url;
}
