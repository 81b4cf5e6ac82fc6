import { ConfigError } from '../core/errors.js';
import type { Env } from './env.js';

/**
 * `REACHSCAN_PUBLIC_URL`: how the operator reaches `reachscan serve` (its events go to `<url>/events/camara`).
 * An https URL in production; http is accepted for a local simulator. Null when unset.
 */
export function publicUrl(env: Env): string | null {
  const given = env.REACHSCAN_PUBLIC_URL?.trim();
  if (given === undefined || given === '') return null;
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw new ConfigError([
      `REACHSCAN_PUBLIC_URL must be a URL such as https://reachscan.example.com (got "${given}")`,
    ]);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new ConfigError([`REACHSCAN_PUBLIC_URL must be an http(s) URL (got "${given}")`]);
  return given.replace(/\/+$/, '');
}

/** How often `serve` looks for subscriptions to renew. */
export const MONITOR_RENEW_CHECK_MS = 60_000;
