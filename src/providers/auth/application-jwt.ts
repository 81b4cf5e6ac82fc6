import { randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Clock } from '../../core/clock.js';

export interface ApplicationJwtOptions {
  readonly applicationId: string;
  readonly privateKey: KeyObject;
  readonly clock: Clock;
  /** Lifetime of each token, in seconds. Default 900 (Vonage's default); at most 86,400. */
  readonly ttlSeconds?: number;
  /** A token is replaced this many seconds before it expires, so none is sent stale. Default 60. */
  readonly refreshMarginSeconds?: number;
}

/** Hands out the current application JWT, signing a new one only when the last is close to expiry. */
export interface ApplicationJwtSource {
  get(): Promise<string>;
  /** How many tokens have been signed; signing costs real CPU, so this should stay small. */
  readonly signedCount: number;
}

const MAX_TTL_SECONDS = 86_400;

/**
 * The Vonage application JWT: RS256, `application_id`, `iat`, `jti`, `exp`, and no `acl` (network APIs).
 * Concurrent callers during a refresh share one signing.
 */
export function createApplicationJwtSource(options: ApplicationJwtOptions): ApplicationJwtSource {
  const ttl = options.ttlSeconds ?? 900;
  const margin = options.refreshMarginSeconds ?? 60;
  if (!(ttl > margin && ttl <= MAX_TTL_SECONDS)) {
    throw new RangeError(`JWT lifetime must be above the refresh margin (${margin} s) and at most 24 h`);
  }
  let current: { token: string; refreshAtMs: number } | null = null;
  let pending: Promise<string> | null = null;
  let signedCount = 0;

  async function sign(): Promise<string> {
    const iat = Math.floor(options.clock() / 1000);
    const token = await new SignJWT({ application_id: options.applicationId })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
      .setIssuedAt(iat)
      .setJti(randomUUID())
      .setExpirationTime(iat + ttl)
      .sign(options.privateKey);
    signedCount += 1;
    current = { token, refreshAtMs: (iat + ttl - margin) * 1000 };
    return token;
  }

  return {
    get(): Promise<string> {
      if (current !== null && options.clock() < current.refreshAtMs) return Promise.resolve(current.token);
      pending ??= sign().finally(() => {
        pending = null;
      });
      return pending;
    },
    get signedCount() {
      return signedCount;
    },
  };
}
