import type { Clock } from '../../core/clock.js';
import type { LookupFailure } from '../../core/errors.js';

/**
 * A token, a final answer for the row (the network says no: not on a supported network, access denied), or
 * a classified failure of the exchange. `oauthError` is the OAuth `error` of a refusal when it said one
 * (`invalid_scope` lets a caller ask again with fewer scopes).
 */
export type TokenOutcome =
  | { readonly ok: true; readonly token: string; readonly expiresInS: number }
  | { readonly ok: false; readonly answer: { readonly code: string; readonly message: string } }
  | { readonly ok: false; readonly failure: LookupFailure; readonly oauthError?: string };

/**
 * Access tokens per key (a number and its scopes, or one key for a process-wide token), kept until shortly
 * before they expire. Concurrent callers for the same key share one exchange (single-flight). Tokens are
 * secrets: kept in memory only, never logged.
 */
export class TokenCache {
  private readonly tokens = new Map<string, { token: string; refreshAtMs: number }>();
  private readonly inFlight = new Map<string, Promise<TokenOutcome>>();
  /** Exchanges actually made (not served from the cache or shared). */
  exchanges = 0;

  constructor(
    private readonly clock: Clock,
    /** A token is not used in its last `marginMs`. */
    private readonly marginMs = 30_000,
    /** Most tokens kept; the oldest go first. */
    private readonly maxEntries = 50_000,
  ) {}

  async get(key: string, exchange: () => Promise<TokenOutcome>): Promise<TokenOutcome> {
    const cached = this.tokens.get(key);
    if (cached && this.clock() < cached.refreshAtMs) return { ok: true, token: cached.token, expiresInS: 0 };
    let pending = this.inFlight.get(key);
    if (!pending) {
      this.exchanges++;
      pending = exchange().then((outcome) => {
        if (outcome.ok) {
          if (this.tokens.size >= this.maxEntries)
            this.tokens.delete(this.tokens.keys().next().value as string);
          this.tokens.set(key, {
            token: outcome.token,
            refreshAtMs: this.clock() + outcome.expiresInS * 1000 - this.marginMs,
          });
        }
        return outcome;
      });
      const shared = pending.finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, shared);
      pending = shared;
    }
    return pending;
  }

  /** Forgets a token the API refused (revoked or expired early), unless a newer one replaced it already. */
  drop(key: string, token: string): void {
    if (this.tokens.get(key)?.token === token) this.tokens.delete(key);
  }
}
