import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** The cookie a browser may carry the token in (for the dashboard). */
export const TOKEN_COOKIE = 'reachscan_token';

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/**
 * Checks presented tokens against the configured one in constant time: both sides are hashed first, so the
 * comparison neither stops at the first different byte nor reveals the token's length.
 */
export function createTokenCheck(token: string): (presented: string | null) => boolean {
  const expected = digest(token);
  return (presented) => presented !== null && timingSafeEqual(digest(presented), expected);
}

/**
 * The token a request presents: `Authorization: Bearer <token>` (API clients, Prometheus), the password of
 * `Authorization: Basic` (a browser's login prompt; the user name is ignored), or the `reachscan_token` cookie.
 */
export function presentedToken(headers: IncomingHttpHeaders): string | null {
  const authorization = headers.authorization;
  if (authorization !== undefined) {
    const [scheme = '', value = ''] = authorization.trim().split(/\s+/, 2);
    if (scheme.toLowerCase() === 'bearer' && value !== '') return value;
    if (scheme.toLowerCase() === 'basic' && value !== '') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      return colon >= 0 ? decoded.slice(colon + 1) : null;
    }
    return null;
  }
  return cookieValue(headers.cookie, TOKEN_COOKIE);
}

/** Query parameters a client may put a token in, by habit of other APIs. */
const QUERY_TOKEN_NAMES = ['token', 'access_token', 'api_token', 'api_key', 'apikey'];

/**
 * The name of a query parameter that carries a token (`?token=…`), or null. Never accepted: a URL is logged by
 * proxies and kept in browser history, so the API refuses it and says to use the Authorization header.
 */
export function tokenInQuery(url: string): string | null {
  const q = url.indexOf('?');
  if (q < 0) return null;
  for (const name of new URLSearchParams(url.slice(q + 1)).keys()) {
    const lower = name.toLowerCase();
    if (QUERY_TOKEN_NAMES.includes(lower)) return lower;
  }
  return null;
}

export function cookieValue(header: string | undefined, name: string): string | null {
  if (header === undefined) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      const raw = part.slice(eq + 1).trim();
      try {
        return decodeURIComponent(raw);
      } catch {
        return raw;
      }
    }
  }
  return null;
}
