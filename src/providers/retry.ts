import { setTimeout as sleep } from 'node:timers/promises';
import type { E164 } from '../core/e164.js';
import type { LookupOutcome } from '../core/lookup-result.js';
import type { ReachabilityProvider } from './provider.js';

export interface RetryPolicy {
  /** Attempts in all for transient failures, the first included. */
  readonly attempts: number;
  /** First backoff, in milliseconds; doubles each attempt, with full jitter. */
  readonly baseDelayMs: number;
  /** Upper bound of one backoff wait, in milliseconds. */
  readonly maxDelayMs: number;
  /** 429s get their own budget: waiting as asked is not a failed attempt, but it cannot go on forever. */
  readonly rateLimitWaits: number;
  /** Longest Retry-After honoured as given; longer asks are cut to this (ms). */
  readonly maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 4,
  baseDelayMs: 250,
  maxDelayMs: 10_000,
  rateLimitWaits: 10,
  maxRetryAfterMs: 60_000,
};

/** Exponential backoff with full jitter ("AWS full jitter"): spreads retries so they don't arrive together. */
export function backoffMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(random() * ceiling);
}

/**
 * Looks a number up, retrying what the classification says is worth it: retryable failures and transient
 * insight codes back off exponentially; a 429 waits what the carrier asked (plus up to 10% jitter, or a
 * backoff when it didn't say) without using an attempt. Fatal, permanent and pausing failures return at once. The
 * queue uses BullMQ's own retries instead; this serves single lookups from the command line.
 */
export async function lookupWithRetries(
  provider: ReachabilityProvider,
  phoneNumber: E164,
  policy: RetryPolicy = DEFAULT_RETRY,
  signal?: AbortSignal,
  random: () => number = Math.random,
): Promise<LookupOutcome> {
  let attempt = 1;
  let rateLimited = 0;
  for (;;) {
    const outcome = await provider.lookup(phoneNumber, signal ? { signal } : {});
    // A refusal of how we ask, or a used-up quota: asking again would only be refused again.
    if (outcome.kind === 'failed' && outcome.failure.pause !== undefined) return outcome;
    let wait: number | null = null;
    if (
      outcome.kind === 'failed' &&
      outcome.failure.retry === 'rate-limited' &&
      rateLimited < policy.rateLimitWaits
    ) {
      rateLimited++;
      const asked = outcome.failure.retryAfterMs;
      wait =
        asked !== undefined
          ? Math.min(asked, policy.maxRetryAfterMs) * (1 + random() * 0.1)
          : backoffMs(rateLimited, policy, random);
    } else {
      const retryable =
        outcome.kind === 'answered'
          ? outcome.transient
          : outcome.failure.retry === 'retryable' || outcome.failure.retry === 'rate-limited';
      if (!retryable || attempt >= policy.attempts) return outcome;
      wait = backoffMs(attempt, policy, random);
      attempt++;
    }
    await sleep(Math.round(wait), undefined, signal ? { signal } : {});
  }
}
