import { ConfigError, UsageError } from '../core/errors.js';
import type { ProviderName } from '../core/lookup-result.js';
import type { StateSecret } from '../core/settings.js';
import { CAMARA_DEFAULTS, VONAGE_DEFAULTS } from './defaults.js';
import { readEnv, type Env } from './env.js';

const SECRET_MIN_LENGTH = 16;
const PURPOSE_SHAPE = /^[A-Za-z][A-Za-z0-9_]{0,99}$/;

/** REACHSCAN_STATE_SECRET: the key of the HMAC that names the history's entries; null when not set. */
export function stateSecretFromEnv(env: Env): StateSecret {
  const secret = readEnv(env, 'REACHSCAN_STATE_SECRET');
  if (secret === undefined) return null;
  if (secret.length < SECRET_MIN_LENGTH)
    throw new ConfigError([`REACHSCAN_STATE_SECRET must be at least ${SECRET_MIN_LENGTH} characters`]);
  return secret;
}

/** The warning said where the history is kept while REACHSCAN_STATE_SECRET is not set. */
export const CLEAR_HISTORY_WARNING =
  'warning: REACHSCAN_STATE_SECRET is not set, so the history names each phone number in clear in Redis (see docs/privacy.md)';

/** The purpose a provider is configured with (VONAGE_PURPOSE, CAMARA_PURPOSE): a run's purpose by default. */
export function configuredPurpose(env: Env, provider: ProviderName): string {
  return provider === 'camara'
    ? (readEnv(env, 'CAMARA_PURPOSE') ?? CAMARA_DEFAULTS.purpose)
    : (readEnv(env, 'VONAGE_PURPOSE') ?? VONAGE_DEFAULTS.purpose);
}

/** `--purpose NAME`: why the run asks, recorded in report.json and the history. A name such as FraudPreventionAndDetection. */
export function purposeFlag(value: string | undefined, flag = 'purpose'): string | undefined {
  if (value === undefined) return undefined;
  if (!PURPOSE_SHAPE.test(value))
    throw new UsageError(
      `--${flag} must be a purpose name (a letter, then letters, digits or _; at most 100), e.g. FraudPreventionAndDetection (got "${value.slice(0, 40)}")`,
    );
  return value;
}

/** What a worker needs to write the history as configured: the secret that names entries, the default purpose. */
export function historyPrivacy(env: Env): {
  readonly stateSecret: StateSecret;
  readonly defaultPurpose: (provider: ProviderName) => string;
} {
  const stateSecret = stateSecretFromEnv(env);
  return { stateSecret, defaultPurpose: (provider) => configuredPurpose(env, provider) };
}
