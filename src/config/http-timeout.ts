import { VONAGE_DEFAULTS } from './defaults.js';
import { readInteger, type Env } from './env.js';

/** REACHSCAN_HTTP_TIMEOUT_MS: one upstream call's time limit, shared by every provider's settings. */
export function readHttpTimeoutMs(env: Env, problems: string[]): number {
  return readInteger(env, 'REACHSCAN_HTTP_TIMEOUT_MS', VONAGE_DEFAULTS.httpTimeoutMs, problems, {
    min: 1,
    max: 600_000,
  });
}
