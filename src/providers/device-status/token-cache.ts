import type { Clock } from '../../core/clock.js';
import type { TokenOutcome } from './back-channel.js';

/**
 * Access tokens per (number, scope), kept until shortly before they expire. Concurrent callers for the same
 * key share one exchange (single-flight). Tokens are secrets: kept in memory only, never logged.
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
